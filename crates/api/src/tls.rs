//! TLS for TCP endpoints, through OpenSSL: the server's certificate chain
//! and key, and with a CA (`--tls-verify`) client certificates required
//! and verified against it (Docker's `--tlsverify`).

use std::path::{Path, PathBuf};

use openssl::ssl::{SslAcceptor, SslFiletype, SslMethod, SslVerifyMode};

/// The files of `--tls-cert`, `--tls-key` and `--tls-verify`.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// Client certificates must be signed by this CA.
    pub client_ca: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
#[error("TLS: {what} {}: {error}", path.display())]
pub struct TlsError {
    what: &'static str,
    path: PathBuf,
    error: openssl::error::ErrorStack,
}

fn err<'a>(
    what: &'static str,
    path: &'a Path,
) -> impl FnOnce(openssl::error::ErrorStack) -> TlsError + 'a {
    move |error| TlsError {
        what,
        path: path.to_path_buf(),
        error,
    }
}

/// An acceptor over `files` (Mozilla's intermediate settings: TLS 1.2+).
pub fn acceptor(files: &TlsFiles) -> Result<SslAcceptor, TlsError> {
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server())
        .map_err(err("set up", &files.cert))?;
    b.set_certificate_chain_file(&files.cert)
        .map_err(err("load the certificate", &files.cert))?;
    b.set_private_key_file(&files.key, SslFiletype::PEM)
        .map_err(err("load the key", &files.key))?;
    b.check_private_key()
        .map_err(err("the key does not match the certificate", &files.key))?;
    if let Some(ca) = &files.client_ca {
        b.set_ca_file(ca).map_err(err("load the CA", ca))?;
        b.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
    }
    Ok(b.build())
}
