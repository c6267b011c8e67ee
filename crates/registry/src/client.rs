//! The [`Client`]: endpoint resolution, and one request loop that adds
//! authentication, retries transient failures with backoff and turns
//! failures into one-line errors. The operations live in `manifest.rs`,
//! `blob.rs` and `upload.rs`.

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Mutex};

use ureq::http::{Method, Request, Response};
use ureq::{Body, SendBody};

use crate::auth::AuthCache;
use crate::authfile::AuthFile;
use crate::config::{ClientConfig, Credentials};
use crate::endpoint::{self, Endpoint};
use crate::error::{Error, Result};

/// Longest wait for the https attempt on a loopback registry: a plain
/// HTTP server may never answer a TLS hello.
const PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A blocking registry client. Cheap to clone; clones share connections,
/// resolved endpoints and tokens, and may be used from several threads.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub config: ClientConfig,
    endpoints: Mutex<HashMap<String, Arc<Endpoint>>>,
    pub auth: AuthCache,
}

/// The body of a request.
pub(crate) enum CallBody<'a> {
    Empty,
    Bytes(&'a [u8]),
    /// Streamed once: a request with it is never retried.
    Reader(Option<&'a mut dyn Read>, u64),
}

/// One request as the operations describe it.
pub(crate) struct Call<'a> {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: CallBody<'a>,
    /// Token scopes, e.g. `repository:a/b:pull`.
    pub scopes: Vec<String>,
    /// Retry on connection errors and 5xx (false for requests that may have
    /// changed state half-way, like an upload chunk).
    pub retry_transient: bool,
}

impl<'a> Call<'a> {
    pub fn new(method: Method, url: String, scopes: Vec<String>) -> Self {
        Call {
            method,
            url,
            headers: Vec::new(),
            body: CallBody::Empty,
            scopes,
            retry_transient: true,
        }
    }

    pub fn no_transient_retry(mut self) -> Self {
        self.retry_transient = false;
        self
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn body(mut self, body: CallBody<'a>) -> Self {
        self.body = body;
        self
    }

    fn resendable(&self) -> bool {
        !matches!(self.body, CallBody::Reader(None, _))
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .finish()
    }
}

impl Client {
    pub fn new(config: ClientConfig) -> Client {
        Client {
            inner: Arc::new(Inner {
                config,
                endpoints: Mutex::new(HashMap::new()),
                auth: AuthCache::default(),
            }),
        }
    }

    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// Credentials for `registry`: given directly, else from the auth file.
    pub fn credentials_for(&self, registry: &str) -> Result<Option<Credentials>> {
        let config = &self.inner.config;
        if let Some(c) = config.credentials.get(registry) {
            return Ok(Some(c.clone()));
        }
        match &config.auth_file {
            Some(path) => AuthFile::new(path).get(registry),
            None => Ok(None),
        }
    }

    /// Where `registry` is reached. Insecure registries use http; loopback
    /// ones try https and fall back to http when the https attempt fails
    /// and an http registry answers `/v2/`; everything else uses https.
    pub(crate) fn endpoint(&self, registry: &str) -> Result<Arc<Endpoint>> {
        if let Some(ep) = self.inner.endpoints.lock().expect("lock").get(registry) {
            return Ok(ep.clone());
        }
        let config = &self.inner.config;
        let ep = if config.settings(registry).insecure {
            endpoint::build(config, registry, false)?
        } else if endpoint::is_loopback(registry) {
            self.probe_loopback(registry)?
        } else {
            endpoint::build(config, registry, true)?
        };
        let mut map = self.inner.endpoints.lock().expect("lock");
        Ok(map.entry(registry.to_string()).or_insert(ep).clone())
    }

    fn probe_loopback(&self, registry: &str) -> Result<Arc<Endpoint>> {
        let config = &self.inner.config;
        let https = endpoint::build(config, registry, true)?;
        let url = https.url("/v2/");
        let probe = |ep: &Endpoint, url: &str| {
            ep.agent
                .get(url)
                .config()
                .timeout_global(Some(PROBE_TIMEOUT))
                .build()
                .call()
        };
        let https_err = match probe(&https, &url) {
            Ok(_) => return Ok(https),
            Err(e) => map_transport(&https, &Method::GET, &url, e),
        };
        let http = endpoint::build(config, registry, false)?;
        match probe(&http, &http.url("/v2/")) {
            Ok(r) if matches!(r.status().as_u16(), 200 | 401) => Ok(http),
            _ => Err(https_err),
        }
    }

    /// Sends a request: adds `Authorization`, answers one 401 by learning
    /// the challenge (and fetching a token), retries transient failures.
    pub(crate) fn send(&self, ep: &Endpoint, mut call: Call) -> Result<Response<Body>> {
        let creds = self.credentials_for(&ep.registry)?;
        let retry = self.inner.config.retry;
        let mut attempt = 0;
        let mut auth_retried = false;
        loop {
            let auth = self.inner.auth.header(ep, creds.as_ref(), &call.scopes)?;
            let result = send_once(ep, &mut call, auth.as_deref());
            let can_retry =
                call.retry_transient && call.resendable() && attempt + 1 < retry.attempts;
            match result {
                Err(e) if can_retry && is_transient(&e) => {}
                Err(e) => return Err(map_transport(ep, &call.method, &call.url, e)),
                Ok(resp) if resp.status() == 401 && !auth_retried && call.resendable() => {
                    let www = header(&resp, "www-authenticate");
                    let auth = &self.inner.auth;
                    if !auth.on_unauthorized(ep, www.as_deref(), &mut call.scopes, creds.is_some())
                    {
                        return Ok(resp);
                    }
                    auth_retried = true;
                    continue;
                }
                Ok(resp) if can_retry && is_transient_status(resp.status().as_u16()) => {}
                Ok(resp) => return Ok(resp),
            }
            std::thread::sleep(retry.delay(attempt));
            attempt += 1;
        }
    }
}

fn send_once(
    ep: &Endpoint,
    call: &mut Call,
    auth: Option<&str>,
) -> std::result::Result<Response<Body>, ureq::Error> {
    let mut builder = Request::builder()
        .method(call.method.clone())
        .uri(call.url.as_str());
    for (k, v) in &call.headers {
        builder = builder.header(*k, v.as_str());
    }
    if let Some(a) = auth {
        builder = builder.header("Authorization", a);
    }
    let has_body = matches!(call.method, Method::POST | Method::PUT | Method::PATCH);
    let len = match &call.body {
        CallBody::Empty => 0,
        CallBody::Bytes(b) => b.len() as u64,
        CallBody::Reader(_, n) => *n,
    };
    if has_body {
        builder = builder.header("Content-Length", len);
    }
    let mut slice: &[u8] = match &call.body {
        CallBody::Bytes(b) => b,
        _ => &[],
    };
    let body = match &mut call.body {
        CallBody::Empty => return ep.agent.run(builder.body(()).map_err(ureq::Error::Http)?),
        CallBody::Bytes(_) => SendBody::from_reader(&mut slice),
        CallBody::Reader(r, _) => match r.take() {
            Some(r) => SendBody::from_reader(r),
            None => return Err(ureq::Error::Other("upload body already consumed".into())),
        },
    };
    ep.agent.run(builder.body(body).map_err(ureq::Error::Http)?)
}

/// Connection-level failures worth another try.
fn is_transient(e: &ureq::Error) -> bool {
    matches!(
        e,
        ureq::Error::Io(_)
            | ureq::Error::Timeout(_)
            | ureq::Error::ConnectionFailed
            | ureq::Error::Protocol(_)
            | ureq::Error::BodyStalled
    )
}

pub(crate) fn is_transient_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

pub(crate) fn header(resp: &Response<Body>, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

pub(crate) fn map_transport(ep: &Endpoint, method: &Method, url: &str, e: ureq::Error) -> Error {
    match e {
        ureq::Error::NativeTls(t) => Error::Tls {
            method: method.to_string(),
            url: url.to_string(),
            detail: t.to_string(),
            hint: ep.tls_hint.clone(),
        },
        error => Error::Transport {
            method: method.to_string(),
            url: url.to_string(),
            error,
        },
    }
}

/// An unexpected status, with the registry's `{"errors":[…]}` if it sent one.
pub(crate) fn status_error(method: &Method, url: &str, mut resp: Response<Body>) -> Error {
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .with_config()
        .limit(64 * 1024)
        .read_to_vec()
        .unwrap_or_default();
    Error::Status {
        method: method.to_string(),
        url: url.to_string(),
        status,
        detail: error_detail(status, &body),
    }
}

fn error_detail(status: u16, body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Errors {
        errors: Vec<Entry>,
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    let mut out = match serde_json::from_slice::<Errors>(body) {
        Ok(e) if !e.errors.is_empty() => {
            let parts: Vec<String> = e
                .errors
                .iter()
                .map(|x| format!("{}: {}", x.code, x.message))
                .collect();
            format!(": {}", parts.join("; "))
        }
        _ => String::new(),
    };
    if status == 401 {
        out.push_str(" (unauthorized: log in or check the credentials)");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_error_bodies() {
        let b =
            br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{}}]}"#;
        assert_eq!(error_detail(404, b), ": MANIFEST_UNKNOWN: manifest unknown");
        assert_eq!(error_detail(500, b"oops"), "");
        assert!(error_detail(401, b"").contains("log in"));
    }

    #[test]
    fn transient_statuses() {
        assert!(is_transient_status(503));
        assert!(!is_transient_status(404));
    }
}
