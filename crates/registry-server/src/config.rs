//! The server's settings: the config file (TOML, docs/registry-server.md)
//! and the command line's flags over it, resolved into [`ServerConfig`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use yurta_tls::TlsFiles;

use crate::auth::{Rule, Scheme};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:5000";
pub const DEFAULT_STORAGE: &str = "/var/lib/yurta/registry";

/// The config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub storage: Option<PathBuf>,
    pub read_only: Option<bool>,
    pub insecure: Option<bool>,
    pub tls: Option<TlsSection>,
    pub auth: Option<AuthSection>,
    #[serde(default)]
    pub access: Vec<Rule>,
    pub limits: Option<LimitsSection>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub client_ca: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSection {
    pub htpasswd: Option<PathBuf>,
    pub scheme: Option<Scheme>,
    pub realm: Option<String>,
    pub service: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSection {
    pub header_timeout_secs: Option<u64>,
    pub body_idle_timeout_secs: Option<u64>,
    pub max_connections: Option<usize>,
    pub max_blob_bytes: Option<u64>,
}

/// What the command line gave (None: not given, the file or default).
#[derive(Debug, Default, Clone)]
pub struct Options {
    pub config: Option<PathBuf>,
    pub listen: Option<String>,
    pub storage: Option<PathBuf>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub htpasswd: Option<PathBuf>,
    pub read_only: bool,
    pub insecure: bool,
    pub body_idle_timeout: Option<Duration>,
}

/// Protections against clients that send too much or too slowly.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_timeout: Duration,
    /// A body that stalls this long is cut off.
    pub body_idle: Duration,
    pub connections: usize,
    pub max_blob: Option<u64>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_timeout: Duration::from_secs(30),
            body_idle: Duration::from_secs(60),
            connections: 1024,
            max_blob: None,
        }
    }
}

/// Everything `serve` needs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub storage: PathBuf,
    pub tls: Option<TlsFiles>,
    pub htpasswd: Option<PathBuf>,
    pub scheme: Scheme,
    pub realm: Option<String>,
    pub service: String,
    pub rules: Vec<Rule>,
    pub read_only: bool,
    pub insecure: bool,
    pub limits: Limits,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("read the config file {}: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("config file {}: {error}", path.display())]
    Parse {
        path: PathBuf,
        error: Box<toml::de::Error>,
    },
    #[error("invalid listen address {0:?}: expected HOST:PORT, e.g. 127.0.0.1:5000")]
    Listen(String),
    #[error("--tls-cert and --tls-key go together")]
    HalfTls,
    #[error("refusing to serve plain HTTP on {0}, which is not a loopback address: give --tls-cert and --tls-key, or --insecure")]
    Insecure(SocketAddr),
}

/// Reads a config file.
pub fn load(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
        path: path.to_path_buf(),
        error,
    })?;
    toml::from_str(&text).map_err(|error| ConfigError::Parse {
        path: path.to_path_buf(),
        error: Box::new(error),
    })
}

fn socket_addr(s: &str) -> Result<SocketAddr, ConfigError> {
    use std::net::ToSocketAddrs;
    s.to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| ConfigError::Listen(s.to_string()))
}

/// The flags over the file (if any) over the defaults.
pub fn resolve(o: Options) -> Result<ServerConfig, ConfigError> {
    let file = match &o.config {
        Some(p) => load(p)?,
        None => FileConfig::default(),
    };
    let listen = o.listen.or(file.listen).unwrap_or(DEFAULT_LISTEN.into());
    let listen = socket_addr(&listen)?;
    let file_tls = file.tls.map(|t| (Some(t.cert), Some(t.key), t.client_ca));
    let (fc, fk, ca) = file_tls.unwrap_or((None, None, None));
    let tls = match (o.tls_cert.or(fc), o.tls_key.or(fk)) {
        (Some(cert), Some(key)) => Some(TlsFiles {
            cert,
            key,
            client_ca: ca,
        }),
        (None, None) => None,
        _ => return Err(ConfigError::HalfTls),
    };
    let insecure = o.insecure || file.insecure.unwrap_or(false);
    if tls.is_none() && !insecure && !listen.ip().is_loopback() {
        return Err(ConfigError::Insecure(listen));
    }
    let auth = file.auth.unwrap_or_default();
    let fl = file.limits.unwrap_or_default();
    let d = Limits::default();
    let limits = Limits {
        header_timeout: fl
            .header_timeout_secs
            .map(Duration::from_secs)
            .unwrap_or(d.header_timeout),
        body_idle: o
            .body_idle_timeout
            .or(fl.body_idle_timeout_secs.map(Duration::from_secs))
            .unwrap_or(d.body_idle),
        connections: fl.max_connections.unwrap_or(d.connections).max(1),
        max_blob: fl.max_blob_bytes,
    };
    Ok(ServerConfig {
        listen,
        storage: o.storage.or(file.storage).unwrap_or(DEFAULT_STORAGE.into()),
        tls,
        htpasswd: o.htpasswd.or(auth.htpasswd),
        scheme: auth.scheme.unwrap_or_default(),
        realm: auth.realm,
        service: auth.service.unwrap_or("yurta-registry".into()),
        rules: file.access,
        read_only: o.read_only || file.read_only.unwrap_or(false),
        insecure,
        limits,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_on_loopback() {
        let o = Options {
            listen: Some("0.0.0.0:5000".into()),
            ..Default::default()
        };
        let err = resolve(o.clone()).unwrap_err().to_string();
        assert!(err.contains("0.0.0.0:5000"), "{err}");
        let ok = resolve(Options {
            insecure: true,
            ..o
        })
        .unwrap();
        assert!(ok.insecure);
        assert_eq!(resolve(Options::default()).unwrap().listen.port(), 5000);
    }

    #[test]
    fn the_file_is_read_and_flags_win() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registry.toml");
        std::fs::write(
            &path,
            r#"
listen = "127.0.0.1:6000"
storage = "/srv/registry"
[auth]
htpasswd = "/etc/htpasswd"
scheme = "basic"
[[access]]
repositories = ["e2k/*"]
users = ["alice"]
actions = ["pull", "push"]
"#,
        )
        .unwrap();
        let o = Options {
            config: Some(path.clone()),
            storage: Some("/flag".into()),
            ..Default::default()
        };
        let c = resolve(o).unwrap();
        assert_eq!(c.listen.port(), 6000);
        assert_eq!(c.storage, PathBuf::from("/flag"));
        assert_eq!(c.scheme, Scheme::Basic);
        assert_eq!(c.rules.len(), 1);
        std::fs::write(&path, "lissten = 1").unwrap();
        let err = resolve(Options {
            config: Some(path),
            ..Default::default()
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("lissten"), "{err}");
    }
}
