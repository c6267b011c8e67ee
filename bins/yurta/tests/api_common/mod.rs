//! `yurta system service` as the API tests start it: on a private unix
//! socket, over a World's root and host names, stopped (SIGTERM, then
//! SIGKILL) when dropped. Included by the api*.rs test files.

#![allow(dead_code)] // each test file uses part of it

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::common::world::World;
use crate::common::Out;

/// The docker CLI on these machines (a 28.x client).
pub const DOCKER: &str = "/usr/local/bin/docker";

/// Debian's docker.io 20.10 client, if installed (scripts/test.sh unpacks
/// it to /opt/yurta-test/docker.io without the daemon).
pub fn docker_20() -> Option<PathBuf> {
    [
        "/opt/yurta-test/docker.io/usr/bin/docker",
        "/usr/bin/docker",
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

pub fn poll(what: &str, mut ok: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !ok() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub struct Service {
    pub child: Child,
    pub sock: PathBuf,
    pub log: PathBuf,
    /// DOCKER_CONFIG: the clients' own config dir.
    pub config: PathBuf,
}

impl Service {
    /// Starts the service on `w`'s root, serving forever, with `extra`
    /// flags, and waits until it answers.
    pub fn start(w: &World, extra: &[&str]) -> Service {
        let sock = w.y.path("api.sock");
        let uri = format!("unix://{}", sock.display());
        let mut args = vec!["system", "service", "--time", "0"];
        args.extend_from_slice(extra);
        args.push(&uri);
        let s = Service::spawn(w, &args, sock);
        poll("the service's socket", || {
            UnixStream::connect(&s.sock).is_ok()
        });
        s
    }

    /// Runs `yurta ARGS` (a service) without waiting for it.
    pub fn spawn(w: &World, args: &[&str], sock: PathBuf) -> Service {
        let log = w.y.path("service.log");
        let config = w.y.path("docker-config");
        std::fs::create_dir_all(&config).unwrap();
        let child = w
            .cmd(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Service {
            child,
            sock,
            log,
            config,
        }
    }

    pub fn host(&self) -> String {
        format!("unix://{}", self.sock.display())
    }

    /// A command for the client at `bin`, pointed at the service.
    pub fn command(&self, bin: &str) -> Command {
        let mut c = Command::new(bin);
        c.env("DOCKER_HOST", self.host())
            .env("DOCKER_CONFIG", &self.config)
            .env_remove("DOCKER_API_VERSION");
        c
    }

    /// `docker ARGS` (the client at `bin`) against the service.
    pub fn client(&self, bin: &str, args: &[&str]) -> Out {
        let o = self
            .command(bin)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        Out {
            code: o.status.code().unwrap_or(-1),
            raw: o.stdout.clone(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    pub fn docker(&self, args: &[&str]) -> Out {
        self.client(DOCKER, args)
    }

    /// `docker ARGS`, which must succeed: its standard output.
    pub fn docker_ok(&self, args: &[&str]) -> String {
        self.client_ok(DOCKER, args)
    }

    /// `ARGS` with the client at `bin`, which must succeed: its output.
    pub fn client_ok(&self, bin: &str, args: &[&str]) -> String {
        let o = self.client(bin, args);
        assert_eq!(
            o.code,
            0,
            "{bin} {args:?}\nstdout:\n{}\nstderr:\n{}\nservice:\n{}",
            o.stdout,
            o.stderr,
            self.stderr()
        );
        o.stdout
    }

    /// One raw HTTP/1.1 exchange (`Connection: close`): the status code
    /// and the body.
    pub fn raw(&self, method: &str, path: &str, body: &[u8]) -> (u16, String) {
        let mut s = UnixStream::connect(&self.sock).unwrap();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: yurta\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        s.write_all(head.as_bytes()).unwrap();
        let _ = s.write_all(body);
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        let text = String::from_utf8_lossy(&out).into_owned();
        let code = text
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        (code, body.to_string())
    }

    /// The service's resident memory, in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends SIGTERM and waits for the exit.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let mut status = None;
        poll("the service to exit", || {
            status = self.child.try_wait().unwrap();
            status.is_some()
        });
        status.unwrap()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
            let start = std::time::Instant::now();
            while self.child.try_wait().ok().flatten().is_none() {
                if start.elapsed() > Duration::from_secs(10) {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// `GET /` from 127.0.0.1:`port` (a published port); the answer, or
/// empty when nothing answers.
pub fn http_get(port: u16) -> String {
    use std::io::{Read, Write};
    let Ok(mut c) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let _ = c.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = c.write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n");
    let mut out = String::new();
    let _ = c.read_to_string(&mut out);
    out
}
