//! `GET /containers/{id}/attach/ws`: attach over a WebSocket (RFC 6455),
//! as browsers and Docker's `attach/ws` clients use it. The socket's
//! messages are the container's raw stdio (no 8-byte frames, as Docker's):
//! binary or text messages from the client go to its stdin, its output
//! comes back as binary messages. Underneath it is the same bridge to the
//! supervisor's attach socket as the hijacked attach, through an
//! in-memory pipe.

use futures_util::{SinkExt, StreamExt};
use hyper::header::{HeaderValue, CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, UPGRADE};
use hyper::upgrade::OnUpgrade;
use hyper::{Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::attach::{bridge, connect, target, wait_for_start};
use crate::body::empty;
use crate::error::ApiError;
use crate::request::{Call, Reply};

pub(crate) async fn attach_ws(mut c: Call) -> Reply {
    let key = c
        .parts
        .headers
        .get(SEC_WEBSOCKET_KEY)
        .map(|k| derive_accept_key(k.as_bytes()));
    let upgrade = c
        .parts
        .headers
        .get(UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let (Some(accept), true) = (key, upgrade) else {
        return Err(ApiError::bad_request(
            "attach/ws needs a WebSocket handshake (Upgrade: websocket, Sec-WebSocket-Key)",
        ));
    };
    let Some(on_upgrade) = c.parts.extensions.remove::<OnUpgrade>() else {
        return Err(ApiError::bad_request(
            "attach/ws: the connection cannot be upgraded",
        ));
    };
    let stream = c.flag("stream")?;
    let (streams, path, pending) = target(&c, true, stream).await?;
    tokio::spawn(async move {
        let Ok(upgraded) = on_upgrade.await else {
            return;
        };
        let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
        let sock = match pending {
            Some(rx) => wait_for_start(rx, &path).await,
            None => connect(&path).ok(),
        };
        let Some(sock) = sock else {
            let (mut sink, _) = ws.split();
            let _ = sink.send(Message::Close(None)).await;
            return;
        };
        let (ours, theirs) = tokio::io::duplex(64 * 1024);
        let bridged = tokio::spawn(bridge(theirs, sock, streams));
        pump(ws, ours).await;
        let _ = bridged.await;
    });
    let mut r = Response::new(empty());
    *r.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = r.headers_mut();
    h.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(UPGRADE, HeaderValue::from_static("websocket"));
    if let Ok(v) = HeaderValue::from_str(&accept) {
        h.insert(SEC_WEBSOCKET_ACCEPT, v);
    }
    Ok(r)
}

/// Messages to the pipe and the pipe's bytes to messages, until either
/// side ends; then the socket is closed.
async fn pump<S>(ws: WebSocketStream<S>, pipe: tokio::io::DuplexStream)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut sink, mut messages) = ws.split();
    let (mut from_bridge, mut to_bridge) = tokio::io::split(pipe);
    let input = async move {
        while let Some(Ok(m)) = messages.next().await {
            let data = match m {
                Message::Binary(b) => b,
                Message::Text(t) => t.into_bytes(),
                Message::Close(_) => break,
                _ => continue,
            };
            if to_bridge.write_all(&data).await.is_err() {
                break;
            }
        }
        let _ = to_bridge.shutdown().await;
    };
    let output = async {
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match from_bridge.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if sink.send(Message::binary(buf[..n].to_vec())).await.is_err() {
                        return;
                    }
                }
            }
        }
        let _ = sink.send(Message::Close(None)).await;
    };
    tokio::pin!(input);
    tokio::select! {
        _ = &mut input => {}
        _ = output => {}
    }
}
