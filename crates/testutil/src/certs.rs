//! Test certificates made with the `openssl` CLI (RSA 2048, valid two
//! days), so no TLS crate enters the build.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use crate::process::run;

/// A CA (`ca.crt`, `ca.key`) and a server certificate for 127.0.0.1 signed
/// by it (`server.crt`, `server.key`), in a temporary directory.
pub struct Certs {
    pub dir: TempDir,
}

impl Certs {
    /// Makes the CA and the server certificate (subjectAltName IP:127.0.0.1).
    pub fn make() -> Certs {
        let dir = tempfile::tempdir().expect("a temporary directory for certificates");
        let d = dir.path();
        self_signed(d, "ca", "/CN=yurta test CA");
        openssl(
            d,
            &[
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
            ],
        );
        fs::write(
            d.join("ext.cnf"),
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
             keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap_or_else(|e| panic!("writing ext.cnf in {}: {e}", d.display()));
        openssl(
            d,
            &[
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
            ],
        );
        Certs { dir }
    }

    /// A file of the directory: `ca.crt`, `server.crt`, `server.key`...
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// Makes a self-signed certificate `<stem>.crt` with its unencrypted key
/// `<stem>.key` in `dir`, for `subject` (e.g. `/CN=name`).
pub fn self_signed(dir: &Path, stem: &str, subject: &str) {
    let (key, crt) = (format!("{stem}.key"), format!("{stem}.crt"));
    openssl(
        dir,
        &[
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", &key, "-out", &crt,
            "-days", "2", "-subj", subject,
        ],
    );
}

/// `openssl ARGS` in `dir`; returns stdout, panics on failure.
pub fn openssl(dir: &Path, args: &[&str]) -> Vec<u8> {
    run(Command::new("openssl").current_dir(dir).args(args))
}
