//! Bearer tokens this registry issues to itself: a JSON claim (user,
//! granted scopes, expiry) and its HMAC-SHA256 under a key made at
//! start-up. Clients treat them as opaque; a restart invalidates them and
//! clients simply fetch new ones.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::Action;

/// How long a token lives, in seconds.
pub const LIFETIME: u64 = 300;

/// `repository:NAME:ACTIONS` or `registry:catalog:*`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub actions: Vec<String>,
}

impl Scope {
    /// Parses a `scope` query parameter.
    pub fn parse(s: &str) -> Option<Scope> {
        let (kind, rest) = s.split_once(':')?;
        let (name, actions) = rest.rsplit_once(':')?;
        Some(Scope {
            kind: kind.to_string(),
            name: name.to_string(),
            actions: actions.split(',').map(str::to_string).collect(),
        })
    }

    pub fn allows(&self, repo: &str, action: Action) -> bool {
        self.kind == "repository"
            && self.name == repo
            && self
                .actions
                .iter()
                .any(|a| a == action.as_str() || a == "*")
    }

    pub fn is_catalog(&self) -> bool {
        self.kind == "registry" && self.name == "catalog" && self.actions.iter().any(|a| a == "*")
    }

    /// This scope cut down to what is granted; None if nothing is.
    pub fn narrowed(
        &self,
        granted: impl Fn(&str) -> Vec<Action>,
        logged_in: bool,
    ) -> Option<Scope> {
        if self.kind == "registry" {
            return (self.is_catalog() && logged_in).then(|| self.clone());
        }
        if self.kind != "repository" {
            return None;
        }
        let allowed = granted(&self.name);
        let actions: Vec<String> = allowed
            .iter()
            .filter(|a| self.actions.iter().any(|w| w == a.as_str() || w == "*"))
            .map(|a| a.as_str().to_string())
            .collect();
        (!actions.is_empty()).then(|| Scope {
            actions,
            ..self.clone()
        })
    }
}

#[derive(Serialize, Deserialize)]
struct Claims {
    sub: Option<String>,
    access: Vec<Scope>,
    exp: u64,
}

/// A token that is not one of ours, or expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenError;

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn mac(key: &[u8; 32], payload: &str) -> Hmac<sha2::Sha256> {
    let mut m =
        <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(payload.as_bytes());
    m
}

/// The token endpoint's answer for `user` granted `access`.
pub fn issue(key: &[u8; 32], user: Option<&str>, access: &[Scope]) -> serde_json::Value {
    let claims = Claims {
        sub: user.map(str::to_string),
        access: access.to_vec(),
        exp: now() + LIFETIME,
    };
    let payload = B64.encode(serde_json::to_vec(&claims).unwrap_or_default());
    let sig = B64.encode(mac(key, &payload).finalize().into_bytes());
    let token = format!("{payload}.{sig}");
    json!({"token": token, "access_token": token, "expires_in": LIFETIME})
}

/// The user and scopes of a token, if it is ours and not expired.
pub fn verify(key: &[u8; 32], token: &str) -> Result<(Option<String>, Vec<Scope>), TokenError> {
    let (payload, sig) = token.split_once('.').ok_or(TokenError)?;
    let sig = B64.decode(sig).map_err(|_| TokenError)?;
    mac(key, payload)
        .verify_slice(&sig)
        .map_err(|_| TokenError)?;
    let raw = B64.decode(payload).map_err(|_| TokenError)?;
    let claims: Claims = serde_json::from_slice(&raw).map_err(|_| TokenError)?;
    if claims.exp < now() {
        return Err(TokenError);
    }
    Ok((claims.sub, claims.access))
}
