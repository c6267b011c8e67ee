//! The web console's accounts: `<root>/web/users.json` (mode 0600), names
//! and argon2id password hashes as PHC strings. `yurta web user add|rm|ls`
//! edit it under a lock; the service reads it at each login and checks
//! at each request that the session's user still exists.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};
use yurta_error::{ErrorKind, Kinded};

/// argon2id with OWASP's first recommendation: 19 MiB, 2 passes, 1 lane.
const MEMORY_KIB: u32 = 19 * 1024;
const PASSES: u32 = 2;

/// The shortest password `user add` takes.
pub const MIN_PASSWORD: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("invalid user name {0:?}: use 1 to 64 of a-z, A-Z, 0-9, '.', '_', '-', starting with a letter or digit")]
    BadName(String),
    #[error("the password is too short: at least {MIN_PASSWORD} characters")]
    ShortPassword,
    #[error("user {0} already exists")]
    Exists(String),
    #[error("no such user: {0}")]
    NoSuchUser(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a users file: {detail}")]
    Corrupt { path: PathBuf, detail: String },
    #[error("hash the password: {0}")]
    Hash(String),
}

impl Kinded for AccountError {
    fn kind(&self) -> ErrorKind {
        match self {
            AccountError::BadName(_) | AccountError::ShortPassword => ErrorKind::Invalid,
            AccountError::Exists(_) => ErrorKind::Conflict,
            AccountError::NoSuchUser(_) => ErrorKind::NotFound,
            _ => ErrorKind::Internal,
        }
    }
}

/// One account as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    /// argon2id PHC string.
    pub hash: String,
    pub created: String,
}

/// The users file of a root.
pub struct Accounts {
    path: PathBuf,
}

#[derive(Default, Serialize, Deserialize)]
struct File {
    users: BTreeMap<String, User>,
}

impl Accounts {
    pub fn new(root: &Path) -> Accounts {
        Accounts {
            path: root.join("web").join("users.json"),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Adds `name` with `password`.
    pub fn add(&self, name: &str, password: &str) -> Result<(), AccountError> {
        check_name(name)?;
        if password.chars().count() < MIN_PASSWORD {
            return Err(AccountError::ShortPassword);
        }
        let hash = hash_password(password)?;
        self.edit(|f| {
            if f.users.contains_key(name) {
                return Err(AccountError::Exists(name.to_string()));
            }
            let created = yurta_images::time::now_rfc3339();
            f.users.insert(name.to_string(), User { hash, created });
            Ok(())
        })
    }

    /// Removes `name`.
    pub fn remove(&self, name: &str) -> Result<(), AccountError> {
        self.edit(|f| match f.users.remove(name) {
            Some(_) => Ok(()),
            None => Err(AccountError::NoSuchUser(name.to_string())),
        })
    }

    /// Every account, by name.
    pub fn list(&self) -> Result<BTreeMap<String, User>, AccountError> {
        Ok(self.read()?.users)
    }

    /// Whether `name` exists.
    pub fn exists(&self, name: &str) -> bool {
        self.read().is_ok_and(|f| f.users.contains_key(name))
    }

    /// Whether `password` is `name`'s. An unknown name costs the same
    /// work as a known one, so the time does not tell which names exist.
    pub fn verify(&self, name: &str, password: &str) -> bool {
        let users = self.read().map(|f| f.users).unwrap_or_default();
        match users.get(name) {
            Some(u) => verify_password(&u.hash, password),
            None => {
                let _ = hash_password(password);
                false
            }
        }
    }

    fn read(&self) -> Result<File, AccountError> {
        let text = match fs::read(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(File::default()),
            Err(source) => {
                return Err(AccountError::Io {
                    path: self.path.clone(),
                    source,
                })
            }
        };
        serde_json::from_slice(&text).map_err(|e| AccountError::Corrupt {
            path: self.path.clone(),
            detail: e.to_string(),
        })
    }

    /// Reads, changes and replaces the file under an exclusive lock.
    fn edit(
        &self,
        change: impl FnOnce(&mut File) -> Result<(), AccountError>,
    ) -> Result<(), AccountError> {
        let io = |source| AccountError::Io {
            path: self.path.clone(),
            source,
        };
        let dir = self.path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(io)?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io)?;
        let lock = fs::File::create(dir.join("users.lock")).map_err(io)?;
        // SAFETY: flock on a descriptor that stays open until `lock` drops
        // at the end of this function.
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(io(std::io::Error::last_os_error()));
        }
        let mut file = self.read()?;
        change(&mut file)?;
        let mut text = serde_json::to_vec_pretty(&file).map_err(|e| AccountError::Corrupt {
            path: self.path.clone(),
            detail: e.to_string(),
        })?;
        text.push(b'\n');
        yurta_sysutil::replace_file(&self.path, &text, 0o600, yurta_sysutil::Durability::Synced)
            .map_err(io)
    }
}

/// Which file a read saw: users.json is replaced (a new inode) by every
/// change, so its identity and times tell whether it changed.
type FileKey = (u64, u64, i64, i64, u64);

/// The account names, for the session check every request makes: read
/// again only when users.json has been replaced since (one stat a
/// request instead of a read and a parse), so `web user rm` still ends
/// that user's sessions at their next request.
pub struct KnownUsers {
    path: PathBuf,
    seen: Mutex<Option<(FileKey, HashSet<String>)>>,
}

impl KnownUsers {
    pub fn new(root: &Path) -> KnownUsers {
        KnownUsers {
            path: Accounts::new(root).path,
            seen: Mutex::new(None),
        }
    }

    pub fn contains(&self, name: &str) -> bool {
        let Ok(m) = fs::metadata(&self.path) else {
            return false;
        };
        let key = (m.dev(), m.ino(), m.mtime(), m.mtime_nsec(), m.len());
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, names)) = seen.as_ref().filter(|(k, _)| *k == key) {
            return names.contains(name);
        }
        let accounts = Accounts {
            path: self.path.clone(),
        };
        let Ok(file) = accounts.read() else {
            *seen = None;
            return false;
        };
        let names: HashSet<String> = file.users.into_keys().collect();
        let found = names.contains(name);
        *seen = Some((key, names));
        found
    }
}

fn check_name(name: &str) -> Result<(), AccountError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    match ok {
        true => Ok(()),
        false => Err(AccountError::BadName(name.to_string())),
    }
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, PASSES, 1, None).expect("fixed argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_password(password: &str) -> Result<String, AccountError> {
    let salt = yurta_engine::ids::random_bytes::<16>()
        .map_err(|e| AccountError::Hash(format!("random salt: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| AccountError::Hash(e.to_string()))?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AccountError::Hash(e.to_string()))
}

/// Checks against the parameters stored in the hash itself.
fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_verify_remove_and_the_file_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let a = Accounts::new(dir.path());
        a.add("alice", "correct horse").unwrap();
        assert!(a.verify("alice", "correct horse"));
        assert!(!a.verify("alice", "wrong horse!"));
        assert!(!a.verify("bob", "correct horse"));
        let mode = fs::metadata(a.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let text = fs::read_to_string(a.path()).unwrap();
        assert!(text.contains("$argon2id$v=19$m=19456,t=2,p=1$"), "{text}");
        assert!(!text.contains("correct horse"));
        assert!(matches!(
            a.add("alice", "another one"),
            Err(AccountError::Exists(_))
        ));
        a.remove("alice").unwrap();
        assert!(!a.exists("alice"));
        assert!(matches!(
            a.remove("alice"),
            Err(AccountError::NoSuchUser(_))
        ));
    }

    #[test]
    fn names_and_passwords_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let a = Accounts::new(dir.path());
        for bad in ["", "-x", "a b", "a/b", "é", &"x".repeat(65)] {
            assert!(
                matches!(a.add(bad, "long enough"), Err(AccountError::BadName(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            a.add("ok", "short"),
            Err(AccountError::ShortPassword)
        ));
        assert!(!a.path().exists(), "nothing written for refused input");
    }

    #[test]
    fn a_corrupt_file_is_an_error_not_an_empty_list() {
        let dir = tempfile::tempdir().unwrap();
        let a = Accounts::new(dir.path());
        fs::create_dir_all(a.path().parent().unwrap()).unwrap();
        fs::write(a.path(), "{not json").unwrap();
        assert!(matches!(a.list(), Err(AccountError::Corrupt { .. })));
        assert!(!a.verify("alice", "whatever1"));
    }

    #[test]
    fn known_users_follow_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let a = Accounts::new(dir.path());
        let known = KnownUsers::new(dir.path());
        assert!(!known.contains("alice"), "no file yet");
        a.add("alice", "correct horse").unwrap();
        assert!(known.contains("alice"));
        assert!(!known.contains("bob"));
        a.add("bob", "battery staple").unwrap();
        assert!(known.contains("bob"), "a replaced file is read again");
        a.remove("alice").unwrap();
        assert!(!known.contains("alice"));
        fs::remove_file(a.path()).unwrap();
        assert!(!known.contains("bob"), "no file, no users");
    }
}
