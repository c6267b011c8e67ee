//! config.json conformance: each setting checked from inside the container,
//! against yurta-runtime and runc.

#[macro_use]
mod common;

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::console::{read_until, ConsoleSocket};
use common::{assert_contains, Ct, Runtime};
use serde_json::{json, Value};

scenarios!(
    hostname,
    readonly_root,
    masked_paths,
    readonly_paths,
    capabilities,
    no_new_privileges,
    rlimits,
    sysctl,
    user_ids_and_umask,
    mount_tmpfs_size_mode,
    mount_option_defaults,
    mount_bind_ro,
    mount_bind_rw,
    devices,
    netns_joined_by_path,
    user_namespace_mappings,
    cgroup_namespace,
    time_namespace_offsets,
    time_namespace_in_user_namespace,
    cgroups_path_without_cgroupns,
    seccomp_denies_mkdir,
    hooks,
    console_socket_create,
    console_socket_run_detach,
    console_socket_exec_tty,
);

fn hostname(rt: &Runtime) {
    let mut ct = Ct::new(rt, "hostname");
    ct.config["hostname"] = json!("box-7");
    assert_eq!(
        ct.run_sh("hostname; cat /proc/sys/kernel/hostname"),
        "box-7\nbox-7\n"
    );
}

fn readonly_root(rt: &Runtime) {
    let mut ct = Ct::new(rt, "ro_root");
    ct.config["root"]["readonly"] = json!(true);
    let out = ct.run_sh("touch /x 2>/dev/null && echo root-writable || echo root-ro; touch /dev/shm/y && echo shm-ok");
    assert_eq!(out, "root-ro\nshm-ok\n");
    assert!(!ct.rootfs().join("x").exists());
}

fn masked_paths(rt: &Runtime) {
    let mut ct = Ct::new(rt, "masked");
    // Kernels differ in which of these exist; those that do must read empty.
    let files: Vec<&str> = [
        "/proc/kcore",
        "/proc/keys",
        "/proc/timer_list",
        "/proc/sched_debug",
    ]
    .into_iter()
    .filter(|f| Path::new(f).exists())
    .collect();
    assert!(!files.is_empty());
    let script: String = files
        .iter()
        .map(|f| format!("echo {f} $(cat {f} | wc -c); "))
        .collect();
    let out = ct.run_sh(&format!(
        "{script} echo /sys/firmware $(ls /sys/firmware | wc -l)"
    ));
    let want: String = files
        .iter()
        .chain(&["/sys/firmware"])
        .map(|f| format!("{f} 0\n"))
        .collect();
    assert_eq!(out, want);
}

fn readonly_paths(rt: &Runtime) {
    let mut ct = Ct::new(rt, "ro_paths");
    // Root of the ipc namespace could write this sysctl were /proc/sys not read-only.
    let out = ct.run_sh(
        "echo 1 > /proc/sys/kernel/shm_rmid_forced 2>/dev/null && echo writable || echo not-writable; \
         awk '$5 == \"/proc/sys\" { print $6 }' /proc/self/mountinfo",
    );
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("not-writable"), "{out:?}");
    let opts = lines
        .next()
        .unwrap_or_else(|| panic!("/proc/sys is not a mount: {out:?}"));
    assert!(
        opts.split(',').any(|o| o == "ro"),
        "/proc/sys mount options: {opts}"
    );
}

fn capabilities(rt: &Runtime) {
    let mut ct = Ct::new(rt, "caps");
    let caps = json!(["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"]);
    ct.config["process"]["capabilities"] = json!({
        "bounding": caps, "effective": caps, "permitted": caps
    });
    let out = ct.run_sh("grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb):' /proc/self/status");
    // CAP_CHOWN = 0, CAP_KILL = 5, CAP_NET_BIND_SERVICE = 10.
    let want = "CapInh:\t0000000000000000\nCapPrm:\t0000000000000421\nCapEff:\t0000000000000421\n\
                CapBnd:\t0000000000000421\nCapAmb:\t0000000000000000\n";
    assert_eq!(out, want);
}

fn no_new_privileges(rt: &Runtime) {
    let mut ct = Ct::new(rt, "nnp");
    assert_eq!(
        ct.run_sh("grep NoNewPrivs /proc/self/status"),
        "NoNewPrivs:\t1\n"
    );
    ct.config["process"]["noNewPrivileges"] = json!(false);
    assert_eq!(
        ct.run_sh("grep NoNewPrivs /proc/self/status"),
        "NoNewPrivs:\t0\n"
    );
}

fn rlimits(rt: &Runtime) {
    let mut ct = Ct::new(rt, "rlimits");
    ct.config["process"]["rlimits"] =
        json!([{"type": "RLIMIT_NOFILE", "soft": 1234, "hard": 5678}]);
    assert_eq!(ct.run_sh("ulimit -n; ulimit -Hn"), "1234\n5678\n");
}

fn sysctl(rt: &Runtime) {
    let mut ct = Ct::new(rt, "sysctl");
    ct.config["linux"]["sysctl"] = json!({
        "kernel.shm_rmid_forced": "1",
        "net.ipv4.tcp_keepalive_time": "1234"
    });
    let out =
        ct.run_sh("cat /proc/sys/kernel/shm_rmid_forced /proc/sys/net/ipv4/tcp_keepalive_time");
    assert_eq!(out, "1\n1234\n");
}

fn user_ids_and_umask(rt: &Runtime) {
    let mut ct = Ct::new(rt, "user");
    ct.config["process"]["user"] =
        json!({"uid": 1000, "gid": 1001, "additionalGids": [10, 20], "umask": 0o027});
    let out = ct.run_sh(
        "grep -E '^(Umask|Uid|Gid|Groups):' /proc/self/status; touch /tmp/f; stat -c %a /tmp/f",
    );
    assert_eq!(
        out,
        "Umask:\t0027\nUid:\t1000\t1000\t1000\t1000\nGid:\t1001\t1001\t1001\t1001\nGroups:\t10 20 \n640\n"
    );
    // Without one, runc's 0022 (init itself runs with 0 for exact modes).
    let mut ct = Ct::new(rt, "umask-default");
    let out = ct.run_sh("grep '^Umask:' /proc/self/status; touch /tmp/f; stat -c %a /tmp/f");
    assert_eq!(out, "Umask:\t0022\n644\n");
}

fn mount_tmpfs_size_mode(rt: &Runtime) {
    let mut ct = Ct::new(rt, "tmpfs");
    add_mount(
        &mut ct,
        json!({"destination": "/mnt/t", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m", "mode=1770", "nodev"]}),
    );
    let out = ct.run_sh("stat -c %a /mnt/t; df -k /mnt/t | tail -n 1 | awk '{print $2}'; grep ' /mnt/t ' /proc/self/mountinfo");
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("1770"), "{out}");
    assert_eq!(lines.next(), Some("1024"), "{out}");
    assert_contains(lines.next().unwrap_or_default(), "nodev");
}

/// `defaults` (listed in `features`) is no option of any filesystem: it
/// must not reach mount(2)'s data, where tmpfs would refuse it. (runc
/// 1.1.5 lists it too but passes it on: EINVAL, a runc bug.)
fn mount_option_defaults(rt: &Runtime) {
    let mut ct = Ct::new(rt, "mount_defaults");
    add_mount(
        &mut ct,
        json!({"destination": "/mnt/d", "type": "tmpfs", "source": "tmpfs", "options": ["defaults", "noexec"]}),
    );
    ct.sh("grep ' /mnt/d ' /proc/self/mountinfo");
    let res = ct.run();
    if rt.is_yurta() || res.ok() {
        assert_contains(&res.expect_ok("run").stdout, "noexec");
    } else {
        assert_contains(&res.stderr, "data: defaults");
    }
}

fn mount_bind_ro(rt: &Runtime) {
    let mut ct = Ct::new(rt, "bind_ro");
    let src = ct.dir.join("ro-src");
    fs::create_dir(&src).unwrap();
    fs::write(src.join("hello"), "from host\n").unwrap();
    add_mount(
        &mut ct,
        json!({"destination": "/mnt/ro", "type": "bind", "source": src, "options": ["rbind", "ro"]}),
    );
    let out = ct.run_sh(
        "cat /mnt/ro/hello; echo x > /mnt/ro/new 2>/dev/null && echo writable || echo read-only",
    );
    assert_eq!(out, "from host\nread-only\n");
    assert!(!src.join("new").exists());
}

fn mount_bind_rw(rt: &Runtime) {
    let mut ct = Ct::new(rt, "bind_rw");
    let src = ct.dir.join("rw-src");
    fs::create_dir(&src).unwrap();
    add_mount(
        &mut ct,
        json!({"destination": "/mnt/rw", "type": "bind", "source": src, "options": ["bind", "rw"]}),
    );
    ct.run_sh("echo written inside > /mnt/rw/out");
    assert_eq!(
        fs::read_to_string(src.join("out")).unwrap(),
        "written inside\n"
    );
}

fn devices(rt: &Runtime) {
    let mut ct = Ct::new(rt, "devices");
    ct.config["linux"]["devices"] = json!([
        {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o640, "uid": 0, "gid": 0},
        {"path": "/dev/other-null", "type": "c", "major": 1, "minor": 3, "fileMode": 0o666, "uid": 0, "gid": 0}
    ]);
    ct.config["linux"]["resources"]["devices"]
        .as_array_mut()
        .unwrap()
        .push(json!({"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"}));
    let out = ct.run_sh("stat -c '%t:%T %a %F' /dev/fuse /dev/other-null; echo data > /dev/other-null && echo wrote");
    assert_eq!(
        out,
        "a:e5 640 character special file\n1:3 666 character special file\nwrote\n"
    );
}

/// A network namespace made with `ip netns add`, removed on drop.
struct NetNs(String);

impl NetNs {
    fn add(name: String) -> Self {
        let ok = Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .unwrap()
            .success();
        assert!(ok, "ip netns add {name}");
        NetNs(name)
    }

    fn path(&self) -> String {
        format!("/run/netns/{}", self.0)
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn netns_joined_by_path(rt: &Runtime) {
    let netns = NetNs::add(format!("yt-{:?}-{}", rt.kind, std::process::id()));
    let mut ct = Ct::new(rt, "netns_path");
    set_namespace(&mut ct, json!({"type": "network", "path": netns.path()}));
    let ino = fs::metadata(netns.path()).unwrap().ino();
    assert_eq!(
        ct.run_sh("readlink /proc/self/ns/net"),
        format!("net:[{ino}]\n")
    );
}

fn user_namespace_mappings(rt: &Runtime) {
    let mut ct = Ct::new(rt, "userns");
    set_namespace(&mut ct, json!({"type": "user"}));
    let map = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    ct.config["linux"]["uidMappings"] = map.clone();
    ct.config["linux"]["gidMappings"] = map;
    chown_tree(&ct.rootfs(), 100000, 100000);
    let out =
        ct.run_sh("cat /proc/self/uid_map /proc/self/gid_map; id -u; stat -c %u /bin/busybox");
    let words: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(
        words,
        ["0", "100000", "65536", "0", "100000", "65536", "0", "0"],
        "{out:?}"
    );
}

/// Boot time seen inside, minus the host's, in whole days.
fn boottime_shift_days(ct: &mut Ct) -> i64 {
    ct.config["linux"]["timeOffsets"] = json!({"boottime": {"secs": 864000, "nanosecs": 0}});
    set_namespace(ct, json!({"type": "time"}));
    let host: f64 = fs::read_to_string("/proc/uptime")
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let out = ct.run_sh("cut -d' ' -f1 /proc/uptime");
    let inside: f64 = out
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("uptime {out:?}"));
    ((inside - host) / 86400.0).round() as i64
}

/// Whether the runtime's `features` lists the time namespace (runc gained it
/// in 1.2; Debian 12 ships 1.1.5, so the runc variant is a no-op there).
fn supports_time_namespace(rt: &Runtime) -> bool {
    let out = Command::new(&rt.bin)
        .arg("features")
        .output()
        .expect("features");
    let features: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let listed = features["linux"]["namespaces"]
        .as_array()
        .is_some_and(|a| a.contains(&json!("time")));
    if !listed {
        eprintln!(
            "skipping: {} does not support time namespaces",
            rt.bin.display()
        );
    }
    listed
}

fn time_namespace_offsets(rt: &Runtime) {
    if !supports_time_namespace(rt) {
        return;
    }
    let mut ct = Ct::new(rt, "timens");
    assert_eq!(boottime_shift_days(&mut ct), 10);
}

fn time_namespace_in_user_namespace(rt: &Runtime) {
    if !supports_time_namespace(rt) {
        return;
    }
    let mut ct = Ct::new(rt, "timens_userns");
    set_namespace(&mut ct, json!({"type": "user"}));
    let map = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    ct.config["linux"]["uidMappings"] = map.clone();
    ct.config["linux"]["gidMappings"] = map;
    chown_tree(&ct.rootfs(), 100000, 100000);
    assert_eq!(boottime_shift_days(&mut ct), 10);
}

fn cgroup_namespace(rt: &Runtime) {
    let mut ct = Ct::new(rt, "cgroupns");
    let out = ct.run_sh("cat /proc/self/cgroup");
    assert!(
        out.lines().count() > 0 && out.lines().all(|l| l.ends_with(":/")),
        "cgroups not rooted at /: {out}"
    );
}

fn cgroups_path_without_cgroupns(rt: &Runtime) {
    let mut ct = Ct::new(rt, "no_cgroupns");
    ct.config["linux"]["namespaces"]
        .as_array_mut()
        .unwrap()
        .retain(|n| n["type"] != "cgroup");
    let out = ct.run_sh("grep ':memory:' /proc/self/cgroup");
    assert!(
        out.trim_end()
            .ends_with(&format!(":memory:/yurta-test/{}", ct.id)),
        "{out}"
    );
}

fn seccomp_denies_mkdir(rt: &Runtime) {
    let mut ct = Ct::new(rt, "seccomp");
    ct.config["linux"]["seccomp"] = json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]
    });
    let out = ct.run_sh("mkdir /tmp/d 2>&1; echo mkdir=$?; touch /tmp/f && echo touch-ok; ls /tmp");
    assert_eq!(
        out,
        "mkdir: can't create directory '/tmp/d': Operation not permitted\nmkdir=1\ntouch-ok\nf\n"
    );
}

/// A hook running `sh -c script` with a PATH (hooks get no environment).
fn hook(sh: &str, script: String) -> Value {
    json!({"path": sh, "args": ["sh", "-c", script], "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]})
}

fn hooks(rt: &Runtime) {
    let mut ct = Ct::new(rt, "hooks");
    let marks = ct.dir.join("hooks");
    fs::create_dir(&marks).unwrap();
    let m = marks.display();
    let on_host = |kind: &str| json!([hook("/bin/sh", format!("cat > {m}/{kind}.json"))]);
    ct.config["hooks"] = json!({
        "createRuntime": on_host("createRuntime"),
        "prestart": on_host("prestart"),
        "poststart": on_host("poststart"),
        "poststop": on_host("poststop"),
        // Before pivot_root: host paths, container namespaces.
        "createContainer": [hook("/bin/sh", format!(
            "cat > {m}/createContainer.json; readlink /proc/self/ns/mnt /proc/self/ns/net > {m}/createContainer.ns"))],
        // After pivot_root: the container's busybox.
        "startContainer": [hook("/bin/sh", "cat > /start.json; hostname > /start.host".into())],
    });
    ct.sh("echo ready");
    ct.create();
    let seen = |kind: &str| marks.join(format!("{kind}.json")).exists();
    for kind in ["createRuntime", "prestart", "createContainer"] {
        assert_eq!(
            hook_state(&marks.join(format!("{kind}.json")))["id"],
            json!(ct.id),
            "{kind}"
        );
    }
    // No check that poststart has not run yet: runc up to 1.4 runs it at
    // create (opencontainers/runc#4347); the spec says after the process starts.
    assert!(
        !ct.rootfs().join("start.json").exists(),
        "startContainer ran at create"
    );
    let ns = fs::read_to_string(marks.join("createContainer.ns")).unwrap();
    let own = [
        fs::read_link("/proc/self/ns/mnt").unwrap(),
        fs::read_link("/proc/self/ns/net").unwrap(),
    ];
    for (line, own) in ns.lines().zip(own) {
        assert_ne!(
            Path::new(line),
            own,
            "createContainer hook ran in the runtime's namespace"
        );
    }
    ct.start();
    ct.wait_output("ready");
    assert_eq!(
        hook_state(&ct.rootfs().join("start.json"))["id"],
        json!(ct.id)
    );
    assert_eq!(
        fs::read_to_string(ct.rootfs().join("start.host")).unwrap(),
        "yurta-test\n"
    );
    assert_eq!(
        hook_state(&marks.join("poststart.json"))["id"],
        json!(ct.id)
    );
    ct.wait_status("stopped");
    assert!(!seen("poststop"));
    ct.rt(&["delete", &ct.id]).expect_ok("delete");
    assert_eq!(hook_state(&marks.join("poststop.json"))["id"], json!(ct.id));
}

#[track_caller]
fn hook_state(path: &Path) -> Value {
    let data = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&data)
        .unwrap_or_else(|e| panic!("{}: not JSON ({e}): {data:?}", path.display()))
}

fn console_socket_create(rt: &Runtime) {
    let mut ct = Ct::new(rt, "console");
    ct.config["process"]["terminal"] = json!(true);
    ct.sh("tty; [ -t 1 ] && echo stdout-is-tty; echo done; sleep 0.2");
    let socket = ConsoleSocket::bind(&ct.dir.join("console.sock"));
    let path = socket.path.to_str().unwrap().to_owned();
    let master = socket.receive_in_background();
    ct.try_create(&["--console-socket", &path])
        .expect_ok("create --console-socket");
    let master = master
        .recv_timeout(Duration::from_secs(5))
        .expect("no pty master on the console socket");
    ct.start();
    let out = read_until(master, "done");
    assert!(
        out.contains("/dev/pts/0") || out.contains("/dev/console"),
        "tty said: {out:?}"
    );
    assert_contains(&out, "stdout-is-tty\r\n");
    ct.wait_status("stopped");
}

fn console_socket_run_detach(rt: &Runtime) {
    let mut ct = Ct::new(rt, "run_detach");
    ct.config["process"]["terminal"] = json!(true);
    ct.sh("echo ready; sleep 100");
    ct.write_config();
    let socket = ConsoleSocket::bind(&ct.dir.join("console.sock"));
    let path = socket.path.to_str().unwrap().to_owned();
    let master = socket.receive_in_background();
    let bundle = ct.bundle.to_str().unwrap();
    ct.rt_files(
        "run",
        &[
            "run",
            "--detach",
            "--console-socket",
            &path,
            "--bundle",
            bundle,
            &ct.id,
        ],
    )
    .expect_ok("run -d");
    assert_eq!(ct.status(), "running");
    let master = master
        .recv_timeout(Duration::from_secs(5))
        .expect("no pty master on the console socket");
    assert_contains(&read_until(master, "ready"), "ready");
}

/// runc accepts --console-socket for exec only with --detach.
fn console_socket_exec_tty(rt: &Runtime) {
    let mut ct = Ct::new(rt, "exec_tty");
    ct.start_sh("echo ready; sleep 100", "ready");
    let socket = ConsoleSocket::bind(&ct.dir.join("console.sock"));
    let path = socket.path.to_str().unwrap().to_owned();
    let master = socket.receive_in_background();
    let script = "[ -t 0 ] && echo stdin-is-tty; echo done; sleep 0.2";
    let args = [
        "exec",
        "--detach",
        "--tty",
        "--console-socket",
        &path,
        &ct.id,
        "sh",
        "-c",
        script,
    ];
    ct.rt_files("exec", &args)
        .expect_ok("exec --tty --console-socket");
    let master = master
        .recv_timeout(Duration::from_secs(5))
        .expect("no pty master on the console socket");
    assert_contains(&read_until(master, "done"), "stdin-is-tty\r\ndone");
}

fn add_mount(ct: &mut Ct, mount: Value) {
    ct.config["mounts"].as_array_mut().unwrap().push(mount);
}

/// Replaces the namespace of the same type, or adds it.
fn set_namespace(ct: &mut Ct, ns: Value) {
    let list = ct.config["linux"]["namespaces"].as_array_mut().unwrap();
    list.retain(|n| n["type"] != ns["type"]);
    list.push(ns);
}

fn chown_tree(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::lchown(path, Some(uid), Some(gid)).unwrap();
    if path.is_dir() && !path.is_symlink() {
        for e in fs::read_dir(path).unwrap() {
            chown_tree(&e.unwrap().path(), uid, gid);
        }
    }
}
