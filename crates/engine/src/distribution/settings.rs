//! How a front end's request becomes a registry client: TLS verification,
//! plain-http registries, CA directories, the credentials file and
//! credentials given with the request (the API's `X-Registry-Auth`).

use std::path::PathBuf;

use yurta_registry::{Client, ClientConfig, Credentials, DEFAULT_CERTS_DIRS, DOCKER_HUB};

use super::DistributionError;

/// Plain-http registries, one `host[:port]` a line (`#` comments).
const INSECURE_FILE: &str = "/etc/yurta/insecure-registries";
/// Plain-http registries, comma-separated; added to the file's.
const INSECURE_ENV: &str = "YURTA_INSECURE_REGISTRIES";
/// Replaces /etc/yurta/certs.d (`<dir>/<host[:port]>/*.crt`).
const CERTS_ENV: &str = "YURTA_CERTS_DIR";
/// The credentials file, when no `--authfile` is given.
const AUTH_FILE_ENV: &str = "YURTA_AUTH_FILE";

/// What a caller says about reaching registries.
#[derive(Debug, Default, Clone)]
pub struct ClientOptions {
    /// `--tls-verify`; unset means verify.
    pub tls_verify: Option<bool>,
    /// `--authfile`; unset means [`auth_file`]'s default.
    pub auth_file: Option<PathBuf>,
    /// Credentials for one registry, used instead of the file's.
    pub credentials: Option<(String, Credentials)>,
}

/// The credentials file: the one given, else `YURTA_AUTH_FILE`, else
/// `~/.config/yurta/auth.json`.
pub fn auth_file(given: Option<&PathBuf>) -> PathBuf {
    if let Some(p) = given {
        return p.clone();
    }
    if let Some(p) = std::env::var_os(AUTH_FILE_ENV) {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| "/root".into());
    PathBuf::from(home).join(".config/yurta/auth.json")
}

/// The registries to reach over plain http.
pub fn insecure_registries() -> Vec<String> {
    let file = std::fs::read_to_string(INSECURE_FILE).unwrap_or_default();
    let env = std::env::var(INSECURE_ENV).unwrap_or_default();
    let from_file = file.lines().map(|l| l.split('#').next().unwrap_or(""));
    from_file
        .chain(env.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn certs_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = DEFAULT_CERTS_DIRS.iter().map(PathBuf::from).collect();
    if let Some(dir) = std::env::var_os(CERTS_ENV) {
        dirs[0] = PathBuf::from(dir);
    }
    dirs
}

/// A registry's name as credentials are keyed: `docker.io` when none is
/// given; a scheme and path are dropped (`https://index.docker.io/v1/`).
pub fn registry_name(given: Option<&str>) -> Result<String, DistributionError> {
    let raw = given.unwrap_or(DOCKER_HUB).trim();
    let no_scheme = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"))
        .unwrap_or(raw);
    let host = no_scheme.split('/').next().unwrap_or("");
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(DistributionError::invalid(format!(
            "login: invalid registry {raw:?}"
        )));
    }
    Ok(match host {
        "index.docker.io" | "registry-1.docker.io" => DOCKER_HUB.to_string(),
        h => h.to_string(),
    })
}

/// The configuration for `opts` and the environment.
pub fn config(opts: &ClientOptions) -> ClientConfig {
    let mut config = ClientConfig::default()
        .tls_verify(opts.tls_verify.unwrap_or(true))
        .certs_dirs(certs_dirs())
        .auth_file(auth_file(opts.auth_file.as_ref()));
    for r in insecure_registries() {
        config = config.insecure_registry(&r);
    }
    if let Some((registry, creds)) = &opts.credentials {
        config = config.credentials(registry, creds.clone());
    }
    config
}

/// A client for `opts` and the environment.
pub fn client(opts: &ClientOptions) -> Client {
    Client::new(config(opts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_file_given_wins() {
        let p = PathBuf::from("/x/auth.json");
        assert_eq!(auth_file(Some(&p)), p);
    }

    #[test]
    fn registry_names() {
        let n = |s| registry_name(Some(s)).unwrap();
        assert_eq!(n("https://index.docker.io/v1/"), "docker.io");
        assert_eq!(n("127.0.0.1:5000"), "127.0.0.1:5000");
        assert_eq!(n("http://reg.example:5000/"), "reg.example:5000");
        assert_eq!(registry_name(None).unwrap(), "docker.io");
        assert!(registry_name(Some("")).is_err());
    }

    #[test]
    fn request_credentials_are_kept_for_their_registry() {
        let opts = ClientOptions {
            credentials: Some(("r:5000".into(), Credentials::new("u", "p"))),
            ..ClientOptions::default()
        };
        let c = config(&opts);
        assert_eq!(c.credentials["r:5000"].username, "u");
        assert!(c.tls_verify);
    }
}
