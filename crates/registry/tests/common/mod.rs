//! Test fixtures: real `docker-registry` processes on 127.0.0.1 (plain,
//! htpasswd, TLS, token auth), certificates made with the `openssl` CLI,
//! tiny OCI images built in memory, `skopeo`, and a stub HTTP server for
//! the cases a real registry does not produce (token endpoint, redirects,
//! failures).
#![allow(dead_code)]

pub mod image;
pub mod stub;
pub mod token;

use std::fs;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// How the registry authenticates.
pub enum Auth {
    None,
    /// htpasswd basic auth for one user.
    Basic {
        user: String,
        pass: String,
    },
    /// Docker token auth: tokens from `realm`, signed by the key of `cert`.
    Token {
        realm: String,
        service: String,
        issuer: String,
        cert: PathBuf,
    },
}

/// A `docker-registry serve` child, killed and reaped on drop.
pub struct Registry {
    child: Child,
    pub port: u16,
    pub dir: TempDir,
}

impl Registry {
    pub fn start(auth: Auth, tls: Option<(&Path, &Path)>) -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let config = config_yaml(dir.path(), port, &auth, tls);
        let config_path = dir.path().join("config.yml");
        fs::write(&config_path, config).unwrap();
        let log = fs::File::create(dir.path().join("registry.log")).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("docker-registry (apt-get install docker-registry)");
        let reg = Registry { child, port, dir };
        wait_listening(port);
        reg
    }

    pub fn plain() -> Registry {
        Registry::start(Auth::None, None)
    }

    /// `127.0.0.1:PORT`, the registry part of references.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Where the filesystem driver keeps a blob's bytes.
    pub fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap();
        self.dir
            .path()
            .join("data/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

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
            fs::write(&file, out).unwrap();
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

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_listening(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(30));
    }
    panic!("registry did not listen on 127.0.0.1:{port}");
}

/// Runs a command, panics with its stderr on failure, returns stdout.
pub fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A CA and a server certificate for 127.0.0.1 signed by it.
pub struct Certs {
    pub dir: TempDir,
}

impl Certs {
    pub fn make() -> Certs {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let ossl = || {
            let mut c = Command::new("openssl");
            c.current_dir(d);
            c
        };
        run(ossl().args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "2",
            "-subj",
            "/CN=yurta test CA",
        ]));
        run(ossl().args([
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ]));
        fs::write(
            d.join("ext.cnf"),
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
             keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        run(ossl().args([
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ]));
        Certs { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// `skopeo copy` with TLS verification off, no signature policy.
pub fn skopeo_copy(from: &str, to: &str) {
    run(Command::new("skopeo").args([
        "--insecure-policy",
        "copy",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        "--quiet",
        from,
        to,
    ]));
}

/// `skopeo inspect --raw` of a reference in a plain-http registry.
pub fn skopeo_raw(reference: &str) -> Vec<u8> {
    run(Command::new("skopeo").args(["inspect", "--raw", "--tls-verify=false", reference]))
}
