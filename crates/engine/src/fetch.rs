//! Plain HTTP(S) downloads: `import URL` (`docker import`'s `fromSrc` URL)
//! and the build's `ADD URL`. TLS goes through OpenSSL (native-tls) with
//! verification on; a status other than 200 is an error naming the URL.
//! Only the binaries that already link OpenSSL call this (`yurta-registry`
//! and the service), never `yurta` itself.

use std::io::Read;
use std::time::Duration;

use ureq::tls::{TlsConfig, TlsProvider};

/// How long a connection may take to open; the body streams without a
/// deadline (a large root filesystem may take minutes).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// A download that could not start.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: {detail}")]
    Request { url: String, detail: String },
    #[error("{url}: HTTP {status}")]
    Status { url: String, status: String },
}

/// Docker answers a failed download with a 500, whatever its cause.
impl yurta_error::Kinded for FetchError {
    fn kind(&self) -> yurta_error::ErrorKind {
        yurta_error::ErrorKind::Internal
    }
}

/// Whether `source` names an http:// or https:// URL (as `docker import`
/// and `ADD` tell a URL from a path).
pub fn is_url(source: &str) -> bool {
    let lower = source.get(..8).unwrap_or(source).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// GETs `url` and returns its body as a stream, once the answer is a 200.
pub fn get(url: &str) -> Result<Box<dyn Read + Send>, FetchError> {
    let tls = TlsConfig::builder()
        .provider(TlsProvider::NativeTls)
        .build();
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .tls_config(tls)
            .build(),
    );
    let resp = agent.get(url).call().map_err(|e| FetchError::Request {
        url: url.to_string(),
        detail: e.to_string(),
    })?;
    if resp.status() != ureq::http::StatusCode::OK {
        return Err(FetchError::Status {
            url: url.to_string(),
            status: resp.status().to_string(),
        });
    }
    Ok(Box::new(resp.into_body().into_reader()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_told_from_paths() {
        assert!(is_url("http://127.0.0.1:8080/rootfs.tar"));
        assert!(is_url("HTTPS://example.org/x.tgz"));
        assert!(!is_url("rootfs.tar"));
        assert!(!is_url("./http://x"));
        assert!(!is_url("-"));
        assert!(!is_url("ftp://example.org/x.tar"));
        assert!(!is_url("http:"));
    }

    #[test]
    fn a_refused_connection_names_the_url() {
        // Port 1 on loopback: nothing listens there.
        let err = get("http://127.0.0.1:1/rootfs.tar")
            .err()
            .expect("an error");
        assert!(
            err.to_string()
                .starts_with("http://127.0.0.1:1/rootfs.tar: "),
            "{err}"
        );
    }
}
