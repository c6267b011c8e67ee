//! The VM tests' lab: Debian's kernel with a busybox initramfs (built
//! once per test binary), a private root with its own bridge, nft table
//! and tap prefix, one QEMU at a time, and checks that nothing of a VM is
//! left.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;
use yurta_vm::testkit;

use super::{sh, Out, Yurta};

pub const BOOT: Duration = Duration::from_secs(120);

/// The kernel and initramfs, built once per test binary.
pub struct Kit {
    pub kernel: PathBuf,
    pub initrd: PathBuf,
    _dir: tempfile::TempDir,
}

pub fn kit() -> Option<&'static Kit> {
    static KIT: OnceLock<Option<Kit>> = OnceLock::new();
    KIT.get_or_init(|| {
        if !nix::unistd::geteuid().is_root() {
            eprintln!("skipped: needs root");
            return None;
        }
        let kernel = match testkit::host_kit() {
            Ok(k) => k,
            Err(why) => {
                eprintln!("skipped: {why}");
                return None;
            }
        };
        let dir = tempfile::tempdir().unwrap();
        let initrd = testkit::build_initramfs(&kernel, dir.path());
        Some(Kit {
            kernel,
            initrd,
            _dir: dir,
        })
    })
    .as_ref()
}

/// A test's private root, network names and QEMU lock.
pub struct Lab {
    pub y: Yurta,
    pub tag: String,
    pub kit: &'static Kit,
    _serial: std::sync::MutexGuard<'static, ()>,
}

impl Lab {
    pub fn new() -> Option<Lab> {
        let kit = kit()?;
        let serial = testkit::qemu_lock();
        Some(Lab {
            y: Yurta::new(),
            tag: format!("{}", std::process::id() % 100_000),
            kit,
            _serial: serial,
        })
    }

    pub fn bridge(&self) -> String {
        format!("yvb{}", self.tag)
    }
    pub fn table(&self) -> String {
        format!("yvt{}", self.tag)
    }
    pub fn tap_prefix(&self) -> String {
        format!("yvp{}x", self.tag)
    }

    pub fn cmd(&self, args: &[&str]) -> std::process::Command {
        let mut c = self.y.cmd(args);
        c.env("YURTA_NET_TABLE", self.table())
            .env("YURTA_NET_BRIDGE", self.bridge())
            .env("YURTA_NET_BRIDGE_PREFIX", format!("yvu{}-", self.tag))
            .env("YURTA_NET_VETH_PREFIX", format!("yvv{}x", self.tag))
            .env("YURTA_NET_TAP_PREFIX", self.tap_prefix());
        c
    }

    pub fn run(&self, args: &[&str]) -> Out {
        let o = self.cmd(args).stdin(Stdio::null()).output().unwrap();
        Out::of(o)
    }

    /// `vm create` of a direct kernel boot under TCG, with extra flags.
    pub fn create(&self, name: &str, extra: &[&str]) -> Out {
        let k = self.kit.kernel.to_str().unwrap();
        let i = self.kit.initrd.to_str().unwrap();
        let mut args = vec![
            "vm",
            "create",
            "--kernel",
            k,
            "--initrd",
            i,
            "--cmdline",
            "console=ttyS0 quiet panic=-1",
            "--accel",
            "tcg",
            "--memory",
            "256M",
        ];
        args.extend_from_slice(extra);
        args.push(name);
        self.run(&args)
    }

    pub fn inspect(&self, name: &str) -> Value {
        let out = self.run(&["vm", "inspect", name]).ok();
        let v: Value = serde_json::from_str(&out.stdout).unwrap();
        v[0].clone()
    }

    pub fn logs(&self, name: &str) -> String {
        self.run(&["vm", "logs", name]).ok().stdout
    }

    /// Waits until the console log has `needle` `count` times.
    pub fn wait_log(&self, name: &str, needle: &str, count: usize) -> String {
        let deadline = Instant::now() + BOOT;
        loop {
            let log = self.logs(name);
            if log.matches(needle).count() >= count {
                return log;
            }
            assert!(
                Instant::now() < deadline,
                "{needle:?} ×{count} not in the console log:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn vm_dir(&self, name: &str) -> PathBuf {
        self.y.root().join("vms").join(name)
    }

    /// Nothing of the VM `name` is left: no QEMU or supervisor process
    /// naming it, no tap with the test's prefix, no sockets.
    pub fn assert_clean(&self, name: &str) {
        let procs = self.qemu_processes(name);
        assert!(procs.is_empty(), "processes left: {procs:?}");
        let sup = self.processes(&format!("__supervise --sync-fd 3 {name}"));
        assert!(sup.is_empty(), "supervisors left: {sup:?}");
        let taps = links_with(&self.tap_prefix());
        assert!(taps.is_empty(), "taps left: {taps:?}");
        let run = self.vm_dir(name).join("run");
        let socks: Vec<_> = std::fs::read_dir(&run)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sock") || n.ends_with(".pid") || n.ends_with(".json"))
            .collect();
        assert!(socks.is_empty(), "left in {}: {socks:?}", run.display());
    }
}

impl Lab {
    /// This test's processes (their command line names its root) whose
    /// command line contains `needle`: other runs of the tests may have a
    /// VM of the same name.
    pub fn processes(&self, needle: &str) -> Vec<String> {
        let root = self.y.root().to_string_lossy().into_owned();
        processes_naming(needle)
            .into_iter()
            .filter(|c| c.contains(&root))
            .collect()
    }

    /// The QEMU of VM `name` (`-name NAME,process=yurta-vm-NAME`).
    pub fn qemu_processes(&self, name: &str) -> Vec<String> {
        self.processes(&format!("process=yurta-vm-{name}"))
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for name in std::fs::read_dir(self.y.root().join("vms"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let n = name.file_name().to_string_lossy().into_owned();
            let _ = self.run(&["vm", "rm", "-f", &n]);
        }
        let _ = self.run(&["network", "rm", "bridge"]);
        let _ = sh("nft", &["delete", "table", "ip", &self.table()]);
        let _ = sh("ip", &["link", "del", &self.bridge()]);
    }
}

/// Processes whose command line contains `needle`.
pub fn processes_naming(needle: &str) -> Vec<String> {
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|s| s.bytes().all(|b| b.is_ascii_digit()))
        })
        .filter(|e| e.file_name().to_str() != Some(me.as_str()))
        .filter_map(|e| {
            let raw = std::fs::read(e.path().join("cmdline")).ok()?;
            let cmd = String::from_utf8_lossy(&raw).replace('\0', " ");
            cmd.contains(needle).then_some(cmd)
        })
        .collect()
}

pub fn links_with(prefix: &str) -> Vec<String> {
    let out = sh("ip", &["-j", "link"]);
    let v: Value = serde_json::from_str(&out.stdout).unwrap_or(Value::Null);
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l["ifname"].as_str())
        .filter(|n| n.starts_with(prefix))
        .map(str::to_string)
        .collect()
}
