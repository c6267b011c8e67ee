//! The htpasswd file (`htpasswd -B`): `user:bcrypt-hash` lines. Other
//! hash kinds (MD5, SHA1, crypt) are refused at start-up, as
//! distribution refuses them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Users and their bcrypt hashes.
#[derive(Debug, Clone, Default)]
pub struct Htpasswd {
    users: HashMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum HtpasswdError {
    #[error("read the htpasswd file {}: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("htpasswd file {} line {line}: {what} (make it with htpasswd -B)", path.display())]
    Line {
        path: PathBuf,
        line: usize,
        what: String,
    },
}

impl Htpasswd {
    pub fn load(path: &Path) -> Result<Htpasswd, HtpasswdError> {
        let text = std::fs::read_to_string(path).map_err(|error| HtpasswdError::Read {
            path: path.to_path_buf(),
            error,
        })?;
        Htpasswd::parse(&text).map_err(|(line, what)| HtpasswdError::Line {
            path: path.to_path_buf(),
            line,
            what,
        })
    }

    /// Parses the file's text; an error is the line number and why.
    pub fn parse(text: &str) -> Result<Htpasswd, (usize, String)> {
        let mut users = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((user, hash)) = line.split_once(':') else {
                return Err((i + 1, "not user:hash".to_string()));
            };
            let bcrypt = ["$2a$", "$2b$", "$2y$"].iter().any(|p| hash.starts_with(p));
            if !bcrypt {
                return Err((i + 1, format!("user {user:?}: not a bcrypt hash")));
            }
            users.insert(user.to_string(), hash.to_string());
        }
        Ok(Htpasswd { users })
    }

    pub fn hash_of(&self, user: &str) -> Option<&str> {
        self.users.get(user).map(String::as_str)
    }
}
