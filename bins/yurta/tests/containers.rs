//! The container verbs end to end, as root, with the real supervisor,
//! runtime and networks: an image from `yurta import` of a busybox
//! rootfs, containers started by `yurta run`, checked through the CLI and
//! from the host. Each test has its own root, nft table and bridge names,
//! and its guard removes everything and then checks that no link, table,
//! mount, cgroup, process or record of the test is left.
//!
//! The tests run one at a time (a global lock): network subnets are
//! chosen from the host's routes, which parallel creations would race on.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::{sh, tar_of, Out, Yurta};

static SERIAL: Mutex<()> = Mutex::new(());

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// A test's world: root, names of its host objects, the image `img`.
struct World {
    y: Yurta,
    tag: String,
    _serial: std::sync::MutexGuard<'static, ()>,
}

impl World {
    fn new() -> Option<World> {
        if !is_root() {
            eprintln!("skipped: needs root");
            return None;
        }
        let serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let tag = format!("{}", std::process::id() % 100_000);
        let w = World {
            y: Yurta::new(),
            tag,
            _serial: serial,
        };
        w.image();
        Some(w)
    }

    fn table(&self) -> String {
        format!("ytt{}", self.tag)
    }

    fn bridge(&self) -> String {
        format!("ytt{}d", self.tag)
    }

    fn cmd(&self, args: &[&str]) -> std::process::Command {
        let mut c = self.y.cmd(args);
        c.env("YURTA_NET_TABLE", self.table())
            .env("YURTA_NET_BRIDGE", self.bridge())
            .env("YURTA_NET_BRIDGE_PREFIX", format!("ytu{}-", self.tag))
            .env("YURTA_NET_VETH_PREFIX", "yq");
        c
    }

    fn run(&self, args: &[&str]) -> Out {
        let o = self
            .cmd(args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        Out {
            code: o.status.code().unwrap_or(-1),
            raw: o.stdout.clone(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// busybox with the applets the tests use, imported as `img`.
    fn image(&self) {
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

    fn ids(&self) -> Vec<String> {
        self.run(&["ps", "-aq", "--no-trunc"])
            .ok()
            .stdout
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn inspect(&self, name: &str, field: &str) -> String {
        self.run(&["inspect", "-f", &format!("{{{{{field}}}}}"), name])
            .ok()
            .stdout
            .trim()
            .to_string()
    }
}

fn links_with(prefixes: &[&str]) -> Vec<String> {
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
        leftovers.extend(
            mountinfo
                .lines()
                .filter(|l| l.contains(&r))
                .map(str::to_string),
        );
        for p in std::fs::read_dir("/proc").unwrap().flatten() {
            let cmdline = std::fs::read(p.path().join("cmdline")).unwrap_or_default();
            if String::from_utf8_lossy(&cmdline).contains(&r) {
                leftovers.push(format!("process {:?}", p.file_name()));
            }
        }
        let records = self.run(&["ps", "-aq"]).stdout;
        if !records.trim().is_empty() {
            leftovers.push(format!("records {records}"));
        }
        let user_bridges = format!("ytu{}-", self.tag);
        leftovers.extend(links_with(&["yq", &user_bridges]));
        // The default network stays, as in Docker; the test removes it.
        let _ = sh("ip", &["link", "del", &self.bridge()]);
        let _ = sh("nft", &["delete", "table", "ip", &self.table()]);
        if !std::thread::panicking() {
            assert!(leftovers.is_empty(), "left behind: {leftovers:#?}");
        }
    }
}

#[test]
fn run_prints_and_passes_the_exit_code() {
    let Some(w) = World::new() else { return };
    let o = w.run(&[
        "run",
        "--rm",
        "img",
        "sh",
        "-c",
        "echo out; echo err >&2; exit 3",
    ]);
    assert_eq!(
        (o.code, o.stdout.as_str(), o.stderr.as_str()),
        (3, "out\n", "err\n")
    );
    let o = w.run(&["run", "--rm", "--network", "none", "img", "true"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(w.ids().is_empty());
}

#[test]
fn a_missing_command_is_127_and_leaves_nothing() {
    let Some(w) = World::new() else { return };
    let o = w.run(&["run", "--rm", "img", "nosuch"]);
    assert_eq!(o.code, 127, "{}", o.stderr);
    assert!(
        o.stderr.starts_with("yurta: ") && o.stderr.contains("nosuch"),
        "{}",
        o.stderr
    );
    assert_eq!(o.stderr.lines().count(), 1, "{}", o.stderr);
    assert!(w.ids().is_empty());
    let o = w.run(&["run", "--rm", "img", "/etc/motd"]);
    assert_eq!(o.code, 126, "{}", o.stderr);
}

#[test]
fn detached_ps_logs_stop_rm() {
    let Some(w) = World::new() else { return };
    let o = w
        .run(&[
            "run",
            "-d",
            "--name",
            "det",
            "img",
            "sh",
            "-c",
            "echo hello; exec sleep 1000",
        ])
        .ok();
    let id = o.stdout.trim().to_string();
    assert_eq!(id.len(), 64, "{}", o.stdout);
    let ps = w.run(&["ps"]).ok().stdout;
    assert!(ps.starts_with("CONTAINER ID   IMAGE"), "{ps}");
    assert!(
        ps.contains(&id[..12]) && ps.contains("det") && ps.contains("Up "),
        "{ps}"
    );
    let json = w
        .run(&["ps", "--format", "json", "--filter", "name=det"])
        .ok()
        .stdout;
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(v["State"], "running");
    let start = Instant::now();
    while !w.run(&["logs", "det"]).ok().stdout.contains("hello") {
        assert!(start.elapsed() < Duration::from_secs(5), "no log");
        std::thread::sleep(Duration::from_millis(50));
    }
    let t = w.run(&["logs", "-t", "--tail", "1", "det"]).ok().stdout;
    assert!(t.contains("Z hello"), "{t}");
    assert_eq!(w.run(&["rm", "det"]).code, 125);
    w.run(&["stop", "-t", "1", "det"]).ok();
    assert_eq!(w.inspect("det", ".State.Status"), "exited");
    assert_eq!(w.inspect("det", ".State.ExitCode"), "137");
    assert!(w.run(&["ps", "-a"]).ok().stdout.contains("Exited (137)"));
    assert!(!w.run(&["ps"]).ok().stdout.contains("det"));
    assert_eq!(w.run(&["wait", "det"]).ok().stdout.trim(), "137");
    w.run(&["start", "det"]).ok();
    assert_eq!(w.inspect("det", ".State.Running"), "true");
    w.run(&["kill", "det"]).ok();
    assert_eq!(w.run(&["wait", "det"]).ok().stdout.trim(), "137");
    w.run(&["rm", "det"]).ok();
    assert!(w.ids().is_empty());
}

#[test]
fn rm_flag_removes_a_detached_container_after_its_exit() {
    let Some(w) = World::new() else { return };
    w.run(&["run", "-d", "--rm", "img", "true"]).ok();
    let start = Instant::now();
    while !w.ids().is_empty() {
        assert!(start.elapsed() < Duration::from_secs(5), "still there");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn a_published_port_on_127_0_0_1_reaches_the_container() {
    let Some(w) = World::new() else { return };
    let port = free_port();
    let publish = format!("127.0.0.1:{port}:80");
    w.run(&[
        "run",
        "-d",
        "--name",
        "web",
        "-p",
        &publish,
        "img",
        "sh",
        "-c",
        "echo served-by-yurta > /index.html; exec httpd -f -p 80 -h /",
    ])
    .ok();
    let start = Instant::now();
    let body = loop {
        let got = TcpStream::connect(("127.0.0.1", port)).and_then(|mut s| {
            s.set_read_timeout(Some(Duration::from_secs(2)))?;
            s.write_all(b"GET /index.html HTTP/1.0\r\n\r\n")?;
            let mut b = String::new();
            s.read_to_string(&mut b)?;
            Ok(b)
        });
        match got {
            Ok(b) if b.contains("served-by-yurta") => break b,
            _ if start.elapsed() > Duration::from_secs(5) => panic!("no answer: {got:?}"),
            _ => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    assert!(
        body.starts_with("HTTP/1.1 200") || body.starts_with("HTTP/1.0 200"),
        "{body}"
    );
    assert_eq!(
        w.run(&["port", "web", "80"]).ok().stdout.trim(),
        format!("127.0.0.1:{port}")
    );
    let rules = sh("nft", &["list", "table", "ip", &w.table()]).stdout;
    assert!(rules.contains(&format!("dport {port}")), "{rules}");
    w.run(&["rm", "-f", "web"]).ok();
    let rules = sh("nft", &["list", "table", "ip", &w.table()]).stdout;
    assert!(!rules.contains(&format!("dport {port}")), "{rules}");
}

#[test]
fn containers_on_a_user_network_reach_each_other_by_name() {
    let Some(w) = World::new() else { return };
    w.run(&["network", "create", "tnet"]).ok();
    w.run(&[
        "run",
        "-d",
        "--name",
        "peer1",
        "--network",
        "tnet",
        "img",
        "sleep",
        "1000",
    ])
    .ok();
    let o = w.run(&[
        "run",
        "--rm",
        "--network",
        "tnet",
        "img",
        "ping",
        "-c1",
        "-W2",
        "peer1",
    ]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    let ls = w.run(&["network", "ls"]).ok().stdout;
    assert!(ls.contains("tnet") && ls.contains("bridge"), "{ls}");
    let rm = w.run(&["network", "rm", "tnet"]);
    assert_eq!(rm.code, 125, "in use: {}", rm.stderr);
    w.run(&["rm", "-f", "peer1"]).ok();
    w.run(&["network", "rm", "tnet"]).ok();
}

#[test]
fn exec_output_and_exit_code() {
    let Some(w) = World::new() else { return };
    w.run(&[
        "run", "-d", "--name", "ex", "-e", "A=1", "img", "sleep", "1000",
    ])
    .ok();
    let o = w.run(&["exec", "ex", "sh", "-c", "echo in-$A; exit 4"]);
    assert_eq!((o.code, o.stdout.as_str()), (4, "in-1\n"), "{}", o.stderr);
    let o = w
        .run(&[
            "exec",
            "-e",
            "B=2",
            "-w",
            "/etc",
            "ex",
            "sh",
            "-c",
            "echo $B $(pwd)",
        ])
        .ok();
    assert_eq!(o.stdout, "2 /etc\n");
    let top = w.run(&["top", "ex"]).ok().stdout;
    assert!(top.contains("sleep 1000"), "{top}");
    let stats = w.run(&["stats", "--no-stream", "ex"]).ok().stdout;
    let row = stats.lines().nth(1).unwrap_or_default().to_string();
    assert!(stats.starts_with("CONTAINER ID   NAME   CPU %"), "{stats}");
    assert!(
        row.contains(" ex ") && row.ends_with(" 1") && row.contains("iB / "),
        "{stats}"
    );
}

#[test]
fn a_named_volume_persists_across_containers() {
    let Some(w) = World::new() else { return };
    w.run(&[
        "run",
        "--rm",
        "-v",
        "tvol:/data",
        "img",
        "sh",
        "-c",
        "echo kept > /data/f",
    ])
    .ok();
    let o = w
        .run(&["run", "--rm", "-v", "tvol:/data", "img", "cat", "/data/f"])
        .ok();
    assert_eq!(o.stdout, "kept\n");
    w.run(&["volume", "rm", "tvol"]).ok();
}

#[test]
fn inspect_fields_and_name_conflict() {
    let Some(w) = World::new() else { return };
    let port = free_port();
    let publish = format!("127.0.0.1:{port}:80");
    w.run(&[
        "run", "-d", "--name", "insp", "-p", &publish, "img", "sleep", "1000",
    ])
    .ok();
    assert_eq!(w.inspect("insp", ".State.Status"), "running");
    let ip = w.inspect("insp", ".NetworkSettings.IPAddress");
    assert!(ip.parse::<std::net::Ipv4Addr>().is_ok(), "{ip}");
    let v: serde_json::Value =
        serde_json::from_str(&w.run(&["inspect", "insp"]).ok().stdout).unwrap();
    let c = &v[0];
    assert_eq!(c["Name"], "/insp");
    assert!(c["State"]["Pid"].as_i64().unwrap() > 0);
    assert_eq!(
        c["NetworkSettings"]["Ports"]["80/tcp"][0]["HostPort"],
        port.to_string()
    );
    let img: serde_json::Value =
        serde_json::from_str(&w.run(&["inspect", "img"]).ok().stdout).unwrap();
    assert!(img[0]["Id"].as_str().unwrap().starts_with("sha256:"));
    let o = w.run(&["run", "--name", "insp", "img", "true"]);
    assert_eq!(o.code, 125);
    assert!(
        o.stderr.contains("\"/insp\" is already in use"),
        "{}",
        o.stderr
    );
    assert_eq!(w.run(&["inspect", "nosuch"]).code, 125);
}

#[test]
fn a_killed_supervisor_shows_as_dead_and_rm_f_cleans_up() {
    let Some(w) = World::new() else { return };
    let id = w
        .run(&["run", "-d", "--name", "orphan", "img", "sleep", "1000"])
        .ok()
        .stdout
        .trim()
        .to_string();
    let pidfile =
        w.y.root()
            .join("containers")
            .join(&id)
            .join("supervisor.pid");
    let pid = std::fs::read_to_string(pidfile).unwrap();
    sh("kill", &["-9", pid.trim()]).ok();
    std::thread::sleep(Duration::from_millis(100));
    let ps = w.run(&["ps", "-a"]).ok().stdout;
    assert!(ps.contains("Dead"), "{ps}");
    assert_eq!(w.inspect("orphan", ".State.Status"), "dead");
    w.run(&["rm", "-f", "orphan"]).ok();
    assert!(w.ids().is_empty());
}

#[test]
fn stdin_with_i_and_a_terminal_with_t() {
    let Some(w) = World::new() else { return };
    let mut child = w
        .cmd(&["run", "--rm", "-i", "img", "sh", "-c", "cat; exit 6"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"piped-in\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(6));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "piped-in\n");
    // A terminal: script(1) gives the CLI one.
    let yurta = format!(
        "{} --root {} run --rm -t img sh -c 'tty; exit 5'",
        env!("CARGO_BIN_EXE_yurta"),
        w.y.root().display()
    );
    let mut c = std::process::Command::new("script");
    c.args(["-qec", &yurta, "/dev/null"]);
    for (k, v) in w.cmd(&[]).get_envs() {
        if let Some(v) = v {
            c.env(k, v);
        }
    }
    let o = c.stdin(std::process::Stdio::null()).output().unwrap();
    assert_eq!(o.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&o.stdout).contains("/dev/pts/0"));
}

#[test]
fn logs_follow_until_the_exit_and_restart_on_failure() {
    let Some(w) = World::new() else { return };
    w.run(&[
        "run",
        "-d",
        "--name",
        "lf",
        "img",
        "sh",
        "-c",
        "for i in 1 2 3; do echo l$i; sleep 0.2; done",
    ])
    .ok();
    let o = w.run(&["logs", "-f", "lf"]).ok();
    assert_eq!(o.stdout, "l1\nl2\nl3\n");
    w.run(&[
        "run",
        "-d",
        "--name",
        "rs",
        "--restart",
        "on-failure:2",
        "img",
        "sh",
        "-c",
        "echo run; exit 1",
    ])
    .ok();
    assert_eq!(w.run(&["wait", "rs"]).ok().stdout.trim(), "1");
    assert_eq!(w.run(&["logs", "rs"]).ok().stdout, "run\nrun\nrun\n");
}

#[test]
fn network_connect_and_disconnect() {
    let Some(w) = World::new() else { return };
    w.run(&["network", "create", "cnet"]).ok();
    w.run(&["run", "-d", "--name", "c1", "img", "sleep", "1000"])
        .ok();
    w.run(&[
        "run",
        "-d",
        "--name",
        "c2",
        "--network",
        "cnet",
        "img",
        "sleep",
        "1000",
    ])
    .ok();
    w.run(&["network", "connect", "cnet", "c1"]).ok();
    let o = w.run(&["exec", "c2", "ping", "-c1", "-W2", "c1"]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    let v: serde_json::Value =
        serde_json::from_str(&w.run(&["network", "inspect", "cnet"]).ok().stdout).unwrap();
    assert_eq!(v[0]["Containers"].as_object().unwrap().len(), 2);
    w.run(&["network", "disconnect", "cnet", "c1"]).ok();
    let v: serde_json::Value =
        serde_json::from_str(&w.run(&["network", "inspect", "cnet"]).ok().stdout).unwrap();
    assert_eq!(v[0]["Containers"].as_object().unwrap().len(), 1);
    w.run(&["rm", "-f", "c1", "c2"]).ok();
    w.run(&["network", "rm", "cnet"]).ok();
}

/// Fails today: yurta-supervisor blocks SIGTERM/SIGINT/SIGHUP/SIGCHLD and
/// the container's init inherits that mask (SigBlk 0x14003), so a
/// container's TERM handler never runs. Reported; enable when fixed.
#[test]
#[ignore = "yurta-supervisor passes its blocked signal mask to the container"]
fn stop_and_an_attached_run_deliver_sigterm() {
    let Some(w) = World::new() else { return };
    let trap = "trap 'echo got-term; exit 7' TERM; while true; do sleep 0.1; done";
    w.run(&["run", "-d", "--name", "tr", "img", "sh", "-c", trap])
        .ok();
    std::thread::sleep(Duration::from_millis(300));
    w.run(&["stop", "-t", "5", "tr"]).ok();
    assert_eq!(w.inspect("tr", ".State.ExitCode"), "7");
    let child = w
        .cmd(&["run", "--rm", "img", "sh", "-c", trap])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    sh("kill", &["-TERM", &child.id().to_string()]).ok();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(7));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "got-term\n");
}

#[test]
fn a_taken_port_fails_naming_it_and_leaves_nothing() {
    let Some(w) = World::new() else { return };
    let port = free_port();
    let publish = format!("127.0.0.1:{port}:80");
    w.run(&[
        "run", "-d", "--name", "first", "-p", &publish, "img", "sleep", "1000",
    ])
    .ok();
    let links = links_with(&["yq"]).len();
    let o = w.run(&["run", "--rm", "-p", &publish, "img", "true"]);
    assert_eq!(o.code, 125);
    assert!(
        o.stderr.contains(&port.to_string()) && o.stderr.contains("first"),
        "{}",
        o.stderr
    );
    assert_eq!(w.ids().len(), 1);
    assert_eq!(links_with(&["yq"]).len(), links);
    let bad = w.run(&["run", "--rm", "-p", "70000:80", "img", "true"]);
    assert_eq!(bad.code, 125);
    assert!(bad.stderr.contains("70000"), "{}", bad.stderr);
    let bad = w.run(&["run", "--rm", "--memory", "12x", "img", "true"]);
    assert!(
        bad.code == 125 && bad.stderr.contains("12x"),
        "{}",
        bad.stderr
    );
    assert_eq!(w.ids().len(), 1);
}

#[test]
fn a_killed_cli_leaves_the_cleanup_to_the_supervisor() {
    let Some(w) = World::new() else { return };
    let mut child = w
        .cmd(&["run", "--rm", "--name", "cli", "img", "sleep", "1"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(400));
    child.kill().unwrap();
    child.wait().unwrap();
    let start = Instant::now();
    while !w.ids().is_empty() {
        assert!(start.elapsed() < Duration::from_secs(8), "not removed");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn network_container_mode_shares_the_namespace() {
    let Some(w) = World::new() else { return };
    w.run(&[
        "run",
        "-d",
        "--name",
        "base",
        "img",
        "sh",
        "-c",
        "echo shared > /index.html; exec httpd -f -p 80 -h /",
    ])
    .ok();
    let o = w.run(&[
        "run",
        "--rm",
        "--network",
        "container:base",
        "img",
        "wget",
        "-qO-",
        "http://127.0.0.1/index.html",
    ]);
    assert_eq!(o.stdout, "shared\n", "{}", o.stderr);
}

#[test]
fn exec_with_a_terminal_a_missing_command_and_attach() {
    let Some(w) = World::new() else { return };
    w.run(&[
        "run",
        "-d",
        "--name",
        "et",
        "img",
        "sh",
        "-c",
        "sleep 0.8; echo late; exit 2",
    ])
    .ok();
    let o = w.run(&["exec", "et", "nosuch"]);
    assert_eq!(o.code, 127);
    assert_eq!(
        o.stderr,
        "yurta: exec: \"nosuch\": executable file not found in $PATH\n"
    );
    assert_eq!(w.run(&["exec", "et", "/etc/motd"]).code, 126);
    let o = w.run(&["attach", "et"]);
    assert_eq!((o.code, o.stdout.as_str()), (2, "late\n"), "{}", o.stderr);
    w.run(&["run", "-d", "--name", "et2", "img", "sleep", "1000"])
        .ok();
    let yurta = format!(
        "{} --root {} exec -t et2 sh -c 'tty; exit 9'",
        env!("CARGO_BIN_EXE_yurta"),
        w.y.root().display()
    );
    let o = std::process::Command::new("script")
        .args(["-qec", &yurta, "/dev/null"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(9));
    assert!(String::from_utf8_lossy(&o.stdout).contains("/dev/pts/"));
}

#[test]
fn cp_both_ways_inside_the_container_only() {
    let Some(w) = World::new() else { return };
    w.run(&[
        "run",
        "-d",
        "--name",
        "cpc",
        "-v",
        "cpvol:/data",
        "img",
        "sh",
        "-c",
        "echo in-volume > /data/v; ln -s /etc /esc; exec sleep 1000",
    ])
    .ok();
    std::thread::sleep(Duration::from_millis(300));
    let out = w.y.path("out");
    std::fs::create_dir(&out).unwrap();
    let file = out.join("v.txt");
    w.run(&["cp", "cpc:/data/v", file.to_str().unwrap()]).ok();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "in-volume\n");
    w.run(&["cp", "cpc:/data", out.to_str().unwrap()]).ok();
    assert!(out.join("data/v").is_file());
    // Into the container: a symlink to /etc stays the container's /etc.
    let host = w.y.path("from-host");
    std::fs::write(&host, "host\n").unwrap();
    let marker = format!("yurta-cp-test-{}", std::process::id());
    w.run(&["cp", host.to_str().unwrap(), &format!("cpc:/esc/{marker}")])
        .ok();
    assert!(!Path::new("/etc").join(&marker).exists());
    let o = w
        .run(&["exec", "cpc", "cat", &format!("/etc/{marker}")])
        .ok();
    assert_eq!(o.stdout, "host\n");
    let o = w.run(&["cp", "cpc:/nonexist", out.join("x").to_str().unwrap()]);
    assert_eq!(o.code, 125);
    assert_eq!(o.stderr.lines().count(), 1, "{}", o.stderr);
    assert!(o.stderr.contains("/nonexist"), "{}", o.stderr);
    w.run(&["rm", "-f", "cpc"]).ok();
    w.run(&["volume", "rm", "cpvol"]).ok();
}
