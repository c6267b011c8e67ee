//! Registry authentication: anonymous, HTTP basic, and Docker's bearer
//! token flow (`WWW-Authenticate: Bearer realm=…,service=…,scope=…`).
//!
//! The first request to a registry goes out anonymously. A 401 tells which
//! scheme the registry wants; it is remembered per registry, so later
//! requests carry credentials (basic) or a token (bearer) from the start.
//! Tokens are cached per registry and scope until shortly before they expire.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::Deserialize;

use crate::config::Credentials;
use crate::endpoint::Endpoint;
use crate::error::{Error, Result};

/// Tokens without `expires_in` live 60 s (the token spec's minimum).
const DEFAULT_TOKEN_LIFETIME: u64 = 60;

/// What a 401 asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
}

/// Parses a `WWW-Authenticate` value. Unknown schemes give `None`.
pub(crate) fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    let params = parse_params(rest);
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    match scheme.to_ascii_lowercase().as_str() {
        "basic" => Some(Challenge::Basic),
        "bearer" => Some(Challenge::Bearer {
            realm: get("realm")?,
            service: get("service"),
            scope: get("scope"),
        }),
        _ => None,
    }
}

/// `k1="v,1",k2=v2` → pairs; quoted values may hold commas and `\"`.
fn parse_params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            return out;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            value = chars.by_ref().take_while(|c| *c != ',').collect();
        }
        out.push((key.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
}

pub(crate) fn basic_header(c: &Credentials) -> String {
    format!(
        "Basic {}",
        B64.encode(format!("{}:{}", c.username, c.password))
    )
}

/// `repository:NAME:pull` and friends, as asked for in token requests.
pub(crate) fn repo_scope(name: &str, actions: &str) -> String {
    format!("repository:{name}:{actions}")
}

struct Token {
    value: String,
    expires: Instant,
}

#[derive(Default)]
struct RegistryAuth {
    challenge: Option<Challenge>,
    tokens: HashMap<String, Token>,
}

/// Per-registry auth state, shared by every thread using a client.
#[derive(Default)]
pub(crate) struct AuthCache {
    state: Mutex<HashMap<String, RegistryAuth>>,
}

#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

impl AuthCache {
    /// The `Authorization` value for a request with these scopes, fetching a
    /// token if the registry wants bearer auth and none is cached.
    pub fn header(
        &self,
        ep: &Endpoint,
        creds: Option<&Credentials>,
        scopes: &[String],
    ) -> Result<Option<String>> {
        let key = scopes.join(" ");
        let challenge = {
            let state = self.state.lock().expect("auth lock");
            let Some(reg) = state.get(&ep.registry) else {
                return Ok(None);
            };
            if let Some(t) = reg.tokens.get(&key).filter(|t| t.expires > Instant::now()) {
                return Ok(Some(format!("Bearer {}", t.value)));
            }
            reg.challenge.clone()
        };
        match challenge {
            None => Ok(None),
            Some(Challenge::Basic) => Ok(creds.map(basic_header)),
            Some(Challenge::Bearer { realm, service, .. }) => {
                let token = fetch_token(ep, &realm, service.as_deref(), scopes, creds)?;
                let header = format!("Bearer {}", token.value);
                let mut state = self.state.lock().expect("auth lock");
                let reg = state.entry(ep.registry.clone()).or_default();
                reg.tokens.insert(key, token);
                Ok(Some(header))
            }
        }
    }

    /// Learns from a 401. Returns whether a retry can succeed: a new scheme
    /// or scope was learned, or a cached token was dropped.
    pub fn on_unauthorized(
        &self,
        ep: &Endpoint,
        www_authenticate: Option<&str>,
        scopes: &mut Vec<String>,
        have_creds: bool,
    ) -> bool {
        let Some(challenge) = www_authenticate.and_then(parse_challenge) else {
            return false;
        };
        let mut state = self.state.lock().expect("auth lock");
        let reg = state.entry(ep.registry.clone()).or_default();
        let known = reg.challenge.as_ref().map(std::mem::discriminant)
            == Some(std::mem::discriminant(&challenge));
        let retry = match &challenge {
            Challenge::Basic => have_creds && !known,
            Challenge::Bearer { scope, .. } => {
                for s in scope.iter().flat_map(|s| s.split(' ')) {
                    if !s.is_empty() && !scopes.iter().any(|x| x == s) {
                        scopes.push(s.to_string());
                    }
                }
                reg.tokens.remove(&scopes.join(" "));
                true
            }
        };
        reg.challenge = Some(challenge);
        retry
    }

    /// Asks a bearer realm for a token with these credentials and no scope
    /// (what `docker login` does); used to check credentials.
    pub fn check_token_login(ep: &Endpoint, c: &Challenge, creds: &Credentials) -> Result<()> {
        match c {
            Challenge::Bearer { realm, service, .. } => {
                fetch_token(ep, realm, service.as_deref(), &[], Some(creds)).map(|_| ())
            }
            Challenge::Basic => Ok(()),
        }
    }
}

fn fetch_token(
    ep: &Endpoint,
    realm: &str,
    service: Option<&str>,
    scopes: &[String],
    creds: Option<&Credentials>,
) -> Result<Token> {
    let url = token_url(realm, service, scopes);
    let fail = |reason: String| Error::Token {
        realm: realm.to_string(),
        registry: ep.registry.clone(),
        reason,
    };
    let mut req = ep.agent.get(&url).header("Accept", "application/json");
    if let Some(c) = creds {
        req = req.header("Authorization", basic_header(c));
    }
    let mut resp = req.call().map_err(|e| fail(e.to_string()))?;
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .with_config()
        .limit(1 << 20)
        .read_to_vec()
        .map_err(|e| fail(e.to_string()))?;
    if status != 200 {
        let who = if creds.is_some() {
            "with the given credentials"
        } else {
            "anonymously"
        };
        return Err(fail(format!("HTTP {status} {who}")));
    }
    let parsed: TokenResponse =
        serde_json::from_slice(&body).map_err(|e| fail(format!("bad token response: {e}")))?;
    let value = parsed
        .token
        .or(parsed.access_token)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| fail("response has no token".into()))?;
    let lifetime = parsed.expires_in.unwrap_or(DEFAULT_TOKEN_LIFETIME).max(2);
    // Renew a little early so that a token does not expire in flight.
    let margin = (lifetime / 10).clamp(1, 30);
    Ok(Token {
        value,
        expires: Instant::now() + Duration::from_secs(lifetime - margin),
    })
}

fn token_url(realm: &str, service: Option<&str>, scopes: &[String]) -> String {
    let mut url = realm.to_string();
    let mut sep = if realm.contains('?') { '&' } else { '?' };
    let mut add = |k: &str, v: &str| {
        url.push(sep);
        url.push_str(k);
        url.push('=');
        url.push_str(&encode_query(v));
        sep = '&';
    };
    if let Some(s) = service {
        add("service", s);
    }
    for s in scopes {
        add("scope", s);
    }
    url
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub(crate) fn encode_query(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_challenges() {
        let h = r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull,push""#;
        assert_eq!(
            parse_challenge(h),
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/busybox:pull,push".into()),
            })
        );
        let h = r#"bearer realm=http://t/x , error="insufficient_scope""#;
        assert!(
            matches!(parse_challenge(h), Some(Challenge::Bearer { realm, service: None, .. }) if realm == "http://t/x")
        );
        assert_eq!(
            parse_challenge(r#"Basic realm="basic-realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(parse_challenge("Negotiate"), None);
        assert_eq!(parse_challenge("Bearer service=x"), None);
    }

    #[test]
    fn escaped_quotes() {
        let p = parse_params(r#"a="x\"y,z", b=2"#);
        assert_eq!(
            p,
            vec![("a".into(), "x\"y,z".into()), ("b".into(), "2".into())]
        );
    }

    #[test]
    fn token_urls() {
        let scopes = vec![repo_scope("a/b", "pull,push"), repo_scope("c", "pull")];
        assert_eq!(
            token_url("http://h/token", Some("reg x"), &scopes),
            "http://h/token?service=reg%20x&scope=repository%3Aa%2Fb%3Apull%2Cpush&scope=repository%3Ac%3Apull"
        );
        assert_eq!(token_url("http://h/t?a=1", None, &[]), "http://h/t?a=1");
    }

    #[test]
    fn basic_header_encoding() {
        assert_eq!(
            basic_header(&Credentials::new("user", "pass")),
            "Basic dXNlcjpwYXNz"
        );
    }
}
