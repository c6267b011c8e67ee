//! DNS over TCP on 127.0.0.11:53 (clients retry there after a truncated
//! UDP reply): a short-lived thread per connection, at most
//! [`MAX_CONNECTIONS`] at once, answering from a snapshot of the zone
//! and forwarding over TCP. The thread enters the namespace a server is
//! reached from before connecting (setns affects the thread only).

use std::fs::File;
use std::io::{Read, Write};
use std::net::{IpAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::wire::{self, Rcode};
use crate::zone::{upstreams, Client, Outcome, Zone};

use super::sys;

/// Connections served at once; more are closed at once.
pub const MAX_CONNECTIONS: usize = 32;
/// A connection idle this long is closed; a server has as long to answer.
const IDLE: Duration = Duration::from_secs(10);
const CONNECT: Duration = Duration::from_secs(4);

/// What a connection's thread needs.
pub struct Conn {
    pub stream: TcpStream,
    pub zone: Arc<Zone>,
    pub client: Client,
    /// The client's namespace and the host's.
    pub ns: File,
    pub host_ns: Option<File>,
    pub host_servers: Vec<IpAddr>,
    pub active: Arc<AtomicUsize>,
}

/// Serves the connection in a thread, or closes it when too many are open.
pub fn spawn(c: Conn) {
    if c.active.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
        c.active.fetch_sub(1, Ordering::SeqCst);
        return;
    }
    let active = c.active.clone();
    let spawned = std::thread::Builder::new()
        .stack_size(128 * 1024)
        .spawn(move || {
            serve(c);
        });
    if spawned.is_err() {
        active.fetch_sub(1, Ordering::SeqCst);
    }
}

fn serve(mut c: Conn) {
    let _ = c.stream.set_nonblocking(false);
    let _ = c.stream.set_read_timeout(Some(IDLE));
    let _ = c.stream.set_write_timeout(Some(IDLE));
    while let Some(msg) = read_msg(&mut c.stream) {
        let Some(reply) = answer(&c, &msg) else {
            break;
        };
        if write_msg(&mut c.stream, &reply).is_err() {
            break;
        }
    }
    c.active.fetch_sub(1, Ordering::SeqCst);
}

/// The reply to one message; None to close the connection.
fn answer(c: &Conn, msg: &[u8]) -> Option<Vec<u8>> {
    let q = match wire::parse_query(msg) {
        Ok(q) => q,
        Err(_) => {
            let h = wire::Header::parse(msg).ok().filter(|h| !h.is_response())?;
            return Some(wire::error_reply(&h, Rcode::FormErr));
        }
    };
    match c.zone.resolve(&c.client, &q) {
        Outcome::Reply(rc, answers) => Some(wire::reply(&q, rc, &answers, usize::from(u16::MAX))),
        Outcome::Forward => {
            let ups = upstreams(&c.client, &c.host_servers);
            let rc = if ups.is_empty() {
                Rcode::Refused
            } else {
                Rcode::ServFail
            };
            for up in ups {
                let ns = if up.from_host {
                    c.host_ns.as_ref()
                } else {
                    Some(&c.ns)
                };
                if let Some(reply) = ns.and_then(|ns| exchange(ns, up.addr, msg, q.question)) {
                    return Some(reply);
                }
            }
            Some(wire::reply(&q, rc, &[], usize::from(u16::MAX)))
        }
    }
}

/// One query over TCP to `server`, from namespace `ns`.
fn exchange(ns: &File, server: std::net::SocketAddr, msg: &[u8], q: &[u8]) -> Option<Vec<u8>> {
    sys::setns_net(ns).ok()?;
    let mut s = TcpStream::connect_timeout(&server, CONNECT).ok()?;
    s.set_read_timeout(Some(IDLE)).ok()?;
    s.set_write_timeout(Some(IDLE)).ok()?;
    write_msg(&mut s, msg).ok()?;
    let reply = read_msg(&mut s)?;
    let same_id = wire::id_of(&reply) == wire::id_of(msg);
    (same_id && wire::answers_question(&reply, q)).then_some(reply)
}

fn read_msg(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut len = [0u8; 2];
    s.read_exact(&mut len).ok()?;
    let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
    s.read_exact(&mut msg).ok()?;
    Some(msg)
}

fn write_msg(s: &mut TcpStream, msg: &[u8]) -> std::io::Result<()> {
    let len = u16::try_from(msg.len()).unwrap_or(u16::MAX);
    let mut out = Vec::with_capacity(msg.len() + 2);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&msg[..usize::from(len)]);
    s.write_all(&out)
}
