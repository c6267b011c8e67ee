//! The world of a container test (`containers.rs`, `networking.rs`): a
//! private root with the image `img` (busybox), its own nft table and
//! link names, tests one at a time, and a guard that removes everything
//! and checks that no link, table, mount, cgroup, process or record of the
//! test is left.

use std::os::unix::fs::symlink;
use std::path::Path;
use std::sync::Mutex;

use super::{sh, tar_of, Out, Yurta};

pub static SERIAL: Mutex<()> = Mutex::new(());

pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// A test's world: root, names of its host objects, the image `img`.
pub struct World {
    pub y: Yurta,
    pub tag: String,
    /// The root is a tmpfs of this test's (unmounted last).
    tmpfs: bool,
    _serial: std::sync::MutexGuard<'static, ()>,
}

impl World {
    pub fn new() -> Option<World> {
        if !is_root() {
            eprintln!("skipped: needs root");
            return None;
        }
        let serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let tag = format!("{}", std::process::id() % 100_000);
        let w = World {
            y: Yurta::new(),
            tag,
            tmpfs: false,
            _serial: serial,
        };
        w.image();
        Some(w)
    }

    /// A world whose root is a tmpfs of `size` (`16m`): a disk that fills.
    pub fn on_tmpfs(size: &str) -> Option<World> {
        if !is_root() {
            eprintln!("skipped: needs root");
            return None;
        }
        let serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let y = Yurta::new();
        std::fs::create_dir_all(y.root()).unwrap();
        let root = y.root();
        let opts = format!("size={size}");
        sh(
            "mount",
            &["-t", "tmpfs", "-o", &opts, "tmpfs", root.to_str().unwrap()],
        )
        .ok();
        let w = World {
            y,
            tag: format!("{}", std::process::id() % 100_000),
            tmpfs: true,
            _serial: serial,
        };
        w.image();
        Some(w)
    }

    pub fn table(&self) -> String {
        format!("ytt{}", self.tag)
    }

    /// Host sides of this test process's veths (another process, a CI
    /// run of the same tests, has its own).
    pub fn veth_prefix(&self) -> String {
        format!("yq{}x", self.tag)
    }

    pub fn bridge(&self) -> String {
        format!("ytt{}d", self.tag)
    }

    pub fn cmd(&self, args: &[&str]) -> std::process::Command {
        let mut c = self.y.cmd(args);
        c.env("YURTA_NET_TABLE", self.table())
            .env("YURTA_NET_BRIDGE", self.bridge())
            .env("YURTA_NET_BRIDGE_PREFIX", format!("ytu{}-", self.tag))
            .env("YURTA_NET_VETH_PREFIX", self.veth_prefix());
        c
    }

    pub fn run(&self, args: &[&str]) -> Out {
        let o = self
            .cmd(args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        Out::of(o)
    }

    /// [`World::run`] with `input` on stdin.
    pub fn run_stdin(&self, args: &[&str], input: &str) -> Out {
        use std::io::Write;
        let mut child = self
            .cmd(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
        let o = child.wait_with_output().unwrap();
        Out::of(o)
    }

    /// busybox with the applets the tests use, imported as `img`.
    pub fn image(&self) {
        let root = self.y.rootfs();
        for tool in [
            "sleep", "httpd", "ping", "wget", "hostname", "ps", "grep", "id", "pwd",
        ] {
            symlink("busybox", root.join("bin").join(tool)).unwrap();
        }
        let tar = self.y.path("rootfs.tar");
        tar_of(&root, &tar);
        self.run(&["import", "-c", "CMD [\"sh\"]", tar.to_str().unwrap(), "img"])
            .ok();
    }

    pub fn ids(&self) -> Vec<String> {
        self.run(&["ps", "-aq", "--no-trunc"])
            .ok()
            .stdout
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// `run --rm ARGS img true` must be refused: exit 125 and one line of
    /// stderr that starts with `want`.
    pub fn assert_run_refused(&self, args: &[&str], want: &str) {
        let mut all = vec!["run", "--rm"];
        all.extend_from_slice(args);
        all.extend(["img", "true"]);
        let o = self.run(&all);
        assert_eq!(o.code, 125, "{args:?}: {}", o.stderr);
        assert!(o.stderr.starts_with(want), "{args:?}: {}", o.stderr);
        assert_eq!(o.stderr.lines().count(), 1, "{args:?}: {}", o.stderr);
    }

    pub fn inspect(&self, name: &str, field: &str) -> String {
        self.run(&["inspect", "-f", &format!("{{{{{field}}}}}"), name])
            .ok()
            .stdout
            .trim()
            .to_string()
    }
}

fn processes_with(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for p in std::fs::read_dir("/proc").unwrap().flatten() {
        let cmdline = std::fs::read(p.path().join("cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains(text) {
            out.push(format!(
                "process {:?}: {}",
                p.file_name(),
                String::from_utf8_lossy(&cmdline)
            ));
        }
    }
    out
}

pub fn links_with(prefixes: &[&str]) -> Vec<String> {
    let out = sh("ip", &["-o", "link", "show"]).stdout;
    out.lines()
        .filter_map(|l| l.split(": ").nth(1))
        .map(|n| n.split('@').next().unwrap_or(n).to_string())
        .filter(|n| prefixes.iter().any(|p| n.starts_with(p)))
        .collect()
}

impl Drop for World {
    fn drop(&mut self) {
        let ids = self.ids();
        for id in &ids {
            let _ = self.run(&["rm", "-f", "-v", id]);
        }
        let _ = self.run(&["network", "prune", "-f"]);
        let root = self.y.root();
        let mut leftovers = Vec::new();
        for id in &ids {
            if Path::new(&format!("/sys/fs/cgroup/memory/yurta/{id}")).exists()
                || Path::new(&format!("/sys/fs/cgroup/yurta/{id}")).exists()
            {
                leftovers.push(format!("cgroup of {id}"));
            }
        }
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        let r = root.display().to_string();
        // (A tmpfs root is the test's own mount, unmounted below.)
        leftovers.extend(
            mountinfo
                .lines()
                .filter(|l| l.contains(&r) && l.split(' ').nth(4) != Some(r.as_str()))
                .map(str::to_string),
        );
        // A supervisor's exit command may be finishing its last step.
        let start = std::time::Instant::now();
        let processes = loop {
            let found = processes_with(&r);
            if found.is_empty() || start.elapsed() > std::time::Duration::from_secs(3) {
                break found;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        leftovers.extend(processes);
        let records = self.run(&["ps", "-aq"]).stdout;
        if !records.trim().is_empty() {
            leftovers.push(format!("records {records}"));
        }
        // A veth left to its namespace's teardown goes a few ms later.
        let user_bridges = format!("ytu{}-", self.tag);
        let own = [self.veth_prefix(), user_bridges];
        let own: Vec<&str> = own.iter().map(String::as_str).collect();
        yurta_testutil::process::poll_until(
            std::time::Duration::from_secs(3),
            std::time::Duration::from_millis(10),
            || links_with(&own).is_empty(),
        );
        leftovers.extend(links_with(&own));
        // The default network stays, as in Docker; the test removes it.
        let _ = sh("ip", &["link", "del", &self.bridge()]);
        let _ = sh("nft", &["delete", "table", "ip", &self.table()]);
        if self.tmpfs {
            let _ = sh("umount", &["-l", root.to_str().unwrap()]);
        }
        if !std::thread::panicking() {
            assert!(leftovers.is_empty(), "left behind: {leftovers:#?}");
        }
    }
}

/// A TCP port free on 127.0.0.1 right now.
#[allow(unused_imports)] // not every test target takes a port
pub use yurta_testutil::net::free_port;
