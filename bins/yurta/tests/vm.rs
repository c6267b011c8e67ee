//! `yurta vm …` end to end, as root: Debian's kernel with a busybox
//! initramfs under TCG, on the test's own bridge and nft table. Every
//! test checks that no QEMU, supervisor, tap, socket or state of it is
//! left.

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::sh;
use common::vmlab::Lab;
use serde_json::Value;
use yurta_vm::testkit::MARK_READY;

/// `vm console NAME` with piped stdio; output read by a thread.
struct ConsoleClient {
    child: Child,
    out: std::sync::mpsc::Receiver<Vec<u8>>,
    seen: Vec<u8>,
}

impl ConsoleClient {
    fn open(lab: &Lab, name: &str) -> ConsoleClient {
        let mut child = lab
            .cmd(&["vm", "console", name])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        ConsoleClient {
            child,
            out: rx,
            seen: Vec::new(),
        }
    }

    /// Types `cmd`, then waits for the guest to print `name-2`: the
    /// terminal echoes the typed line, so the marker the test waits for is
    /// computed by the guest's shell (`$((1+1))`) and only the command's
    /// success prints it.
    fn run_ok(&mut self, cmd: &str, name: &str) {
        self.type_line(&format!("{cmd} && echo {name}-$((1+1))"));
        self.expect(&format!("{name}-2"), Duration::from_secs(30));
    }

    fn type_line(&mut self, line: &str) {
        let stdin = self.child.stdin.as_mut().unwrap();
        stdin.write_all(format!("{line}\n").as_bytes()).unwrap();
        stdin.flush().unwrap();
    }

    fn expect(&mut self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while !String::from_utf8_lossy(&self.seen).contains(needle) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.out.recv_timeout(left) {
                Ok(b) => self.seen.extend(b),
                Err(_) => panic!(
                    "{needle:?} not on the console; it printed:\n{}",
                    String::from_utf8_lossy(&self.seen)
                ),
            }
        }
    }
}

impl Drop for ConsoleClient {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `vm console NAME` under `script` (a pseudo-terminal), types
/// `keys`, waits, then Ctrl-]; everything the terminal showed.
fn console_on_a_terminal(lab: &Lab, name: &str, keys: &str) -> String {
    let inner = format!(
        "{} --root {} vm console {name}",
        env!("CARGO_BIN_EXE_yurta"),
        lab.y.root().display()
    );
    let mut child = std::process::Command::new("script")
        .args(["-qfec", &inner, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    stdin.write_all(keys.as_bytes()).unwrap();
    std::thread::sleep(Duration::from_secs(2));
    stdin.write_all(&[0x1d]).unwrap();
    wait_output(child, Duration::from_secs(10))
}

/// The child's stdout once it exits (killed after `timeout`: a failure).
fn wait_output(child: Child, timeout: Duration) -> String {
    yurta_testutil::process::wait_output(child, timeout, "a yurta vm command").1
}

fn read_to_string(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

#[test]
fn boot_console_disk_restart_stop_kill_rm() {
    let Some(lab) = Lab::new() else { return };
    lab.create("web", &["--disk", "64M", "--cpus", "1"]).ok();
    let before = lab.inspect("web");
    assert_eq!(before["State"]["Status"], "created");
    assert_eq!(before["Config"]["Arch"], "x86_64");
    assert_eq!(before["Config"]["Accel"], "tcg");
    assert_eq!(before["Config"]["Memory"], 256 << 20);
    assert_eq!(before["Config"]["Networks"][0]["Network"], "bridge");
    let disk = PathBuf::from(before["Config"]["Disks"][0]["Path"].as_str().unwrap());
    assert!(disk.starts_with(lab.vm_dir("web")), "{disk:?}");

    lab.run(&["vm", "start", "web"]).ok();
    let log = lab.wait_log("web", MARK_READY, 1);
    assert!(log.contains("YURTA-GUEST-UP"), "{log}");
    let st = lab.inspect("web");
    assert_eq!(st["State"]["Status"], "running", "{st}");
    assert!(st["State"]["Pid"].as_u64().unwrap() > 0);
    assert_eq!(st["Config"]["AccelUsed"], "tcg");
    let net = &st["Config"]["Networks"][0];
    let tap = net["Tap"].as_str().unwrap().to_string();
    assert!(tap.starts_with(&lab.tap_prefix()), "{net}");
    let master = sh("ip", &["-j", "link", "show", &tap]).ok().stdout;
    assert!(
        master.contains(&format!("\"master\":\"{}\"", lab.bridge())),
        "{master}"
    );
    assert!(net["IPAddress"].as_str().is_some(), "{net}");
    // Operators see the VM in ps by name.
    assert_eq!(lab.qemu_processes("web").len(), 1);

    // Typing into the console reaches the guest's shell; write the disk.
    let mut con = ConsoleClient::open(&lab, "web");
    con.type_line("echo hi-$((6*7))-guest");
    con.expect("hi-42-guest", Duration::from_secs(30));
    con.run_ok(
        "echo persisted-77 | dd of=/dev/vda conv=fsync 2>/dev/null",
        "DD",
    );
    // The tap carries traffic: the guest takes its leased address and
    // reaches the gateway on the bridge.
    let ip = net["IPAddress"].as_str().unwrap();
    let prefix = net["IPPrefixLen"].as_u64().unwrap();
    let gw = net["Gateway"].as_str().unwrap();
    con.run_ok(
        &format!("ip addr add {ip}/{prefix} dev eth0 && ip link set eth0 up && ping -c 1 -W 5 {gw} >/dev/null"),
        "PING-GW",
    );
    drop(con);
    // A container on the same network reaches the VM.
    let rootfs = lab.y.rootfs();
    std::os::unix::fs::symlink("busybox", rootfs.join("bin/ping")).unwrap();
    let tar = lab.y.path("rootfs.tar");
    sh(
        "tar",
        &[
            "-C",
            rootfs.to_str().unwrap(),
            "-cf",
            tar.to_str().unwrap(),
            ".",
        ],
    )
    .ok();
    lab.run(&["import", tar.to_str().unwrap(), "img"]).ok();
    let ping = lab.run(&["run", "--rm", "img", "ping", "-c", "1", "-W", "5", ip]);
    assert_eq!(
        ping.code, 0,
        "container → VM {ip}: {}{}",
        ping.stdout, ping.stderr
    );

    // The data survives a restart (busybox ignores the power button: stop
    // ends with quit after -t).
    lab.run(&["vm", "restart", "-t", "1", "web"]).ok();
    let log = lab.wait_log("web", MARK_READY, 2);
    assert!(log.contains("YURTA-DISK-READ persisted-77"), "{log}");

    let t = Instant::now();
    lab.run(&["vm", "stop", "-t", "1", "web"]).ok();
    eprintln!("stop took {:.1} s", t.elapsed().as_secs_f64());
    let st = lab.inspect("web");
    assert_eq!(st["State"]["Status"], "stopped", "{st}");
    assert_eq!(st["State"]["ExitReason"], "host-qmp-quit", "{st}");
    assert!(!st["State"]["FinishedAt"].as_str().unwrap().is_empty());
    lab.assert_clean("web");
    // Logs stay after the stop.
    assert_eq!(lab.logs("web").matches(MARK_READY).count(), 2);

    lab.run(&["vm", "start", "web"]).ok();
    lab.wait_log("web", MARK_READY, 3);
    // `logs -f` follows until the VM stops.
    let follow = lab
        .cmd(&["vm", "logs", "-f", "--tail", "2", "web"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    lab.run(&["vm", "kill", "web"]).ok();
    let followed = wait_output(follow, Duration::from_secs(10));
    // The last two lines of the log, and nothing after the VM was killed.
    assert!(!followed.is_empty());
    assert!(lab.logs("web").ends_with(&followed), "{followed}");
    assert!(!followed.contains("YURTA-GUEST-UP"), "{followed}");
    let st = lab.inspect("web");
    assert_eq!(st["State"]["Status"], "stopped", "{st}");
    assert_eq!(st["State"]["ExitReason"], "QEMU killed by signal 9", "{st}");
    lab.assert_clean("web");

    lab.run(&["vm", "rm", "web"]).ok();
    assert!(!lab.vm_dir("web").exists());
    assert!(!disk.exists(), "created disk removed");
    let nets = lab.run(&["network", "inspect", "bridge"]).ok().stdout;
    assert!(!nets.contains("vm web"), "lease released: {nets}");
    let bad = lab.run(&["vm", "inspect", "web"]);
    assert_eq!(bad.code, 125);
    assert!(bad.stderr.contains("no such VM"), "{}", bad.stderr);
}

#[test]
fn bad_input_is_one_line_naming_the_value_and_leaves_nothing() {
    let Some(lab) = Lab::new() else { return };
    let cases: &[(&[&str], &str)] = &[
        (
            &["--kernel", "/nonexistent/vmlinuz"],
            "/nonexistent/vmlinuz",
        ),
        (&["--memory", "12x"], "12x"),
        (&["--arch", "sparc64"], "sparc64"),
        (&["--accel", "warp"], "warp"),
        (&["--disk", "/no/such.qcow2"], "/no/such.qcow2"),
        (&["--network", "nosuchnet"], "nosuchnet"),
        (&["--mac", "52:54:zz:00:00:01"], "52:54:zz:00:00:01"),
        (&["--cpus", "0"], "0"),
        (&["--display", "sdl"], "sdl"),
    ];
    for (args, value) in cases {
        let mut full = vec!["vm", "create"];
        // Networks given twice combine: none only when the case is not
        // about networks.
        if !args.contains(&"--network") && !args.contains(&"--mac") {
            full.extend(["--network", "none"]);
        }
        full.extend_from_slice(args);
        full.push("bad");
        let out = lab.run(&full);
        assert_eq!(out.code, 125, "{args:?}: {}", out.stderr);
        assert_eq!(out.stderr.lines().count(), 1, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(value), "{args:?}: {}", out.stderr);
        assert!(!lab.vm_dir("bad").exists(), "{args:?} left a VM dir");
    }
    // The same disk file twice is refused (as `vm disk add` refuses it).
    let file = lab.y.path("twice.raw");
    std::fs::write(&file, vec![0u8; 1 << 20]).unwrap();
    let f = file.to_str().unwrap();
    let out = lab.run(&[
        "vm",
        "create",
        "--network",
        "none",
        "--disk",
        f,
        "--disk",
        f,
        "bad",
    ]);
    assert_eq!(out.code, 125, "{}", out.stderr);
    assert!(
        out.stderr
            .contains(&format!("disk {f} is already attached")),
        "{}",
        out.stderr
    );
    assert!(!lab.vm_dir("bad").exists());
    lab.create("dup", &["--network", "none"]).ok();
    let out = lab.create("dup", &["--network", "none"]);
    assert_eq!(out.code, 125);
    assert!(
        out.stderr.contains("\"dup\" already exists"),
        "{}",
        out.stderr
    );
    let out = lab.run(&["vm", "start", "nosuch"]);
    assert_eq!(out.code, 125);
    assert!(out.stderr.contains("nosuch"), "{}", out.stderr);
    let out = lab.run(&["vm", "console", "dup"]);
    assert_eq!(out.code, 125);
    assert!(
        out.stderr.contains("VM dup is not running"),
        "{}",
        out.stderr
    );
    let names = lab.run(&["vm", "ls", "-q"]).ok().stdout;
    assert_eq!(names.trim(), "dup");
    lab.run(&["vm", "rm", "dup"]).ok();
    assert!(lab.run(&["vm", "ls", "-q"]).ok().stdout.trim().is_empty());
}

#[test]
fn killed_supervisor_shows_unsupervised_and_stop_still_cleans() {
    let Some(lab) = Lab::new() else { return };
    lab.create("orphan", &[]).ok();
    // Two starts at once: one QEMU, both succeed.
    let starts: Vec<Child> = (0..2)
        .map(|_| {
            lab.cmd(&["vm", "start", "orphan"])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in starts {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(lab.qemu_processes("orphan").len(), 1);
    lab.wait_log("orphan", MARK_READY, 1);
    let live: Value =
        serde_json::from_str(&read_to_string(&lab.vm_dir("orphan").join("run/live.json"))).unwrap();
    let sup = live["supervisor_pid"].as_i64().unwrap();
    sh("kill", &["-9", &sup.to_string()]).ok();
    std::thread::sleep(Duration::from_millis(300));
    let ls = lab.run(&["vm", "ls"]).ok().stdout;
    assert!(ls.contains("running (unsupervised)"), "{ls}");
    let out = lab.run(&["vm", "console", "orphan"]);
    assert_eq!(out.code, 125);
    assert!(
        out.stderr.contains("without its supervisor"),
        "{}",
        out.stderr
    );
    lab.run(&["vm", "stop", "-t", "1", "orphan"]).ok();
    assert_eq!(lab.inspect("orphan")["State"]["Status"], "stopped");
    lab.assert_clean("orphan");
}

#[test]
fn vnc_cloud_init_seed_hotplug_and_snapshots() {
    let Some(lab) = Lab::new() else { return };
    let user_data = lab.y.path("user-data");
    std::fs::write(&user_data, "#cloud-config\n# YURTA-UD-MARK\n").unwrap();
    let ud = user_data.to_str().unwrap();
    lab.create(
        "snap",
        &["--disk", "64M", "--display", "vnc", "--cloud-init", ud],
    )
    .ok();
    lab.run(&["vm", "start", "snap"]).ok();
    lab.wait_log("snap", MARK_READY, 1);

    // VNC answers with the RFB greeting where `vm vnc` says.
    let url = lab.run(&["vm", "vnc", "snap"]).ok().stdout;
    let addr = url.trim().strip_prefix("vnc://").unwrap().to_string();
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut greeting = [0u8; 4];
    s.read_exact(&mut greeting).unwrap();
    assert_eq!(&greeting, b"RFB ");
    drop(s);

    // The NoCloud seed: labelled cidata on the host, a read-only disk
    // holding the user-data in the guest.
    let seed = lab.vm_dir("snap").join("run/seed.iso");
    let label = sh(
        "blkid",
        &["-o", "value", "-s", "LABEL", seed.to_str().unwrap()],
    );
    assert_eq!(label.stdout.trim(), "cidata");
    let mut con = ConsoleClient::open(&lab, "snap");
    con.type_line("echo SEED-RO-$(cat /sys/block/vdb/ro)");
    con.expect("SEED-RO-1", Duration::from_secs(30));
    con.run_ok("grep -q YURTA-UD-MARK /dev/vdb", "SEED-HAS-USERDATA");

    // On a terminal: raw mode, typed keys reach the guest, Ctrl-] detaches
    // and the VM runs on.
    let tty = console_on_a_terminal(&lab, "snap", "echo TTY-$((7*6))\n");
    assert!(tty.contains("TTY-42"), "{tty}");
    assert!(tty.contains("Detached from VM snap"), "{tty}");
    assert_eq!(lab.inspect("snap")["State"]["Status"], "running");

    // Hot-plug a 32 MiB disk, see it in the guest, unplug it.
    let id = lab.run(&["vm", "disk", "add", "snap", "32M"]).ok().stdout;
    assert_eq!(id.trim(), "vblk1");
    con.type_line("for i in $(seq 1 50); do [ -b /dev/vdc ] && break; sleep 0.2; done; echo HOT-$(cat /sys/block/vdc/size)");
    con.expect("HOT-65536", Duration::from_secs(30));
    assert_eq!(
        lab.inspect("snap")["Config"]["Disks"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let boot_disk = lab.run(&["vm", "disk", "rm", "snap", "vblk0"]);
    assert_eq!(boot_disk.code, 125);
    assert!(
        boot_disk.stderr.contains("attached at boot"),
        "{}",
        boot_disk.stderr
    );
    lab.run(&["vm", "disk", "rm", "snap", "vblk1"]).ok();
    con.run_ok(
        "for i in $(seq 1 50); do [ -b /dev/vdc ] || break; sleep 0.2; done; ! [ -b /dev/vdc ]",
        "HOT-GONE",
    );
    assert_eq!(
        lab.inspect("snap")["Config"]["Disks"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // A snapshot of the running VM brings memory and disk back.
    con.run_ok(
        "echo snap-A | dd of=/dev/vda conv=fsync 2>/dev/null",
        "WROTE-A",
    );
    lab.run(&["vm", "snapshot", "create", "snap", "s1"]).ok();
    let dup = lab.run(&["vm", "snapshot", "create", "snap", "s1"]);
    assert_eq!(dup.code, 125);
    assert!(dup.stderr.contains("s1 already exists"), "{}", dup.stderr);
    con.run_ok(
        "echo snap-B | dd of=/dev/vda conv=fsync 2>/dev/null",
        "WROTE-B",
    );
    lab.run(&["vm", "snapshot", "restore", "snap", "s1"]).ok();
    drop(con);
    let mut con = ConsoleClient::open(&lab, "snap");
    con.type_line("echo DISK-$(head -c 6 /dev/vda)");
    con.expect("DISK-snap-A", Duration::from_secs(30));
    drop(con);
    assert!(lab
        .run(&["vm", "snapshot", "ls", "snap"])
        .ok()
        .stdout
        .contains("s1"));
    lab.run(&["vm", "snapshot", "rm", "snap", "s1"]).ok();
    assert!(!lab
        .run(&["vm", "snapshot", "ls", "snap"])
        .ok()
        .stdout
        .contains("s1"));
    let missing = lab.run(&["vm", "snapshot", "restore", "snap", "s1"]);
    assert_eq!(missing.code, 125);
    assert!(
        missing.stderr.contains("no snapshot s1"),
        "{}",
        missing.stderr
    );

    // Stopped: disk snapshots through qemu-img.
    lab.run(&["vm", "stop", "-t", "1", "snap"]).ok();
    lab.assert_clean("snap");
    assert!(!seed.exists(), "seed removed with the boot");
    lab.run(&["vm", "snapshot", "create", "snap", "offline"])
        .ok();
    assert!(lab
        .run(&["vm", "snapshot", "ls", "snap"])
        .ok()
        .stdout
        .contains("offline"));
    lab.run(&["vm", "rm", "snap"]).ok();
    assert!(!lab.vm_dir("snap").exists());
}

#[test]
fn image_through_an_overlay_leaves_the_base_untouched() {
    let Some(lab) = Lab::new() else { return };
    let base = lab.y.path("base.raw");
    let mut data = b"base-data\n".to_vec();
    data.resize(4 << 20, 0);
    std::fs::write(&base, &data).unwrap();
    let b = base.to_str().unwrap();
    lab.create("ov", &["--image", b, "--network", "none"]).ok();
    let disks = lab.inspect("ov")["Config"]["Disks"].clone();
    let overlay = PathBuf::from(disks[0]["Path"].as_str().unwrap());
    assert!(overlay.starts_with(lab.vm_dir("ov")), "{disks}");
    assert_eq!(disks[0]["Format"], "qcow2");
    assert_eq!(lab.inspect("ov")["Config"]["Image"], b);

    lab.run(&["vm", "start", "ov"]).ok();
    let log = lab.wait_log("ov", MARK_READY, 1);
    assert!(log.contains("YURTA-DISK-READ base-data"), "{log}");
    let mut con = ConsoleClient::open(&lab, "ov");
    con.run_ok(
        "echo guest-data | dd of=/dev/vda conv=fsync 2>/dev/null",
        "WROTE",
    );
    drop(con);
    lab.run(&["vm", "rm", "-f", "ov"]).ok();
    assert_eq!(
        std::fs::read(&base).unwrap(),
        data,
        "the base is never written"
    );
    assert!(!overlay.exists());

    // --no-overlay writes to the image itself, and rm keeps it.
    lab.create(
        "direct",
        &["--image", b, "--no-overlay", "--network", "none"],
    )
    .ok();
    assert_eq!(
        lab.inspect("direct")["Config"]["Disks"][0]["Path"],
        b,
        "the image itself"
    );
    lab.run(&["vm", "start", "direct"]).ok();
    lab.wait_log("direct", MARK_READY, 1);
    let mut con = ConsoleClient::open(&lab, "direct");
    con.run_ok(
        "echo guest-data | dd of=/dev/vda conv=fsync 2>/dev/null",
        "WROTE",
    );
    drop(con);
    lab.run(&["vm", "rm", "-f", "direct"]).ok();
    let now = std::fs::read(&base).unwrap();
    assert!(
        now.starts_with(b"guest-data\n"),
        "{:?}",
        String::from_utf8_lossy(&now[..32])
    );
    lab.assert_clean("direct");
}
