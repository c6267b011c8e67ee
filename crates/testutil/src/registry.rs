//! Real registries for tests: Debian's `docker-registry` serving on
//! 127.0.0.1 on a free port, with filesystem storage in a temporary
//! directory, optionally with TLS and htpasswd (apache2-utils) or token
//! auth; and `skopeo` to fill and read them.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

use crate::net::{free_port, wait_listening};
use crate::process::run;

/// How the registry authenticates.
pub enum Auth {
    /// Anyone may pull and push.
    None,
    /// htpasswd basic auth for one user.
    Basic { user: String, pass: String },
    /// Docker token auth: tokens from `realm`, signed by the key of `cert`.
    Token {
        realm: String,
        service: String,
        issuer: String,
        cert: PathBuf,
    },
}

impl Auth {
    /// htpasswd basic auth for `user` with `pass`.
    pub fn basic(user: &str, pass: &str) -> Auth {
        Auth::Basic {
            user: user.to_string(),
            pass: pass.to_string(),
        }
    }
}

/// A `docker-registry serve` child, killed and reaped on drop. Its config,
/// log (`registry.log`) and storage (`data/`) live in `dir`.
pub struct Registry {
    child: Child,
    pub port: u16,
    pub dir: TempDir,
}

impl Registry {
    /// Starts a registry with `auth`, serving https with the certificate
    /// and key `tls` if given, and waits until it accepts connections.
    pub fn start(auth: Auth, tls: Option<(&Path, &Path)>) -> Registry {
        let dir = tempfile::tempdir().expect("a temporary directory for the registry");
        let port = free_port();
        let config_path = dir.path().join("config.yml");
        let config = config_yaml(dir.path(), port, &auth, tls);
        fs::write(&config_path, config).expect("writing the registry's config.yml");
        let log = fs::File::create(dir.path().join("registry.log")).expect("creating registry.log");
        let log_err = log
            .try_clone()
            .expect("duplicating registry.log's descriptor");
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err))
            .spawn()
            .expect("docker-registry (apt-get install docker-registry)");
        let reg = Registry { child, port, dir };
        // On panic `reg` is dropped, which kills the child.
        assert!(
            wait_listening(port, Duration::from_secs(15)),
            "registry did not listen on 127.0.0.1:{port}; log:\n{}",
            reg.log()
        );
        reg
    }

    /// A plain-http registry without authentication.
    pub fn plain() -> Registry {
        Registry::start(Auth::None, None)
    }

    /// `127.0.0.1:PORT`, the registry part of references.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Where the filesystem driver keeps a blob's bytes.
    pub fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest
            .strip_prefix("sha256:")
            .unwrap_or_else(|| panic!("{digest:?} is not a sha256 digest"));
        self.dir
            .path()
            .join("data/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    /// What the registry wrote to stdout and stderr so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The registry's config.yml: errors-only logging, deletes enabled, and the
/// TLS and auth sections (writing the htpasswd file into `dir`).
fn config_yaml(dir: &Path, port: u16, auth: &Auth, tls: Option<(&Path, &Path)>) -> String {
    let mut y = format!(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n\
         storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
         http:\n  addr: 127.0.0.1:{port}\n",
        dir.join("data").display()
    );
    if let Some((cert, key)) = tls {
        y += &format!(
            "  tls:\n    certificate: {}\n    key: {}\n",
            cert.display(),
            key.display()
        );
    }
    match auth {
        Auth::None => {}
        Auth::Basic { user, pass } => {
            let out = run(Command::new("htpasswd").args(["-Bbn", user, pass]));
            let file = dir.join("htpasswd");
            fs::write(&file, out).expect("writing the htpasswd file");
            y += &format!(
                "auth:\n  htpasswd:\n    realm: basic-realm\n    path: {}\n",
                file.display()
            );
        }
        Auth::Token {
            realm,
            service,
            issuer,
            cert,
        } => {
            y += &format!(
                "auth:\n  token:\n    realm: {realm}\n    service: {service}\n    \
                 issuer: {issuer}\n    rootcertbundle: {}\n",
                cert.display()
            );
        }
    }
    y
}

/// `skopeo copy` with TLS verification off and no signature policy;
/// `args` go before the two references (e.g. `--dest-creds=u:p`).
pub fn skopeo_copy(args: &[&str], from: &str, to: &str) {
    run(Command::new("skopeo")
        .args(["--insecure-policy", "copy", "--quiet"])
        .args(["--src-tls-verify=false", "--dest-tls-verify=false"])
        .args(args)
        .args([from, to]));
}

/// `skopeo inspect --raw` of a reference in a plain-http registry.
pub fn skopeo_raw(reference: &str) -> Vec<u8> {
    run(Command::new("skopeo").args(["inspect", "--raw", "--tls-verify=false", reference]))
}
