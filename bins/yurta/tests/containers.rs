//! The container verbs end to end, as root, with the real supervisor,
//! runtime and networks: an image from `yurta import` of a busybox
//! rootfs, containers started by `yurta run`, checked through the CLI and
//! from the host (`common::world`: own root, nft table and link names;
//! nothing may be left behind). Networking: `networking.rs`.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::sh;
use common::world::{free_port, World};

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

/// The root mount line a container sees.
fn root_mount(w: &World, extra: &[&str]) -> String {
    let mut args = vec!["run", "--network", "none"];
    args.extend_from_slice(extra);
    args.extend(["img", "cat", "/proc/mounts"]);
    let o = w.run(&args).ok();
    o.stdout
        .lines()
        .find(|l| l.split(' ').nth(1) == Some("/"))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn rm_containers_get_a_volatile_overlay_and_others_do_not() {
    let Some(w) = World::new() else { return };
    let rm = root_mount(&w, &["--rm"]);
    assert!(
        rm.starts_with("overlay / overlay") && rm.contains("volatile"),
        "{rm}"
    );
    let kept = root_mount(&w, &["--name", "kept"]);
    assert!(
        kept.starts_with("overlay / overlay") && !kept.contains("volatile"),
        "{kept}"
    );
    w.run(&["rm", "kept"]).ok();
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
    // Without --rm the container stays, "created" with the code and the
    // error in its state (Docker's).
    assert_eq!(
        w.run(&["run", "--name", "nocmd", "img", "nosuch"]).code,
        127
    );
    assert_eq!(w.inspect("nocmd", ".State.Status"), "created");
    assert_eq!(w.inspect("nocmd", ".State.ExitCode"), "127");
    assert!(w.inspect("nocmd", ".State.Error").contains("nosuch"));
    let ps = w.run(&["ps", "-a"]).ok().stdout;
    assert!(ps.contains("Created"), "{ps}");
    w.run(&["rm", "nocmd"]).ok();
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
    assert!(
        stats.starts_with("CONTAINER ID   NAME      CPU %"),
        "{stats}"
    );
    assert!(stats.contains("BLOCK I/O   PIDS"), "{stats}");
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
fn a_killed_supervisor_leaves_a_running_container_that_exec_stop_and_rm_reach() {
    let Some(w) = World::new() else { return };
    let kill_supervisor = |name: &str| {
        let id = w.inspect(name, ".Id");
        let dir = w.y.root().join("containers").join(id);
        let pid = std::fs::read_to_string(dir.join("supervisor.pid")).unwrap();
        sh("kill", &["-9", pid.trim()]).ok();
        assert!(yurta_testutil::process::poll_until(
            Duration::from_secs(10),
            Duration::from_millis(10),
            || !Path::new(&format!("/proc/{}", pid.trim())).exists()
                || std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()))
                    .is_ok_and(|s| s.contains(") Z"))
        ));
    };
    w.run(&["run", "-d", "--name", "orphan", "img", "sleep", "1000"])
        .ok();
    kill_supervisor("orphan");
    // Docker's view: still running; exec and stop work.
    let ps = w.run(&["ps"]).ok().stdout;
    assert!(ps.contains("Up "), "{ps}");
    assert_eq!(w.inspect("orphan", ".State.Status"), "running");
    assert!(w
        .inspect("orphan", ".State.Error")
        .contains("supervisor was killed"));
    let o = w.run(&["exec", "orphan", "echo", "still here"]).ok();
    assert_eq!(o.stdout, "still here\n");
    // sleep as pid 1 ignores SIGTERM: killed after the timeout.
    w.run(&["stop", "-t", "1", "orphan"]).ok();
    assert_eq!(w.inspect("orphan", ".State.Status"), "exited");
    assert_eq!(w.inspect("orphan", ".State.ExitCode"), "137");
    w.run(&["start", "orphan"]).ok();
    assert_eq!(w.inspect("orphan", ".State.Status"), "running");
    kill_supervisor("orphan");
    w.run(&["rm", "-f", "orphan"]).ok();
    assert!(w.ids().is_empty());
    // Supervisor and container both gone (as after a reboot): exited,
    // code unknown, and the runtime's state and cgroup cleaned at once.
    let id = w
        .run(&["run", "-d", "--name", "gone", "img", "sleep", "1000"])
        .ok()
        .stdout
        .trim()
        .to_string();
    let dir = w.y.root().join("containers").join(&id);
    for f in ["supervisor.pid", "pid"] {
        let pid = std::fs::read_to_string(dir.join(f)).unwrap();
        sh("kill", &["-9", pid.trim()]).ok();
    }
    std::thread::sleep(Duration::from_millis(200));
    let ps = w.run(&["ps", "-a"]).ok().stdout;
    assert!(ps.contains("Exited (255)"), "{ps}");
    assert!(!Path::new(&format!("/sys/fs/cgroup/memory/yurta/{id}")).exists());
    w.run(&["rm", "gone"]).ok();
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
    assert_eq!(w.inspect("rs", ".RestartCount"), "2");
    // While it runs again after a restart, the count shows; a start by
    // hand begins at 0.
    w.run(&[
        "run",
        "-d",
        "--name",
        "rs2",
        "--restart",
        "on-failure:1",
        "img",
        "sh",
        "-c",
        "[ -e /ran ] && exec sleep 1000; touch /ran; while [ ! -e /go ]; do sleep 0.1; done; exit 1",
    ])
    .ok();
    let first_start = w.inspect("rs2", ".State.StartedAt");
    let first_pid = w.inspect("rs2", ".State.Pid");
    w.run(&["exec", "rs2", "sh", "-c", "touch /go"]).ok();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while w.inspect("rs2", ".RestartCount") != "1" {
        assert!(std::time::Instant::now() < deadline, "no restart seen");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(w.inspect("rs2", ".State.Running"), "true");
    // StartedAt and Pid are the new run's (issue 9, item 7).
    let second_start = w.inspect("rs2", ".State.StartedAt");
    assert!(
        second_start > first_start,
        "{second_start} after {first_start}"
    );
    assert_ne!(w.inspect("rs2", ".State.Pid"), first_pid);
    w.run(&["stop", "-t", "1", "rs2"]).ok();
    assert_eq!(w.inspect("rs2", ".State.StartedAt"), second_start);
    assert_eq!(w.inspect("rs2", ".RestartCount"), "1");
    w.run(&["start", "rs2"]).ok();
    assert_eq!(w.inspect("rs2", ".RestartCount"), "0");
    w.run(&["rm", "-f", "rs2"]).ok();
    // Rotated files are read oldest first.
    let count = "i=0; while [ $i -lt 200 ]; do echo line-$i; i=$((i+1)); done";
    let rot = [
        "run",
        "--name",
        "rot",
        "--log-opt",
        "max-size=1k",
        "--log-opt",
        "max-file=3",
    ];
    let mut args = rot.to_vec();
    args.extend(["img", "sh", "-c", count]);
    w.run(&args).ok();
    let logs = w.run(&["logs", "rot"]).ok().stdout;
    let lines: Vec<&str> = logs.lines().collect();
    assert!(lines.len() > 20 && lines.len() < 200, "{}", lines.len());
    let first: usize = lines[0].trim_start_matches("line-").parse().unwrap();
    let expected: Vec<String> = (first..200).map(|i| format!("line-{i}")).collect();
    assert_eq!(lines, expected);
    assert_eq!(
        w.run(&["logs", "--tail", "2", "rot"]).ok().stdout,
        "line-198\nline-199\n"
    );
}

/// yurta-supervisor blocks SIGTERM/SIGINT/SIGHUP/SIGCHLD; the runtime resets
/// the mask before the container's process starts, so its TERM handler runs.
#[test]
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
fn a_killed_cli_leaves_the_cleanup_to_the_supervisor() {
    let Some(w) = World::new() else { return };
    let mut child = w
        .cmd(&["run", "--rm", "--name", "cli", "img", "sleep", "1"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(400));
    let id = w.ids().pop().expect("the container runs");
    child.kill().unwrap();
    child.wait().unwrap();
    let start = Instant::now();
    while !w.ids().is_empty() {
        assert!(start.elapsed() < Duration::from_secs(8), "not removed");
        std::thread::sleep(Duration::from_millis(100));
    }
    // The CLI held the cleanup to itself until it was killed: the
    // supervisor deleted the container from the runtime after all.
    assert!(!w.y.root().join("runtime").join(&id).exists());
    assert!(!Path::new(&format!("/sys/fs/cgroup/memory/yurta/{id}")).exists());
}

#[test]
fn run_rm_returns_with_the_runtime_state_and_cgroups_gone() {
    let Some(w) = World::new() else { return };
    let show = "while read -r l; do echo \"$l\"; done < /proc/self/cgroup";
    let o = w.run(&["run", "--rm", "img", "sh", "-c", show]).ok();
    // v1: "N:memory:/yurta/ID"; v2: "0::/yurta/ID" (no cgroup namespace)
    // or "0::/" inside one: then the id is not visible, and the runtime's
    // state directory is checked for every container.
    let id = o
        .stdout
        .lines()
        .find_map(|l| l.split("/yurta/").nth(1))
        .map(str::to_string);
    let runtime = w.y.root().join("runtime");
    let left: Vec<_> = std::fs::read_dir(&runtime)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "runtime state left: {left:?}");
    if let Some(id) = id {
        for c in ["memory", "pids", "cpu", "devices", "freezer"] {
            let dir = format!("/sys/fs/cgroup/{c}/yurta/{id}");
            assert!(!Path::new(&dir).exists(), "{dir} left");
        }
    }
}

#[test]
fn run_pulls_a_missing_image_quietly() {
    let Some(w) = World::new() else { return };
    let reg = common::registry::Registry::plain();
    let reference = format!("{}/t/img:1", reg.addr());
    let insecure = [("YURTA_INSECURE_REGISTRIES", reg.addr())];
    let run = |args: &[&str]| {
        let o = w.cmd(args).envs(insecure.clone()).output().unwrap();
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, _, err) = run(&["push", "-q", "img", &reference]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(&["run", "--rm", "--pull", "never", &reference, "true"]);
    assert_eq!(code, 125);
    assert!(err.contains(&reference) && out.is_empty(), "{err}");
    let (code, out, err) = run(&["run", "--rm", &reference, "echo", "pulled"]);
    assert_eq!((code, out.as_str()), (0, "pulled\n"), "{err}");
    let (code, out, err) = run(&[
        "run", "--rm", "--pull", "always", &reference, "echo", "again",
    ]);
    assert_eq!((code, out.as_str()), (0, "again\n"), "{err}");
}

/// `run --platform`: the platform module decides whether a local image can
/// run as the requested platform (e2k: a v6 image runs as v7, not as v4).
#[test]
fn run_platform_checks_the_local_image() {
    let Some(w) = World::new() else { return };
    let tar = w.y.path("rootfs.tar");
    w.run(&[
        "import",
        "--platform",
        "linux/e2k/v6",
        tar.to_str().unwrap(),
        "e2kimg",
    ])
    .ok();
    let refused = w.run(&[
        "run",
        "--rm",
        "--network",
        "none",
        "--pull",
        "never",
        "--platform",
        "linux/e2k/v4",
        "e2kimg",
        "true",
    ]);
    assert_eq!(refused.code, 125, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("linux/e2k/v6") && refused.stderr.contains("linux/e2k/v4"),
        "{}",
        refused.stderr
    );
    // The binaries are the host's busybox: an e2k/v7 request accepts the v6 image.
    let ran = w.run(&[
        "run",
        "--rm",
        "--network",
        "none",
        "--pull",
        "never",
        "--platform",
        "linux/e2k/v7",
        "e2kimg",
        "echo",
        "ran",
    ]);
    assert_eq!(ran.stdout, "ran\n", "{}", ran.stderr);
    w.run(&["rmi", "e2kimg"]).ok();
}

/// rmi and image prune keep images that containers use (Docker's rule);
/// removing one of several tags only untags.
#[test]
fn images_used_by_containers_are_kept() {
    let Some(w) = World::new() else { return };
    w.run(&["tag", "img", "img2"]).ok();
    w.run(&[
        "create",
        "--name",
        "keeper",
        "--network",
        "none",
        "img2",
        "true",
    ])
    .ok();
    let untag = w.run(&["rmi", "img"]);
    assert_eq!(untag.code, 0, "{}", untag.stderr);
    let refused = w.run(&["rmi", "-f", "img2"]);
    assert_ne!(refused.code, 0);
    assert!(refused.stderr.contains("keeper"), "{}", refused.stderr);
    w.run(&["image", "prune", "-a", "-f"]).ok();
    assert!(
        w.run(&["images", "-q"]).ok().stdout.trim().len() >= 12,
        "image pruned while in use"
    );
    w.run(&["rm", "keeper"]).ok();
    w.run(&["rmi", "img2"]).ok();
}

/// What a host reboot leaves: no supervisor and no container process.
fn kill_like_a_reboot(w: &World, name: &str) {
    let id = w.inspect(name, ".Id");
    let dir = w.y.root().join("containers").join(&id);
    let sup = std::fs::read_to_string(dir.join("supervisor.pid")).unwrap();
    let init = w.inspect(name, ".State.Pid");
    sh("kill", &["-9", sup.trim(), &init]).ok();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while std::path::Path::new(&format!("/proc/{}", sup.trim())).exists()
        || std::path::Path::new(&format!("/proc/{init}")).exists()
    {
        assert!(std::time::Instant::now() < deadline, "{name} survived");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn system_boot_starts_what_the_restart_policies_ask_for() {
    let Some(w) = World::new() else { return };
    for (name, policy) in [
        ("always", "always"),
        ("unless", "unless-stopped"),
        ("stopped", "unless-stopped"),
        ("never", "no"),
    ] {
        w.run(&[
            "run",
            "-d",
            "--name",
            name,
            "--restart",
            policy,
            "--network",
            "none",
            "img",
            "sleep",
            "1000",
        ])
        .ok();
    }
    w.run(&["stop", "-t", "1", "stopped"]).ok();
    for name in ["always", "unless", "never"] {
        kill_like_a_reboot(&w, name);
    }
    let started = w.run(&["system", "boot"]).ok().stdout;
    let mut started: Vec<&str> = started.lines().collect();
    started.sort();
    assert_eq!(started, ["always", "unless"]);
    for (name, running) in [
        ("always", "true"),
        ("unless", "true"),
        ("stopped", "false"),
        ("never", "false"),
    ] {
        assert_eq!(w.inspect(name, ".State.Running"), running, "{name}");
    }
    // Running ones are left alone by a second call.
    assert_eq!(w.run(&["system", "boot"]).ok().stdout, "");
    w.run(&["rm", "-f", "always", "unless", "stopped", "never"])
        .ok();
}
