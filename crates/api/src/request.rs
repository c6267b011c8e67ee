//! One request as handlers see it: the path's parameters, the query, the
//! body read within the limits, and helpers for answers.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Response, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::body::{full, Body};
use crate::error::ApiError;
use crate::filters::Filters;
use crate::server::State;

/// A routed request.
pub(crate) struct Call {
    pub state: Arc<State>,
    pub parts: hyper::http::request::Parts,
    pub body: Option<Incoming>,
    /// The pattern's `{…}` parts, in order.
    pub params: Vec<String>,
    pub query: Vec<(String, String)>,
}

pub(crate) type Reply = Result<Response<Body>, ApiError>;

impl Call {
    pub fn param(&self, i: usize) -> &str {
        self.params.get(i).map_or("", String::as_str)
    }

    /// The last value of a query parameter.
    pub fn q(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a repeated query parameter.
    pub fn q_all(&self, key: &str) -> Vec<String> {
        self.query
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// A boolean query parameter as Docker reads them (`1`, `true`, …).
    pub fn flag(&self, key: &str) -> Result<bool, ApiError> {
        match self.q(key) {
            None | Some("" | "0" | "false" | "False" | "FALSE") => Ok(false),
            Some("1" | "true" | "True" | "TRUE") => Ok(true),
            Some(v) => Err(ApiError::bad_request(format!(
                "invalid value for {key}: {v:?} (true or false)"
            ))),
        }
    }

    /// The `filters` parameter, in either of Docker's encodings.
    pub fn filters(&self) -> Result<Filters, ApiError> {
        Filters::parse(self.q("filters"))
    }

    /// The whole body, at most the configured limit, within the body
    /// timeout.
    pub async fn bytes(&mut self) -> Result<Bytes, ApiError> {
        let Some(body) = self.body.take() else {
            return Ok(Bytes::new());
        };
        let limits = self.state.limits;
        let read = Limited::new(body, limits.body).collect();
        match tokio::time::timeout(limits.body_timeout, read).await {
            Err(_) => Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request body did not arrive within {}s",
                    limits.body_timeout.as_secs()
                ),
            )),
            Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body too large: the limit is {} bytes", limits.body),
            )),
            Ok(Err(e)) => Err(ApiError::bad_request(format!("read the request body: {e}"))),
            Ok(Ok(c)) => Ok(c.to_bytes()),
        }
    }

    /// The body as JSON of type `T`; an empty body is `T::default()`.
    pub async fn json<T: DeserializeOwned + Default>(&mut self) -> Result<T, ApiError> {
        let b = self.bytes().await?;
        if b.iter().all(u8::is_ascii_whitespace) {
            return Ok(T::default());
        }
        serde_json::from_slice(&b)
            .map_err(|e| ApiError::bad_request(format!("invalid JSON in the request body: {e}")))
    }
}

/// Runs blocking library code on tokio's blocking pool.
pub(crate) async fn blocking<T, F>(f: F) -> Result<T, ApiError>
where
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("a request handler failed: {e}")))?
}

/// A JSON answer.
pub(crate) fn json<T: Serialize + ?Sized>(status: StatusCode, v: &T) -> Response<Body> {
    let text = serde_json::to_vec(v).unwrap_or_default();
    let mut r = Response::new(full(text));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

pub(crate) fn ok<T: Serialize + ?Sized>(v: &T) -> Reply {
    Ok(json(StatusCode::OK, v))
}

/// An answer without a body.
pub(crate) fn status(status: StatusCode) -> Reply {
    let mut r = Response::new(crate::body::empty());
    *r.status_mut() = status;
    Ok(r)
}

/// `application/x-www-form-urlencoded` decoding of one query part.
pub fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() && s.is_char_boundary(i + 3) => {
                match u8::from_str_radix(&s[i + 1..i + 3], 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The query string's pairs, decoded.
pub fn query(q: Option<&str>) -> Vec<(String, String)> {
    q.unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_decode() {
        let q = query(Some("filters=%7B%22a%22%3A1%7D&x=a+b&bad=%zz&end=%4"));
        assert_eq!(q[0], ("filters".into(), "{\"a\":1}".into()));
        assert_eq!(q[1].1, "a b");
        assert_eq!(q[2].1, "%zz");
        assert_eq!(q[3].1, "%4");
    }
}
