//! A TCP proxy on 127.0.0.1 in front of a registry that counts (and can
//! slow down) the bytes sent to the client, so a test can interrupt a pull
//! mid-way and see how much the next pull downloads.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

pub struct Proxy {
    pub port: u16,
    /// Bytes sent from the registry to clients.
    pub down: Arc<AtomicU64>,
    /// While set, about 32 MB/s downstream.
    pub slow: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Proxy {
    pub fn start(upstream: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let down = Arc::new(AtomicU64::new(0));
        let slow = Arc::new(AtomicBool::new(true));
        let stop = Arc::new(AtomicBool::new(false));
        let (d, s, st) = (down.clone(), slow.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !st.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => serve(client, upstream, d.clone(), s.clone()),
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Proxy {
            port,
            down,
            slow,
            stop,
            thread: Some(thread),
        }
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(client: TcpStream, upstream: u16, down: Arc<AtomicU64>, slow: Arc<AtomicBool>) {
    client.set_nonblocking(false).unwrap();
    let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
        return;
    };
    let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    std::thread::spawn(move || pump(c2, s2, None, None));
    std::thread::spawn(move || pump(server, client, Some(down), Some(slow)));
}

fn pump(
    mut from: TcpStream,
    mut to: TcpStream,
    count: Option<Arc<AtomicU64>>,
    slow: Option<Arc<AtomicBool>>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
        if let Some(c) = &count {
            c.fetch_add(n as u64, Ordering::SeqCst);
        }
        if slow.as_ref().is_some_and(|s| s.load(Ordering::SeqCst)) {
            std::thread::sleep(Duration::from_micros(n as u64 / 32));
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}
