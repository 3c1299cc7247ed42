//! Shadow mode and arming. A site is armed only when its configuration
//! allows it (`allow_arming = true`) *and* an operator armed it (the
//! command line's `--arm` or the API's arm call); until then the bridge
//! observes, decides and logs what it would send, and sends nothing that
//! changes a device. Disarming and the emergency stop are always allowed
//! and take effect before the next command is sent.

use std::collections::BTreeSet;

use crate::config::BridgeConfig;

/// Which sites are armed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Arming {
    armed: BTreeSet<String>,
    allowed: BTreeSet<String>,
    known: BTreeSet<String>,
}

impl Arming {
    /// Every site disarmed, with the configuration's permissions.
    pub fn new(config: &BridgeConfig) -> Arming {
        Arming {
            armed: BTreeSet::new(),
            allowed: config
                .sites
                .iter()
                .filter(|s| s.allow_arming)
                .map(|s| s.id.clone())
                .collect(),
            known: config.sites.iter().map(|s| s.id.clone()).collect(),
        }
    }

    /// Arms `sites` (empty: every site the configuration allows); all or
    /// nothing.
    ///
    /// # Errors
    /// A site that is unknown or whose configuration forbids arming, or no
    /// site that may be armed at all.
    pub fn arm(&mut self, sites: &[String]) -> Result<Vec<String>, String> {
        let wanted: Vec<String> = if sites.is_empty() {
            self.allowed.iter().cloned().collect()
        } else {
            sites.to_vec()
        };
        if wanted.is_empty() {
            return Err(
                "no site allows arming (set allow_arming = true in its [[sites]] table)".into(),
            );
        }
        for s in &wanted {
            if !self.known.contains(s) {
                return Err(format!("no site '{s}' in the configuration"));
            }
            if !self.allowed.contains(s) {
                return Err(format!(
                    "site '{s}' does not allow arming (its allow_arming is false)"
                ));
            }
        }
        self.armed.extend(wanted.iter().cloned());
        Ok(wanted)
    }

    /// Disarms every site.
    pub fn disarm(&mut self) {
        self.armed.clear();
    }

    /// Whether `site` is armed.
    pub fn is_armed(&self, site: &str) -> bool {
        self.armed.contains(site)
    }

    /// The armed sites.
    pub fn armed(&self) -> Vec<String> {
        self.armed.iter().cloned().collect()
    }
}
