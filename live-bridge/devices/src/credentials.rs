//! Firmware credentials, from the environment or from a file the bridge
//! configuration names — never from a scenario file — held so that they
//! cannot reach a log: [`Secret`] prints as `***` through `Debug` and
//! `Display`, and the only way to the text is [`Secret::expose`], called
//! where a request is built.
//!
//! A credentials file is TOML-free plain text, one `firmware = user:password`
//! line per firmware (`#` starts a comment), so that it can be written with
//! `echo` and kept `chmod 600`. The environment names are
//! `HCP_<FIRMWARE>_USER` and `HCP_<FIRMWARE>_PASSWORD`
//! (`HCP_BRAIINS_OS_PASSWORD`); they win over the file.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use crate::miner::Firmware;

/// A secret string that never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `text`.
    pub fn new(text: impl Into<String>) -> Self {
        Secret(text.into())
    }

    /// The secret's text, for building a request and nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A user name and password for one firmware.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    /// The user name (not secret, but kept out of errors anyway).
    pub user: String,
    /// The password.
    pub password: Secret,
}

/// Logins by firmware.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    logins: BTreeMap<Firmware, Login>,
}

/// A credentials file that could not be read. Its message names the file
/// and the line, never the line's text (which may hold a password).
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// The file could not be read.
    #[error("credentials file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A line is not `firmware = user:password` with a known firmware.
    #[error("credentials file {path}, line {line}: {problem}")]
    Line {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong, without the line's text.
        problem: String,
    },
}

const FIRMWARES: [Firmware; 4] = [
    Firmware::AntminerStock,
    Firmware::LuxOs,
    Firmware::BraiinsOs,
    Firmware::Whatsminer,
];

impl Credentials {
    /// The login for `firmware`, if one was given.
    pub fn login(&self, firmware: Firmware) -> Option<&Login> {
        self.logins.get(&firmware)
    }

    /// Sets the login for `firmware`.
    pub fn insert(&mut self, firmware: Firmware, login: Login) {
        self.logins.insert(firmware, login);
    }

    /// Logins from the file at `path` (if any), then from the environment
    /// (`env` is `std::env::var` in the bridge, a map in tests).
    ///
    /// # Errors
    /// The file cannot be read or a line is malformed.
    pub fn load(
        path: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, CredentialsError> {
        let mut credentials = match path {
            Some(p) => Self::parse_file(p)?,
            None => Credentials::default(),
        };
        for firmware in FIRMWARES {
            let prefix = format!("HCP_{}", firmware.name().to_uppercase());
            if let Some(password) = env(&format!("{prefix}_PASSWORD")) {
                let user = env(&format!("{prefix}_USER"))
                    .or_else(|| credentials.login(firmware).map(|l| l.user.clone()))
                    .unwrap_or_else(|| "root".to_owned());
                credentials.insert(
                    firmware,
                    Login {
                        user,
                        password: Secret::new(password),
                    },
                );
            }
        }
        Ok(credentials)
    }

    fn parse_file(path: &Path) -> Result<Self, CredentialsError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| CredentialsError::Io {
            path: shown.clone(),
            source,
        })?;
        Self::parse(&shown, &text)
    }

    /// Parses the text of a credentials file named `path`.
    ///
    /// # Errors
    /// A malformed line or an unknown firmware.
    pub fn parse(path: &str, text: &str) -> Result<Self, CredentialsError> {
        let mut credentials = Credentials::default();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let bad = |problem: &str| CredentialsError::Line {
                path: path.to_owned(),
                line: i + 1,
                problem: problem.to_owned(),
            };
            let (name, login) = line
                .split_once('=')
                .ok_or_else(|| bad("expected 'firmware = user:password'"))?;
            let name = name.trim();
            let firmware = FIRMWARES
                .into_iter()
                .find(|f| f.name() == name)
                .ok_or_else(|| {
                    bad(&format!(
                        "unknown firmware '{name}' (known: antminer_stock, luxos, braiins_os, whatsminer)"
                    ))
                })?;
            let (user, password) = login
                .trim()
                .split_once(':')
                .ok_or_else(|| bad("expected 'user:password' after '='"))?;
            credentials.insert(
                firmware,
                Login {
                    user: user.to_owned(),
                    password: Secret::new(password),
                },
            );
        }
        Ok(credentials)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print_and_errors_never_quote_the_line() {
        let c = Credentials::parse("creds", "# fleet\nbraiins_os = root:hunter2\n").unwrap();
        let login = c.login(Firmware::BraiinsOs).unwrap();
        assert_eq!(login.password.expose(), "hunter2");
        assert!(!format!("{c:?} {}", login.password).contains("hunter2"));
        let e = Credentials::parse("creds", "braiins_os root:hunter2\n").unwrap_err();
        assert!(e.to_string().contains("line 1"), "{e}");
        assert!(!e.to_string().contains("hunter2"), "{e}");
        let e = Credentials::parse("creds", "antminer = root:hunter2\n").unwrap_err();
        assert!(
            !e.to_string().contains("hunter2") && e.to_string().contains("unknown firmware"),
            "{e}"
        );
    }

    #[test]
    fn the_environment_wins_over_the_file() {
        let dir = std::env::temp_dir().join(format!("hcp-creds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("creds");
        std::fs::write(&path, "whatsminer = admin:fromfile\n").unwrap();
        let env = |k: &str| (k == "HCP_WHATSMINER_PASSWORD").then(|| "fromenv".to_owned());
        let c = Credentials::load(Some(&path), env).unwrap();
        let login = c.login(Firmware::Whatsminer).unwrap();
        assert_eq!(
            (login.user.as_str(), login.password.expose()),
            ("admin", "fromenv")
        );
        assert!(c.login(Firmware::LuxOs).is_none());
        let missing = Credentials::load(Some(&dir.join("absent")), |_| None).unwrap_err();
        assert!(missing.to_string().contains("absent"), "{missing}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
