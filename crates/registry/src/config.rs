//! What a [`Client`](crate::Client) is told: TLS and insecure registries,
//! where credentials and CA certificates live, retry policy, timeouts.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// Per-registry CA directories searched by default, in this order; every
/// `*.crt` found under `<dir>/<host[:port]>/` is trusted for that registry.
pub const DEFAULT_CERTS_DIRS: [&str; 2] = ["/etc/yurta/certs.d", "/etc/docker/certs.d"];

/// A user name and password (or token) for one registry.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl Credentials {
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials {
            username: username.into(),
            password: password.into(),
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// How one registry is reached.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistrySettings {
    /// Plain http (`--insecure-registry`). No TLS at all.
    pub insecure: bool,
    /// Overrides [`ClientConfig::tls_verify`] for this registry.
    pub tls_verify: Option<bool>,
}

/// Retries of transient failures (connection errors, 5xx, 429) with
/// exponential backoff: `base`, `2*base`, … capped at `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in all, the first one included (1 = no retries).
    pub attempts: u32,
    pub base: Duration,
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            base: Duration::from_millis(500),
            max: Duration::from_secs(8),
        }
    }
}

impl RetryPolicy {
    pub(crate) fn delay(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.min(16);
        self.base.saturating_mul(factor).min(self.max)
    }
}

/// Everything a client needs to know. Build with [`ClientConfig::default`]
/// and the setters.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Verify TLS certificates (default true). `false` is `--tls-verify=false`.
    pub tls_verify: bool,
    /// Per-registry settings, keyed by `host[:port]` as in references.
    pub registries: HashMap<String, RegistrySettings>,
    /// Directories holding `<host[:port]>/*.crt` CA files.
    pub certs_dirs: Vec<PathBuf>,
    /// A docker-config-compatible credentials file (`{"auths": {...}}`).
    pub auth_file: Option<PathBuf>,
    /// Credentials given directly (`--creds`); they win over the file.
    pub credentials: HashMap<String, Credentials>,
    pub retry: RetryPolicy,
    pub connect_timeout: Duration,
    /// Longest silence while reading a response.
    pub read_timeout: Duration,
    pub user_agent: String,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            tls_verify: true,
            registries: HashMap::new(),
            certs_dirs: DEFAULT_CERTS_DIRS.iter().map(PathBuf::from).collect(),
            auth_file: None,
            credentials: HashMap::new(),
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(120),
            user_agent: concat!("yurta/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }
}

impl ClientConfig {
    /// `--tls-verify=false` for every registry.
    pub fn tls_verify(mut self, verify: bool) -> Self {
        self.tls_verify = verify;
        self
    }

    /// Reach `registry` over plain http.
    pub fn insecure_registry(mut self, registry: &str) -> Self {
        self.registries
            .entry(registry.to_string())
            .or_default()
            .insecure = true;
        self
    }

    /// Verify (or not) the TLS certificate of one registry.
    pub fn registry_tls_verify(mut self, registry: &str, verify: bool) -> Self {
        self.registries
            .entry(registry.to_string())
            .or_default()
            .tls_verify = Some(verify);
        self
    }

    /// Replace the CA directories (tests point this at a temporary dir).
    pub fn certs_dirs(mut self, dirs: Vec<PathBuf>) -> Self {
        self.certs_dirs = dirs;
        self
    }

    pub fn auth_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.auth_file = Some(path.into());
        self
    }

    pub fn credentials(mut self, registry: &str, creds: Credentials) -> Self {
        self.credentials.insert(registry.to_string(), creds);
        self
    }

    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub(crate) fn settings(&self, registry: &str) -> RegistrySettings {
        self.registries.get(registry).cloned().unwrap_or_default()
    }

    pub(crate) fn verify_for(&self, registry: &str) -> bool {
        self.settings(registry)
            .tls_verify
            .unwrap_or(self.tls_verify)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let r = RetryPolicy {
            attempts: 5,
            base: Duration::from_millis(100),
            max: Duration::from_millis(350),
        };
        assert_eq!(r.delay(0), Duration::from_millis(100));
        assert_eq!(r.delay(1), Duration::from_millis(200));
        assert_eq!(r.delay(2), Duration::from_millis(350));
        assert_eq!(r.delay(40), Duration::from_millis(350));
    }

    #[test]
    fn per_registry_overrides() {
        let c = ClientConfig::default()
            .insecure_registry("a:5000")
            .registry_tls_verify("b", false);
        assert!(c.settings("a:5000").insecure);
        assert!(!c.verify_for("b"));
        assert!(c.verify_for("c"));
        assert!(!c.tls_verify(false).verify_for("c"));
    }

    #[test]
    fn password_is_not_printed() {
        let s = format!("{:?}", Credentials::new("u", "secret"));
        assert!(!s.contains("secret"), "{s}");
    }
}
