//! TLS for yurta's TCP servers (the registry server and the Engine API
//! service), through OpenSSL: ring and aws-lc do not build for e2k.
//!
//! It owns loading the server's certificate chain and key, and an
//! optional CA whose client certificates are then required. It does not
//! own sockets or handshakes: callers wrap their streams themselves
//! (`tokio-openssl`).

use std::path::{Path, PathBuf};

use openssl::ssl::{SslAcceptor, SslFiletype, SslMethod, SslVerifyMode};

/// The files of `--tls-cert`, `--tls-key` and a client CA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM certificate chain, the server's certificate first.
    pub cert: PathBuf,
    /// PEM private key of `cert`.
    pub key: PathBuf,
    /// Client certificates must be signed by this CA (mutual TLS).
    pub client_ca: Option<PathBuf>,
}

/// A file that OpenSSL would not take, and why.
#[derive(Debug, thiserror::Error)]
#[error("TLS: {what} {}: {error}", path.display())]
pub struct TlsError {
    what: &'static str,
    path: PathBuf,
    error: openssl::error::ErrorStack,
}

fn failed<'a>(
    what: &'static str,
    path: &'a Path,
) -> impl FnOnce(openssl::error::ErrorStack) -> TlsError + 'a {
    move |error| TlsError {
        what,
        path: path.to_path_buf(),
        error,
    }
}

/// An acceptor over `files` with Mozilla's intermediate settings (TLS 1.2
/// and 1.3), checking that the key matches the certificate.
pub fn acceptor(files: &TlsFiles) -> Result<SslAcceptor, TlsError> {
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server())
        .map_err(failed("set up", &files.cert))?;
    b.set_certificate_chain_file(&files.cert)
        .map_err(failed("load the certificate", &files.cert))?;
    b.set_private_key_file(&files.key, SslFiletype::PEM)
        .map_err(failed("load the key", &files.key))?;
    b.check_private_key()
        .map_err(failed("the key does not match the certificate", &files.key))?;
    if let Some(ca) = &files.client_ca {
        b.set_ca_file(ca).map_err(failed("load the CA", ca))?;
        b.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
    }
    Ok(b.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_certificate_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let files = TlsFiles {
            cert: dir.path().join("nope.pem"),
            key: dir.path().join("nope.key"),
            client_ca: None,
        };
        let Err(err) = acceptor(&files) else {
            panic!("a missing certificate was accepted");
        };
        let err = err.to_string();
        assert!(err.starts_with("TLS: load the certificate "), "{err}");
        assert!(err.contains("nope.pem"), "{err}");
    }

    #[test]
    fn a_certificate_that_is_not_pem_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("cert.pem");
        std::fs::write(&cert, "not a certificate").unwrap();
        let files = TlsFiles {
            key: cert.clone(),
            cert,
            client_ca: None,
        };
        assert!(acceptor(&files).is_err());
    }
}
