//! Operator tokens: a bearer token presented to the API is hashed with
//! SHA-256 and looked up, in constant time, among the hashes of a token
//! file, which names the [`Actor`] it was issued to and its [`Role`].
//!
//! # Token file
//!
//! UTF-8 text, one token per line:
//!
//! ```text
//! # role     name   hash of the token
//! operator   alice  sha256:<64 lowercase hex digits>
//! viewer     grafana sha256:<64 lowercase hex digits>   # a trailing comment
//! ```
//!
//! * `role` is `viewer`, `operator` or `admin` ([`Role`]);
//! * `name` is who the token was issued to, as the audit log records it:
//!   any printable characters but whitespace ([`is_valid_name`]);
//! * the hash is `sha256:` and the SHA-256 of the token's UTF-8 bytes, in
//!   lowercase hex.
//!
//! Blank lines and lines starting with `#` are ignored, as is anything after
//! a `#` that starts a fourth field. Fields are separated by spaces or tabs.
//! The same name may appear on several lines (a token being rotated); the
//! same hash may not, since it would be unclear which line it stands for. A
//! file with no token is refused: an API with no token refuses everyone.
//!
//! The file holds hashes only, never tokens: [`TokenStore::new_token`]
//! makes a token, which is shown once to whoever it is for, and
//! [`TokenStore::hash_line`] the line to append to the file. Errors name
//! the file, the line number and the problem, never the line's text, and
//! no `Debug` output shows a hash.

use std::fmt;
use std::path::Path;

use sha2::{Digest, Sha256};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};

use crate::operator::{Actor, Role};

/// The prefix of every token [`TokenStore::new_token`] makes, so a leaked
/// token is easy to recognise (and to search for in repositories).
pub const TOKEN_PREFIX: &str = "hcp_";

/// The prefix of a hash in the token file.
const HASH_PREFIX: &str = "sha256:";

/// Why a token file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TokenFileError {
    /// The file does not exist.
    #[error("token file {path} does not exist (create it with `hcp bridge token`)")]
    Missing {
        /// The file.
        path: String,
    },
    /// The file exists but cannot be read.
    #[error("cannot read token file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// One line is malformed.
    #[error("{origin}, line {line}: {problem}")]
    Line {
        /// The file (or other origin) of the text.
        origin: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        problem: LineProblem,
    },
    /// The file holds no token at all.
    #[error("{origin}: no tokens (the API would refuse everyone)")]
    NoTokens {
        /// The file (or other origin) of the text.
        origin: String,
    },
}

/// What is wrong with one line of a token file. Never carries the line's
/// text, which holds a hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineProblem {
    /// Not three fields.
    #[error("expected `<role> <name> sha256:<hex>`, found {0} field(s)")]
    FieldCount(usize),
    /// The role is not one of the three.
    #[error("unknown role (expected viewer, operator or admin)")]
    UnknownRole,
    /// The name starts with `#` or has a control character.
    #[error("the name must not start with `#` or hold control characters")]
    BadName,
    /// The hash does not start with `sha256:`.
    #[error("the hash must start with `sha256:`")]
    HashPrefix,
    /// The hash is not 64 lowercase hex digits.
    #[error("the hash must be 64 lowercase hex digits after `sha256:`")]
    HashDigits,
    /// The same hash is on an earlier line.
    #[error("the same token hash as line {0}")]
    DuplicateHash(usize),
}

/// One line of the token file.
struct Entry {
    role: Role,
    name: String,
    hash: [u8; 32],
}

/// The tokens the API accepts, as hashes with their names and roles.
pub struct TokenStore {
    entries: Vec<Entry>,
}

impl fmt::Debug for TokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(
                self.entries
                    .iter()
                    .map(|e| (e.role.name(), e.name.as_str())),
            )
            .finish()
    }
}

impl TokenStore {
    /// Reads a token file (format in the [module](self) documentation).
    ///
    /// # Errors
    /// [`TokenFileError::Missing`] when there is no such file,
    /// [`TokenFileError::Read`] when it cannot be read, and the errors of
    /// [`TokenStore::from_lines`].
    pub fn load(path: &Path) -> Result<TokenStore, TokenFileError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                TokenFileError::Missing {
                    path: shown.clone(),
                }
            } else {
                TokenFileError::Read {
                    path: shown.clone(),
                    source,
                }
            }
        })?;
        Self::from_lines(&text, &shown)
    }

    /// Parses a token file's text; `origin` names it in errors.
    ///
    /// # Errors
    /// [`TokenFileError::Line`] for the first malformed line,
    /// [`TokenFileError::NoTokens`] when no line holds a token.
    pub fn from_lines(text: &str, origin: &str) -> Result<TokenStore, TokenFileError> {
        let mut entries: Vec<(usize, Entry)> = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let fail = |problem| TokenFileError::Line {
                origin: origin.to_owned(),
                line,
                problem,
            };
            let content = raw.trim();
            if content.is_empty() || content.starts_with('#') {
                continue;
            }
            let mut fields: Vec<&str> = content.split_whitespace().collect();
            if let Some(comment) = fields.iter().position(|f| f.starts_with('#'))
                && comment >= 3
            {
                fields.truncate(comment);
            }
            let [role, name, hash] = fields[..] else {
                return Err(fail(LineProblem::FieldCount(fields.len())));
            };
            let role = parse_role(role).ok_or_else(|| fail(LineProblem::UnknownRole))?;
            if !is_valid_name(name) {
                return Err(fail(LineProblem::BadName));
            }
            let hash = parse_hash(hash).map_err(fail)?;
            if let Some((earlier, _)) = entries.iter().find(|(_, e)| e.hash == hash) {
                return Err(fail(LineProblem::DuplicateHash(*earlier)));
            }
            entries.push((
                line,
                Entry {
                    role,
                    name: name.to_owned(),
                    hash,
                },
            ));
        }
        if entries.is_empty() {
            return Err(TokenFileError::NoTokens {
                origin: origin.to_owned(),
            });
        }
        Ok(TokenStore {
            entries: entries.into_iter().map(|(_, e)| e).collect(),
        })
    }

    /// Who holds `bearer`, or `None` for a token not in the store.
    ///
    /// The token is hashed and compared with every stored hash in constant
    /// time, without stopping at a match: how long this takes depends on the
    /// number of tokens, not on which one (if any) matched.
    pub fn authenticate(&self, bearer: &str) -> Option<Actor> {
        let presented: [u8; 32] = Sha256::digest(bearer.as_bytes()).into();
        let mut found = Choice::from(0);
        let mut index: u64 = 0;
        for (i, entry) in (0u64..).zip(&self.entries) {
            let equal = entry.hash.ct_eq(&presented);
            index.conditional_assign(&i, equal);
            found |= equal;
        }
        if !bool::from(found) || bearer.is_empty() {
            return None;
        }
        let entry = self.entries.get(usize::try_from(index).ok()?)?;
        Some(Actor {
            name: entry.name.clone(),
            role: entry.role,
        })
    }

    /// How many tokens the store holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the store holds no token (never true of a parsed store).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// A new random token: [`TOKEN_PREFIX`] and 32 bytes from the operating
    /// system's generator in lowercase hex (68 characters in all).
    ///
    /// # Errors
    /// When the operating system has no random bytes to give.
    pub fn new_token() -> Result<String, getrandom::Error> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)?;
        let mut token = String::with_capacity(TOKEN_PREFIX.len() + 64);
        token.push_str(TOKEN_PREFIX);
        push_hex(&mut token, &bytes);
        Ok(token)
    }

    /// The token file line for `token`, issued to `name` with `role` (no
    /// newline). A name must have no whitespace or control characters
    /// ([`is_valid_name`]); any such character is replaced by `_` (and an
    /// empty name becomes `_`) so the line always parses back.
    pub fn hash_line(role: Role, name: &str, token: &str) -> String {
        let mut name: String = name
            .chars()
            .map(|c| {
                if c.is_whitespace() || c.is_control() {
                    '_'
                } else {
                    c
                }
            })
            .collect();
        if name.is_empty() || name.starts_with('#') {
            name.insert(0, '_');
        }
        let digest = Sha256::digest(token.as_bytes());
        let mut line = format!("{} {} {HASH_PREFIX}", role.name(), name);
        push_hex(&mut line, &digest);
        line
    }
}

/// Whether `name` may name a token's holder: not empty, no whitespace, no
/// control character, not starting with `#`.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('#')
        && !name.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// A role by its token-file name.
fn parse_role(text: &str) -> Option<Role> {
    [Role::Viewer, Role::Operator, Role::Admin]
        .into_iter()
        .find(|r| r.name() == text)
}

/// `sha256:` and 64 lowercase hex digits.
fn parse_hash(text: &str) -> Result<[u8; 32], LineProblem> {
    let digits = text
        .strip_prefix(HASH_PREFIX)
        .ok_or(LineProblem::HashPrefix)?
        .as_bytes();
    if digits.len() != 64 {
        return Err(LineProblem::HashDigits);
    }
    let mut hash = [0u8; 32];
    for (byte, pair) in hash.iter_mut().zip(digits.chunks_exact(2)) {
        let high = hex_digit(pair[0]).ok_or(LineProblem::HashDigits)?;
        let low = hex_digit(pair[1]).ok_or(LineProblem::HashDigits)?;
        *byte = (high << 4) | low;
    }
    Ok(hash)
}

/// The value of one lowercase hex digit.
fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// Appends `bytes` in lowercase hex.
fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_line_parses_back_and_authenticates() {
        let token = TokenStore::new_token().expect("random bytes");
        assert!(token.starts_with(TOKEN_PREFIX));
        assert_eq!(token.len(), 68);
        let line = TokenStore::hash_line(Role::Operator, "alice", &token);
        assert!(!line.contains(&token));
        let store = TokenStore::from_lines(&line, "test").expect("parses");
        assert_eq!(
            store.authenticate(&token),
            Some(Actor {
                name: "alice".to_owned(),
                role: Role::Operator
            })
        );
        assert_eq!(store.authenticate(""), None);
        assert_eq!(store.authenticate(&token[..67]), None);
    }

    #[test]
    fn known_sha256_vector() {
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        let line = TokenStore::hash_line(Role::Viewer, "v", "abc");
        assert_eq!(
            line,
            "viewer v sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn hash_line_sanitises_names() {
        let line = TokenStore::hash_line(Role::Admin, "bob smith\t", "t");
        assert!(line.starts_with("admin bob_smith_ sha256:"), "{line}");
        let line = TokenStore::hash_line(Role::Admin, "", "t");
        assert!(line.starts_with("admin _ sha256:"), "{line}");
        let line = TokenStore::hash_line(Role::Admin, "#x", "t");
        assert!(TokenStore::from_lines(&line, "t").is_ok(), "{line}");
        assert!(is_valid_name("alice@ops"));
        assert!(!is_valid_name("a b"));
        assert!(!is_valid_name(""));
    }

    #[test]
    fn debug_shows_names_and_roles_only() {
        let line = TokenStore::hash_line(Role::Admin, "root", "secret-token");
        let store = TokenStore::from_lines(&line, "t").expect("parses");
        let debug = format!("{store:?}");
        assert_eq!(debug, "[(\"admin\", \"root\")]");
    }
}
