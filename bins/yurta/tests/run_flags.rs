//! `run`'s mount, namespace, resolver and group flags end to end, as root
//! (`common::world`): `--tmpfs`, `--pid/--ipc/--uts host`, `--dns-search`,
//! `--dns-option`, `--group-add` — applied as Docker applies them, and
//! refused with one line (125, nothing made) when yurta cannot.

mod common;

use std::path::Path;

use common::world::World;

/// `--tmpfs PATH[:OPTIONS]`: a tmpfs with Docker's default flags and the
/// given size, mode or read-only; an option it cannot apply, or a
/// relative path, is one line naming it and creates nothing.
#[test]
fn tmpfs_mounts_with_size_mode_and_ro() {
    let Some(w) = World::new() else { return };
    let seen = w
        .run(&[
            "run",
            "--rm",
            "--tmpfs",
            "/run:size=1m,mode=1770",
            "--tmpfs",
            "/ro:ro",
            "img",
            "sh",
            "-c",
            "grep -E ' /(run|ro) ' /proc/mounts; stat -c %a /run; (: > /ro/x) 2>/dev/null || echo read-only",
        ])
        .ok()
        .stdout;
    let lines: Vec<&str> = seen.lines().collect();
    assert!(
        lines[0].starts_with("tmpfs /run tmpfs rw,nosuid,nodev,noexec,")
            && lines[0].contains("size=1024k"),
        "{seen}"
    );
    assert!(lines[1].starts_with("tmpfs /ro tmpfs ro,"), "{seen}");
    assert_eq!(lines[2..], ["1770", "read-only"], "{seen}");
    for (flag, want) in [
        (
            "run",
            "yurta: invalid --tmpfs \"run\": the path must be absolute",
        ),
        (
            "/x:exec",
            "yurta: invalid --tmpfs \"/x:exec\": option \"exec\" is not supported",
        ),
    ] {
        let o = w.run(&["run", "--rm", "--tmpfs", flag, "img", "true"]);
        assert_eq!(o.code, 125, "{flag}");
        assert!(o.stderr.starts_with(want), "{}", o.stderr);
    }
    assert!(w.ids().is_empty());
}

/// `--pid host`, `--uts host`, `--ipc host`: the host's namespaces (its
/// processes, hostname, /dev/shm); the container's own by default; modes
/// yurta cannot give are refused with one line, not ignored.
#[test]
fn host_pid_uts_and_ipc_namespaces() {
    let Some(w) = World::new() else { return };
    // A namespace is its inode (`stat -L` of /proc/self/ns/KIND; busybox's
    // applets run from its shell).
    let ns = |args: &[&str], kind: &str| {
        let script = format!("stat -L -c %i /proc/self/ns/{kind}");
        let mut all = vec!["run", "--rm"];
        all.extend_from_slice(args);
        all.extend(["img", "sh", "-c", script.as_str()]);
        w.run(&all).ok().stdout.trim().to_string()
    };
    let host = |kind: &str| {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(format!("/proc/self/ns/{kind}")).unwrap();
        m.ino().to_string()
    };
    for (flag, kind) in [("--pid", "pid"), ("--uts", "uts"), ("--ipc", "ipc")] {
        assert_eq!(ns(&[flag, "host"], kind), host(kind), "{flag}");
        assert_ne!(ns(&[], kind), host(kind), "{flag} by default");
    }
    let name = w
        .run(&["run", "--rm", "--uts", "host", "img", "hostname"])
        .ok()
        .stdout;
    assert_eq!(
        name.trim(),
        nix::unistd::gethostname().unwrap().to_string_lossy()
    );
    let marker = format!("yurta-test-{}", std::process::id());
    let write = format!("echo shared > /dev/shm/{marker}");
    w.run(&["run", "--rm", "--ipc", "host", "img", "sh", "-c", &write])
        .ok();
    let shm = Path::new("/dev/shm").join(&marker);
    let shared = std::fs::read_to_string(&shm);
    let _ = std::fs::remove_file(&shm);
    assert_eq!(shared.unwrap(), "shared\n");
    for (args, want) in [
        (vec!["--pid", "container:x"], "yurta: invalid --pid \"container:x\": sharing another container's namespace is not supported"),
        (vec!["--ipc", "none"], "yurta: invalid --ipc \"none\": expected host, private, shareable"),
        (vec!["--uts", "host", "--hostname", "h"], "yurta: Conflicting options: hostname and the UTS mode"),
    ] {
        w.assert_run_refused(&args, want);
    }
    assert!(w.ids().is_empty());
}

/// `--dns-search`, `--dns-option` (they replace the host's lines; on a
/// user network Docker's ndots:0 stays) and `--group-add` (names and
/// numbers, for the process and for exec); bad values are one line.
#[test]
fn dns_search_options_and_group_add() {
    let Some(w) = World::new() else { return };
    let out = w
        .run(&[
            "run",
            "--rm",
            "--dns-search",
            "example.test",
            "--dns-option",
            "ndots:2",
            "--group-add",
            "4242",
            "img",
            "sh",
            "-c",
            "grep -E '^(search|options)' /etc/resolv.conf; id -G",
        ])
        .ok()
        .stdout;
    assert_eq!(out, "search example.test\noptions ndots:2\n0 4242\n");
    let net = format!("dnsopt{}", w.tag);
    w.run(&["network", "create", &net]).ok();
    let out = w
        .run(&[
            "run",
            "--rm",
            "--network",
            &net,
            "--dns-option",
            "timeout:1",
            "img",
            "grep",
            "options",
            "/etc/resolv.conf",
        ])
        .ok()
        .stdout;
    assert_eq!(out, "options ndots:0 timeout:1\n");
    w.run(&["network", "rm", &net]).ok();
    w.run(&[
        "run",
        "-d",
        "--name",
        "grp",
        "--group-add",
        "4243",
        "img",
        "sleep",
        "600",
    ])
    .ok();
    let exec = w.run(&["exec", "grp", "id", "-G"]).ok().stdout;
    assert_eq!(exec, "0 4243\n");
    w.run(&["rm", "-f", "grp"]).ok();
    let bad = w.run(&["run", "--rm", "--dns-search", "a b", "img", "true"]);
    assert_eq!(bad.code, 125);
    assert_eq!(
        bad.stderr,
        "yurta: invalid --dns-search \"a b\": one word, without spaces\n"
    );
    let bad = w.run(&["run", "--rm", "--group-add", "nosuch", "img", "true"]);
    assert_eq!(bad.code, 125);
    assert!(
        bad.stderr.contains("unable to find group nosuch"),
        "{}",
        bad.stderr
    );
    assert!(w.ids().is_empty());
}
