//! The serial console of a running VM: everything QEMU's serial port
//! prints goes to `console.log` (rotated) and to every client of
//! `run/console.sock`; what clients send goes to the serial port.

use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;

use super::store::VmDir;

/// console.log is rotated to console.log.1 beyond this size, so a VM
/// that runs for months keeps at most twice this much.
pub const MAX_CONSOLE_LOG: u64 = 16 << 20;

/// The previous console log, `console.log.1`.
pub fn rotated(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".1");
    PathBuf::from(p)
}

/// An append-only log file rotated once it would pass `max` bytes. Write
/// errors (a full disk) drop output, never block the guest.
pub struct ConsoleLog {
    path: PathBuf,
    file: Option<File>,
    size: u64,
    max: u64,
}

impl ConsoleLog {
    pub fn open(path: &Path, max: u64) -> anyhow::Result<ConsoleLog> {
        let file = append(path).with_context(|| format!("open {}", path.display()))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        Ok(ConsoleLog {
            path: path.to_path_buf(),
            file: Some(file),
            size,
            max,
        })
    }

    pub fn write(&mut self, data: &[u8]) {
        if self.size > 0 && self.size + data.len() as u64 > self.max {
            self.rotate();
        }
        if let Some(f) = &mut self.file {
            if f.write_all(data).is_ok() {
                self.size += data.len() as u64;
            }
        }
    }

    fn rotate(&mut self) {
        self.file = None;
        let _ = std::fs::rename(&self.path, rotated(&self.path));
        self.file = append(&self.path).ok();
        self.size = 0;
    }
}

fn append(path: &Path) -> std::io::Result<File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
}

type Clients = Arc<Mutex<Vec<UnixStream>>>;

/// Serial output → console.log and every client; clients' input → the
/// serial port.
pub fn relay_console(vm: &VmDir, serial: UnixStream) -> anyhow::Result<()> {
    let mut log = ConsoleLog::open(&vm.console_log(), MAX_CONSOLE_LOG)?;
    let sock = vm.console_sock();
    let _ = std::fs::remove_file(&sock);
    let listener = UnixListener::bind(&sock).with_context(|| format!("bind {}", sock.display()))?;
    let clients: Clients = Arc::default();
    let input = Arc::new(Mutex::new(serial.try_clone()?));
    let out_clients = clients.clone();
    let mut serial = serial;
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = serial.read(&mut buf) {
            if n == 0 {
                break;
            }
            log.write(&buf[..n]);
            let mut list = out_clients.lock().unwrap_or_else(|p| p.into_inner());
            list.retain_mut(|c| c.write_all(&buf[..n]).is_ok());
        }
        let mut list = out_clients.lock().unwrap_or_else(|p| p.into_inner());
        list.clear();
    });
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let _ = client.set_write_timeout(Some(Duration::from_secs(2)));
            let Ok(reader) = client.try_clone() else {
                continue;
            };
            clients
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(client);
            let input = input.clone();
            std::thread::spawn(move || forward_input(reader, &input));
        }
    });
    Ok(())
}

fn forward_input(mut client: UnixStream, serial: &Mutex<UnixStream>) {
    let mut buf = [0u8; 1024];
    while let Ok(n) = client.read(&mut buf) {
        if n == 0 {
            break;
        }
        let mut s = serial.lock().unwrap_or_else(|p| p.into_inner());
        if s.write_all(&buf[..n]).is_err() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_past_the_limit_keeping_one_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("console.log");
        let mut log = ConsoleLog::open(&path, 10).unwrap();
        log.write(b"0123456");
        log.write(b"789");
        assert_eq!(std::fs::read(&path).unwrap(), b"0123456789");
        log.write(b"abc");
        assert_eq!(std::fs::read(rotated(&path)).unwrap(), b"0123456789");
        assert_eq!(std::fs::read(&path).unwrap(), b"abc");
        log.write(b"defghijk");
        log.write(b"l");
        assert_eq!(std::fs::read(rotated(&path)).unwrap(), b"abc");
        assert_eq!(std::fs::read(&path).unwrap(), b"defghijkl");
        // Reopened, it goes on from the file's size.
        drop(log);
        let mut log = ConsoleLog::open(&path, 10).unwrap();
        log.write(b"mn");
        assert_eq!(std::fs::read(rotated(&path)).unwrap(), b"defghijkl");
        assert_eq!(std::fs::read(&path).unwrap(), b"mn");
    }
}
