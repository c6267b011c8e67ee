//! Who may do what: htpasswd users (bcrypt), with HTTP Basic or with the
//! bearer-token flow docker and podman use (the registry is its own
//! token server at `/token`), and per-repository rules from the config.
//!
//! Without an htpasswd file everyone may do everything. With one and no
//! rules, any user who logs in may pull, push and delete everywhere and
//! anonymous clients nothing. With rules, a caller gets the union of the
//! actions of the rules naming them (`*`: any user who logged in,
//! `anonymous`: clients without credentials).

mod htpasswd;
mod token;

use std::collections::HashSet;
use std::sync::Mutex;

use base64::Engine as _;
use serde::Deserialize;

pub use htpasswd::{Htpasswd, HtpasswdError};
pub use token::{Scope, TokenError};

/// An action on a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Pull,
    Push,
    Delete,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Pull => "pull",
            Action::Push => "push",
            Action::Delete => "delete",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        match s {
            "pull" => Some(Action::Pull),
            "push" => Some(Action::Push),
            "delete" => Some(Action::Delete),
            _ => None,
        }
    }
}

/// One `[[access]]` rule of the config file.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Repository names; `*` at the end matches any rest (`e2k/*`, `*`).
    pub repositories: Vec<String>,
    /// User names, `*` (any user who logged in) or `anonymous`.
    pub users: Vec<String>,
    pub actions: Vec<Action>,
}

impl Rule {
    fn names_user(&self, user: Option<&str>) -> bool {
        self.users.iter().any(|u| match user {
            None => u == "anonymous",
            Some(name) => u == "*" || u == name,
        })
    }

    fn names_repo(&self, repo: &str) -> bool {
        self.repositories.iter().any(|p| match p.strip_suffix('*') {
            Some(prefix) => repo.starts_with(prefix),
            None => p == repo,
        })
    }
}

/// How clients are asked to authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// `WWW-Authenticate: Basic`, credentials on every request.
    Basic,
    /// `WWW-Authenticate: Bearer realm=…/token`: clients fetch a token.
    #[default]
    Token,
}

/// Who sent a request, once authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// No auth configured: may do anything.
    Anyone,
    /// Credentials checked (None: anonymous) — the rules decide.
    User(Option<String>),
    /// A bearer token: whose (None: anonymous) and what it grants.
    Token(Option<String>, Vec<Scope>),
}

/// The auth settings in force.
pub struct Auth {
    users: Option<Htpasswd>,
    rules: Vec<Rule>,
    pub scheme: Scheme,
    /// Where clients get tokens (None: this server's `/token`).
    pub realm: Option<String>,
    pub service: String,
    key: [u8; 32],
    /// Credentials already verified (bcrypt is slow by design).
    verified: Mutex<HashSet<[u8; 32]>>,
}

/// Credentials that were given but are wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadCredentials;

impl Auth {
    pub fn new(
        users: Option<Htpasswd>,
        rules: Vec<Rule>,
        scheme: Scheme,
        realm: Option<String>,
        service: String,
    ) -> Auth {
        let mut key = [0u8; 32];
        let id = crate::storage::random_id() + &crate::storage::random_id();
        key.copy_from_slice(&hex::decode(&id[..64]).unwrap_or_else(|_| vec![0; 32]));
        Auth {
            users,
            rules,
            scheme,
            realm,
            service,
            key,
            verified: Mutex::new(HashSet::new()),
        }
    }

    /// No authentication at all.
    pub fn open() -> Auth {
        Auth::new(None, Vec::new(), Scheme::Basic, None, String::new())
    }

    pub fn enabled(&self) -> bool {
        self.users.is_some()
    }

    /// Checks the `Authorization` header (None: none was sent).
    pub fn caller(&self, authorization: Option<&str>) -> Result<Caller, BadCredentials> {
        if !self.enabled() {
            return Ok(Caller::Anyone);
        }
        let Some(value) = authorization else {
            return Ok(Caller::User(None));
        };
        if let Some(token) = value.strip_prefix("Bearer ") {
            return token::verify(&self.key, token.trim())
                .map(|(user, scopes)| Caller::Token(user, scopes))
                .map_err(|_| BadCredentials);
        }
        let user = self.basic_user(value)?;
        Ok(Caller::User(Some(user)))
    }

    /// The user of a `Basic` header whose password is right.
    pub fn basic_user(&self, value: &str) -> Result<String, BadCredentials> {
        let encoded = value.strip_prefix("Basic ").ok_or(BadCredentials)?;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|_| BadCredentials)?;
        let text = String::from_utf8(raw).map_err(|_| BadCredentials)?;
        let (user, pass) = text.split_once(':').ok_or(BadCredentials)?;
        let users = self.users.as_ref().ok_or(BadCredentials)?;
        let hash = users.hash_of(user).ok_or(BadCredentials)?;
        let key = cache_key(user, pass, hash);
        let mut verified = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        if verified.contains(&key) {
            return Ok(user.to_string());
        }
        drop(verified);
        if !bcrypt::verify(pass, hash).unwrap_or(false) {
            return Err(BadCredentials);
        }
        verified = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        if verified.len() > 4096 {
            verified.clear();
        }
        verified.insert(key);
        Ok(user.to_string())
    }

    /// What the rules let `user` do on `repo`.
    pub fn granted(&self, user: Option<&str>, repo: &str) -> Vec<Action> {
        if !self.enabled() {
            return vec![Action::Pull, Action::Push, Action::Delete];
        }
        if self.rules.is_empty() {
            return match user {
                Some(_) => vec![Action::Pull, Action::Push, Action::Delete],
                None => Vec::new(),
            };
        }
        let mut out: Vec<Action> = self
            .rules
            .iter()
            .filter(|r| r.names_user(user) && r.names_repo(repo))
            .flat_map(|r| r.actions.iter().copied())
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Whether `caller` may do `action` on `repo`.
    pub fn allows(&self, caller: &Caller, repo: &str, action: Action) -> bool {
        match caller {
            Caller::Anyone => true,
            Caller::User(user) => self.granted(user.as_deref(), repo).contains(&action),
            Caller::Token(_, scopes) => scopes.iter().any(|s| s.allows(repo, action)),
        }
    }

    /// Whether the catalog may show `repo` to `caller`: the repositories
    /// it may pull (for a token, those its user's rules allow to pull).
    pub fn lists(&self, caller: &Caller, repo: &str) -> bool {
        match caller {
            Caller::Token(user, _) => self.granted(user.as_deref(), repo).contains(&Action::Pull),
            other => self.allows(other, repo, Action::Pull),
        }
    }

    /// Whether `caller` may list the catalog (anyone who logged in).
    pub fn allows_catalog(&self, caller: &Caller) -> bool {
        match caller {
            Caller::Anyone | Caller::User(Some(_)) => true,
            Caller::User(None) => false,
            Caller::Token(_, scopes) => scopes.iter().any(Scope::is_catalog),
        }
    }

    /// A token for `user` with what `requested` asks and the rules allow.
    pub fn issue_token(&self, user: Option<&str>, requested: &[Scope]) -> serde_json::Value {
        let granted: Vec<Scope> = requested
            .iter()
            .filter_map(|s| s.narrowed(|repo| self.granted(user, repo), user.is_some()))
            .collect();
        token::issue(&self.key, user, &granted)
    }
}

fn cache_key(user: &str, pass: &str, hash: &str) -> [u8; 32] {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    for part in [user, pass, hash] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    h.finalize().into()
}

#[cfg(test)]
mod tests;
