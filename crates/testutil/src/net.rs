//! Ports on 127.0.0.1.

use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use crate::process::poll_until;

/// A port on 127.0.0.1 that was free a moment ago (the kernel's pick for
/// an ephemeral bind, released at once).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap_or_else(|e| panic!("binding 127.0.0.1:0 for a free port: {e}"))
        .port()
}

/// Whether something accepts TCP connections on 127.0.0.1:`port` within
/// `limit` (tried every 30 ms).
pub fn wait_listening(port: u16, limit: Duration) -> bool {
    poll_until(limit, Duration::from_millis(30), || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    })
}
