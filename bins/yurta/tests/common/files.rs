//! A directory served over plain HTTP by Debian's python3 (`http.server`)
//! on this machine, for the tests that download: `ADD URL`, `import URL`,
//! the build's local apt repository. Stopped when dropped.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct FileServer {
    pub port: u16,
    server: Child,
}

impl FileServer {
    /// Serves `dir` on 127.0.0.1.
    pub fn loopback(dir: &Path) -> FileServer {
        FileServer::start(dir, "127.0.0.1")
    }

    /// Serves `dir` on every address of the machine (reachable from a
    /// container at its bridge's gateway).
    pub fn every_address(dir: &Path) -> FileServer {
        FileServer::start(dir, "0.0.0.0")
    }

    fn start(dir: &Path, bind: &str) -> FileServer {
        let port = yurta_testutil::net::free_port();
        let server = Command::new("/usr/bin/python3")
            .args(["-m", "http.server", "--bind", bind, &port.to_string()])
            .arg("--directory")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m http.server");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the file server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        FileServer { port, server }
    }

    /// The URL of `name` (a path below the directory).
    pub fn url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}
