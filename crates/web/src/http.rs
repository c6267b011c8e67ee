//! Small answers (JSON, errors, redirects), request bits (query values,
//! cookies, whether the request comes from the console's own origin) and
//! the WebSocket handshake the consoles use.

use std::future::Future;

use hyper::body::Incoming;
use hyper::header::{
    HeaderValue, CONNECTION, CONTENT_TYPE, HOST, LOCATION, ORIGIN, SEC_WEBSOCKET_ACCEPT,
    SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_PROTOCOL, UPGRADE,
};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::WebSocketStream;
use yurta_api::body::{empty, full, Body};

pub type Socket = WebSocketStream<TokioIo<Upgraded>>;

pub fn json<T: Serialize>(status: StatusCode, v: &T) -> Response<Body> {
    let text = serde_json::to_string(v).unwrap_or_default() + "\n";
    let mut r = Response::new(full(text));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

/// Docker's error shape, `{"message": …}`.
pub fn error(status: StatusCode, message: impl std::fmt::Display) -> Response<Body> {
    json(
        status,
        &serde_json::json!({ "message": message.to_string() }),
    )
}

pub fn status(status: StatusCode) -> Response<Body> {
    let mut r = Response::new(empty());
    *r.status_mut() = status;
    r
}

/// 303 See Other to `to`.
pub fn redirect(to: &str) -> Response<Body> {
    let mut r = status(StatusCode::SEE_OTHER);
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

/// The first value of `key` in a query or form string, percent-decoded.
pub fn param(query: &str, key: &str) -> Option<String> {
    yurta_api::form_pairs(Some(query))
        .into_iter()
        .find_map(|(k, v)| (k == key).then_some(v))
}

/// application/x-www-form-urlencoded decoding (`+` is a space).
pub fn decode(s: &str) -> String {
    yurta_api::form_decode(s)
}

pub fn header(req: &Request<Incoming>, name: hyper::header::HeaderName) -> Option<&str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Whether the request's `Origin` (when the browser sent one) is the
/// console's own: scheme and `Host`.
pub fn same_origin(req: &Request<Incoming>, tls: bool) -> bool {
    let Some(origin) = header(req, ORIGIN) else {
        return true;
    };
    let Some(host) = header(req, HOST) else {
        return false;
    };
    let scheme = if tls { "https" } else { "http" };
    origin == format!("{scheme}://{host}")
}

/// Whether the request asks for a WebSocket.
pub fn is_websocket(req: &Request<Incoming>) -> bool {
    header(req, UPGRADE).is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
        && req.headers().contains_key(SEC_WEBSOCKET_KEY)
}

/// Answers the handshake (101) and runs `serve` on the socket once the
/// connection is upgraded. Asked-for subprotocols: `binary` is taken
/// (noVNC asks for it), no other.
pub fn websocket<F, Fut>(mut req: Request<Incoming>, serve: F) -> Response<Body>
where
    F: FnOnce(Socket) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(accept) = req
        .headers()
        .get(SEC_WEBSOCKET_KEY)
        .map(|k| derive_accept_key(k.as_bytes()))
    else {
        return error(StatusCode::BAD_REQUEST, "a WebSocket handshake is needed");
    };
    let binary = header(&req, SEC_WEBSOCKET_PROTOCOL)
        .is_some_and(|p| p.split(',').any(|x| x.trim() == "binary"));
    let Some(on_upgrade) = req.extensions_mut().remove::<OnUpgrade>() else {
        return error(StatusCode::BAD_REQUEST, "the connection cannot be upgraded");
    };
    tokio::spawn(async move {
        if let Ok(upgraded) = on_upgrade.await {
            let ws =
                WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
            serve(ws).await;
        }
    });
    let mut r = status(StatusCode::SWITCHING_PROTOCOLS);
    let h = r.headers_mut();
    h.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(UPGRADE, HeaderValue::from_static("websocket"));
    if let Ok(v) = HeaderValue::from_str(&accept) {
        h.insert(SEC_WEBSOCKET_ACCEPT, v);
    }
    if binary {
        h.insert(SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static("binary"));
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_decode() {
        assert_eq!(param("a=1&next=%2Fvms%2Fx&b", "next").unwrap(), "/vms/x");
        assert_eq!(param("u=a+b%21", "u").unwrap(), "a b!");
        assert_eq!(param("b", "b").unwrap(), "");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz"), "%zz");
        assert_eq!(decode("%41%4"), "A%4");
        assert_eq!(decode("%aé"), "%aé");
        assert!(param("a=1", "z").is_none());
    }
}
