//! How a registry is reached: scheme (https, or http for insecure
//! registries and the loopback fallback), API host (Docker Hub's
//! `registry-1.docker.io`), and an HTTP agent whose TLS trusts the system CAs
//! plus the registry's CA directory, through OpenSSL (`native-tls`).

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig, TlsProvider};
use ureq::Agent;

use crate::config::ClientConfig;
use crate::error::{Error, Result};
use crate::reference::{split_host_port, DOCKER_HUB};

const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// System CA bundles, first one found wins (Debian, Fedora, SUSE, Alpine).
const SYSTEM_CA_BUNDLES: [&str; 4] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
];

/// A resolved registry: where requests go and with which agent.
#[derive(Debug)]
pub(crate) struct Endpoint {
    pub registry: String,
    pub base: String,
    pub agent: Agent,
    /// What to tell the user when TLS fails.
    pub tls_hint: String,
}

impl Endpoint {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A `Location` from the registry may be absolute or relative to the host.
    pub fn resolve_location(&self, location: &str) -> String {
        if location.starts_with("http://") || location.starts_with("https://") {
            location.to_string()
        } else {
            self.url(location)
        }
    }
}

/// True for `localhost`, `127.0.0.0/8` and `::1` (with or without a port):
/// these get Docker's https-then-http fallback.
pub fn is_loopback(registry: &str) -> bool {
    let (host, _) = split_host_port(registry);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn api_host(registry: &str) -> &str {
    if registry == DOCKER_HUB {
        DOCKER_HUB_API
    } else {
        registry
    }
}

/// The scheme a registry starts with; loopback registries may later fall
/// back to http (see `Client::endpoint`).
pub(crate) fn build(config: &ClientConfig, registry: &str, https: bool) -> Result<Arc<Endpoint>> {
    let scheme = if https { "https" } else { "http" };
    let agent = agent(config, registry)?;
    Ok(Arc::new(Endpoint {
        registry: registry.to_string(),
        base: format!("{scheme}://{}", api_host(registry)),
        agent,
        tls_hint: tls_hint(config, registry),
    }))
}

fn tls_hint(config: &ClientConfig, registry: &str) -> String {
    if !config.verify_for(registry) {
        return "certificate verification is off for this registry".to_string();
    }
    let dir = config
        .certs_dirs
        .first()
        .map_or_else(|| PathBuf::from("<certs dir>"), |d| d.join(registry));
    format!(
        "to trust the registry's CA put it in {}/ca.crt, or use --tls-verify=false",
        dir.display()
    )
}

fn agent(config: &ClientConfig, registry: &str) -> Result<Agent> {
    let tls = tls_config(config, registry)?;
    let cfg = Agent::config_builder()
        .http_status_as_error(false)
        .user_agent(config.user_agent.as_str())
        .timeout_connect(Some(config.connect_timeout))
        .timeout_per_read(Some(config.read_timeout))
        .max_idle_connections_per_host(8)
        .tls_config(tls)
        .build();
    Ok(Agent::new_with_config(cfg))
}

fn tls_config(config: &ClientConfig, registry: &str) -> Result<TlsConfig> {
    let builder = TlsConfig::builder().provider(TlsProvider::NativeTls);
    if !config.verify_for(registry) {
        return Ok(builder.disable_verification(true).build());
    }
    let extra = registry_cas(&config.certs_dirs, registry)?;
    let roots = if extra.is_empty() {
        // OpenSSL's default verify paths: the system store.
        RootCerts::PlatformVerifier
    } else {
        let mut all = system_cas()?;
        all.extend(extra);
        RootCerts::new_with_certs(&all)
    };
    Ok(builder.root_certs(roots).build())
}

/// Every `*.crt` in `<dir>/<registry>/` for each configured dir.
fn registry_cas(dirs: &[PathBuf], registry: &str) -> Result<Vec<Certificate<'static>>> {
    let mut certs = Vec::new();
    for dir in dirs {
        let dir = dir.join(registry);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "crt"))
            .collect();
        files.sort();
        for f in files {
            certs.extend(read_pem_certs(&f)?);
        }
    }
    Ok(certs)
}

fn system_cas() -> Result<Vec<Certificate<'static>>> {
    let from_env = std::env::var_os("SSL_CERT_FILE").map(PathBuf::from);
    let candidates = from_env
        .into_iter()
        .chain(SYSTEM_CA_BUNDLES.iter().map(PathBuf::from));
    for path in candidates {
        if path.is_file() {
            return read_pem_certs(&path);
        }
    }
    Ok(Vec::new())
}

fn read_pem_certs(path: &Path) -> Result<Vec<Certificate<'static>>> {
    let pem = std::fs::read(path).map_err(|e| Error::file(path, e))?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item.map_err(|e| Error::file(path, format!("bad PEM: {e}")))? {
            PemItem::Certificate(c) => certs.push(c),
            _ => continue,
        }
    }
    if certs.is_empty() {
        return Err(Error::file(path, "no PEM certificate in it"));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names() {
        for r in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:5000",
            "127.1.2.3",
            "[::1]:5000",
        ] {
            assert!(is_loopback(r), "{r}");
        }
        for r in [
            "example.com",
            "10.0.0.1:5000",
            "docker.io",
            "localhost.example:1",
        ] {
            assert!(!is_loopback(r), "{r}");
        }
    }

    #[test]
    fn docker_hub_api_host() {
        let c = ClientConfig::default();
        let e = build(&c, "docker.io", true).unwrap();
        assert_eq!(e.url("/v2/"), "https://registry-1.docker.io/v2/");
        let e = build(&c, "h:5000", false).unwrap();
        assert_eq!(e.resolve_location("/v2/x?a=1"), "http://h:5000/v2/x?a=1");
        assert_eq!(e.resolve_location("https://s3/x"), "https://s3/x");
    }

    #[test]
    fn ca_dir_without_pem_is_an_error_naming_the_file() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("reg:1")).unwrap();
        std::fs::write(d.path().join("reg:1/ca.crt"), "junk").unwrap();
        let e = registry_cas(&[d.path().to_path_buf()], "reg:1").unwrap_err();
        assert!(e.to_string().contains("reg:1/ca.crt"), "{e}");
        assert!(registry_cas(&[d.path().to_path_buf()], "other")
            .unwrap()
            .is_empty());
    }
}
