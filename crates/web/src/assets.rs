//! The pages and their scripts, built by scripts/web.sh from web/ and
//! embedded at compile time (build.rs): served from memory, gzip when the
//! browser takes it, hashed names cached for good.

use bytes::Bytes;
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, VARY};
use hyper::{Response, StatusCode};
use yurta_api::body::{full, Body};

/// A file under web/dist: its path, its bytes, its gzip.
type Embedded = (&'static str, &'static [u8], Option<&'static [u8]>);

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// What a page says when the binary was built without web/dist.
const NOT_BUILT: &str = "<!doctype html><title>yurta</title><p>The web console's pages were not built into this binary: run <code>scripts/web.sh</code>, then build yurta again.</p>\n";

/// One embedded file by its path under web/dist.
pub fn get(path: &str) -> Option<(&'static [u8], Option<&'static [u8]>)> {
    FILES
        .iter()
        .find(|(p, _, _)| *p == path)
        .map(|(_, b, gz)| (*b, *gz))
}

/// Whether the pages were built in.
pub fn built_in() -> bool {
    get("index.html").is_some()
}

/// The answer for `path` (under web/dist), or None.
pub fn response(path: &str, gzip_ok: bool) -> Option<Response<Body>> {
    let (plain, gz) = get(path)?;
    let (data, encoded) = match gz {
        Some(gz) if gzip_ok => (gz, true),
        _ => (plain, false),
    };
    let mut r = Response::new(full(Bytes::from_static(data)));
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type(path)));
    if encoded {
        h.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    h.insert(VARY, HeaderValue::from_static("Accept-Encoding"));
    let cache = match path.starts_with("assets/") && hashed(path) {
        true => "public, max-age=31536000, immutable",
        false => "no-cache",
    };
    h.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    Some(r)
}

/// An HTML page, with `replace` applied (the console page's marker).
pub fn page(name: &str, replace: Option<(&str, &str)>) -> Response<Body> {
    let Some((bytes, _)) = get(name) else {
        return html(StatusCode::SERVICE_UNAVAILABLE, NOT_BUILT);
    };
    let text = String::from_utf8_lossy(bytes).into_owned();
    let text = match replace {
        Some((from, to)) => text.replacen(from, to, 1),
        None => text,
    };
    html(StatusCode::OK, text)
}

/// `text` as an uncached HTML answer.
pub fn html(status: StatusCode, text: impl Into<Bytes>) -> Response<Body> {
    let mut r = Response::new(full(text.into()));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// A name with a content hash in it (`app-3F2A9C1D.js`).
fn hashed(path: &str) -> bool {
    let stem = path.rsplit('/').next().unwrap_or(path);
    let stem = stem.split('.').next().unwrap_or(stem);
    stem.rsplit_once('-')
        .is_some_and(|(_, h)| h.len() >= 8 && h.chars().all(|c| c.is_ascii_alphanumeric()))
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "json" | "map" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_and_types() {
        assert!(hashed("assets/app-3F2A9C1D.js"));
        assert!(!hashed("assets/app.js"));
        assert!(!hashed("assets/x-y.css"));
        assert_eq!(content_type("a/b.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("noext"), "application/octet-stream");
    }
}
