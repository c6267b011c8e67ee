//! Registry fixtures for the `yurta` binary's tests: Debian's
//! `docker-registry` on 127.0.0.1 (plain, htpasswd, TLS with a CA made by
//! `openssl`), killed on drop — the approach of crates/registry/tests.

use std::fs;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// A `docker-registry serve` child, killed and reaped on drop.
pub struct Registry {
    child: Child,
    pub port: u16,
    pub dir: TempDir,
}

impl Registry {
    /// `basic`: htpasswd user and password; `tls`: certificate and key.
    pub fn start(basic: Option<(&str, &str)>, tls: Option<(&Path, &Path)>) -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let config_path = dir.path().join("config.yml");
        fs::write(&config_path, config_yaml(dir.path(), port, basic, tls)).unwrap();
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
        Registry::start(None, None)
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
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn config_yaml(
    dir: &Path,
    port: u16,
    basic: Option<(&str, &str)>,
    tls: Option<(&Path, &Path)>,
) -> String {
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
    if let Some((user, pass)) = basic {
        let out = run(Command::new("htpasswd").args(["-Bbn", user, pass]));
        let file = dir.join("htpasswd");
        fs::write(&file, out).unwrap();
        y += &format!(
            "auth:\n  htpasswd:\n    realm: basic-realm\n    path: {}\n",
            file.display()
        );
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
        let ossl = |args: &[&str]| {
            run(Command::new("openssl").current_dir(dir.path()).args(args));
        };
        ossl(&[
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
        ]);
        ossl(&[
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
        ]);
        fs::write(
            dir.path().join("ext.cnf"),
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
             keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        ossl(&[
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
        ]);
        Certs { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// `skopeo copy` with TLS verification off and no signature policy.
pub fn skopeo_copy(args: &[&str], from: &str, to: &str) {
    run(Command::new("skopeo")
        .args(["--insecure-policy", "copy", "--quiet"])
        .args(["--src-tls-verify=false", "--dest-tls-verify=false"])
        .args(args)
        .args([from, to]));
}
