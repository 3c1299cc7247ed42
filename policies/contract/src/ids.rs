//! Stable identities of what a policy observes and acts on: sites, ASIC
//! cohorts and GPU pools, named after the scenario (or the bridge's
//! configuration), never by position.
//!
//! A live fleet gains and loses devices; an id keeps naming the same thing
//! whatever else comes or goes, so a policy's state keyed by id stays
//! right, and an action aimed at something that no longer exists is
//! refused by id instead of landing on a neighbour. Ids are cheap to clone
//! (a shared string) and serialise as plain strings.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(Arc<str>);

        impl $name {
            /// The id as written.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                $name(Arc::from(id))
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                $name(Arc::from(id))
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map($name::from)
            }
        }
    };
}

id_type!(
    /// A site, by its name (`texas-north`).
    SiteId
);
id_type!(
    /// An ASIC cohort: identical miners of one model on one firmware at one
    /// site, `site/model/firmware` (`texas-north/S21/luxos`).
    CohortId
);
id_type!(
    /// A GPU pool: GPUs of one model at one site, `site/gpu`
    /// (`texas-north/H100`).
    PoolId
);

impl CohortId {
    /// The id of `model` miners on `firmware` at `site`.
    pub fn of(site: &SiteId, model: &str, firmware: &str) -> CohortId {
        CohortId::from(format!("{site}/{model}/{firmware}"))
    }
}

impl PoolId {
    /// The id of the `gpu` pool at `site`.
    pub fn of(site: &SiteId, gpu: &str) -> PoolId {
        PoolId::from(format!("{site}/{gpu}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_built_from_the_scenario_names_and_read_back_as_strings() {
        let site = SiteId::from("texas-north");
        let cohort = CohortId::of(&site, "S21", "luxos");
        let pool = PoolId::of(&site, "H100");
        assert_eq!(cohort.as_str(), "texas-north/S21/luxos");
        assert_eq!(pool.to_string(), "texas-north/H100");
        let json = serde_json::to_string(&(site.clone(), cohort.clone())).unwrap();
        assert_eq!(json, r#"["texas-north","texas-north/S21/luxos"]"#);
        let back: (SiteId, CohortId) = serde_json::from_str(&json).unwrap();
        assert_eq!(back, (site, cohort));
    }
}
