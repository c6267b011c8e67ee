use super::*;
use crate::options::{build, CreateOptions};
use crate::record::{MountExtra, MountPoint, MountType};
use yurta_images::spec::RunConfig;

fn record(set: impl FnOnce(&mut CreateOptions)) -> ContainerRecord {
    let image = RunConfig {
        env: Some(vec!["PATH=/bin".into()]),
        cmd: Some(vec!["sh".into(), "-c".into(), "true".into()]),
        ..Default::default()
    };
    let mut o = CreateOptions {
        image: "busybox".into(),
        ..Default::default()
    };
    set(&mut o);
    let (mut config, host_config) = build(&image, &o).unwrap();
    if config.hostname.is_empty() {
        config.hostname = "0123456789ab".into();
    }
    let args: Vec<String> = config
        .entrypoint
        .iter()
        .chain(&config.cmd)
        .flatten()
        .cloned()
        .collect();
    ContainerRecord {
        id: "0123456789ab".repeat(5) + "cdef",
        name: "/web".into(),
        path: args[0].clone(),
        args: args[1..].to_vec(),
        image: "sha256:aaaa".into(),
        config,
        host_config,
        ..Default::default()
    }
}

fn gen_with<'a>(r: &'a ContainerRecord, f: impl FnOnce(&mut SpecInput<'a>)) -> Value {
    let user: &'static ResolvedUser = Box::leak(Box::default());
    let mut input = SpecInput {
        record: r,
        rootfs: Path::new("/var/lib/yurta/containers/x/rootfs"),
        user,
        network: NetNs::Path("/run/netns/x".into()),
        etc: EtcFiles::default(),
        devices: &[],
        privileged_devices: &[],
        init_path: None,
        cgroup_ns: false,
    };
    f(&mut input);
    generate(&input).unwrap()
}

fn gen(set: impl FnOnce(&mut CreateOptions)) -> Value {
    gen_with(&record(set), |_| {})
}

fn caps_of(spec: &Value) -> Vec<String> {
    serde_json::from_value(spec["process"]["capabilities"]["effective"].clone()).unwrap()
}

#[test]
fn defaults_are_dockers() {
    let s = gen(|_| {});
    assert_eq!(s["ociVersion"], "1.2.0");
    assert_eq!(s["process"]["args"], json!(["sh", "-c", "true"]));
    assert_eq!(
        s["process"]["env"],
        json!(["PATH=/bin", "HOSTNAME=0123456789ab", "HOME=/root"])
    );
    assert_eq!(s["process"]["cwd"], "/");
    assert_eq!(s["process"]["user"], json!({"uid": 0, "gid": 0}));
    assert_eq!(s["process"]["terminal"], false);
    assert_eq!(s["process"]["noNewPrivileges"], false);
    assert!(s["process"].get("rlimits").is_none());
    assert_eq!(caps::mask(&caps_of(&s)), 0xa80425fb);
    assert_eq!(
        s["process"]["capabilities"]["bounding"],
        s["process"]["capabilities"]["permitted"]
    );
    assert_eq!(
        s["root"],
        json!({"path": "/var/lib/yurta/containers/x/rootfs", "readonly": false})
    );
    assert_eq!(s["hostname"], "0123456789ab");
    assert!(s.get("domainname").is_none());
    let l = &s["linux"];
    assert_eq!(
        l["cgroupsPath"],
        format!("/yurta/{}", "0123456789ab".repeat(5) + "cdef")
    );
    assert_eq!(
        l["namespaces"],
        json!([{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"},
               {"type": "network", "path": "/run/netns/x"}])
    );
    assert_eq!(l["maskedPaths"], json!(MASKED_PATHS));
    assert_eq!(l["readonlyPaths"], json!(READONLY_PATHS));
    assert_eq!(l["seccomp"]["defaultAction"], "SCMP_ACT_ERRNO");
    assert!(l.get("devices").is_none() && l.get("sysctl").is_none());
    assert_eq!(
        l["resources"]["devices"][0],
        json!({"allow": false, "access": "rwm"})
    );
    assert!(l["resources"].get("memory").is_none() && l["resources"].get("cpu").is_none());
    let dests: Vec<&str> = s["mounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["destination"].as_str().unwrap())
        .collect();
    assert_eq!(
        dests,
        [
            "/proc",
            "/dev",
            "/dev/pts",
            "/sys",
            "/sys/fs/cgroup",
            "/dev/mqueue",
            "/dev/shm"
        ]
    );
    assert_eq!(
        s["mounts"][3]["options"],
        json!(["nosuid", "noexec", "nodev", "ro"])
    );
    assert_eq!(
        s["mounts"][6]["options"],
        json!(["nosuid", "noexec", "nodev", "mode=1777", "size=67108864"])
    );
    assert_eq!(s["annotations"]["io.yurta.container.name"], "web");
    assert_eq!(s["annotations"]["io.yurta.image"], "sha256:aaaa");
}

#[test]
fn process_options() {
    let s = gen(|o| {
        o.tty = true;
        o.env = vec!["HOME=/home/x".into(), "PATH=/usr/bin".into()];
        o.workdir = Some("/work".into());
        o.ulimits = vec!["nofile=1024:2048".into(), "core=-1".into()];
        o.security_opt = vec!["no-new-privileges".into()];
        o.hostname = Some("box".into());
        o.entrypoint = Some("/bin/echo".into());
        o.command = vec!["a b".into()];
    });
    let p = &s["process"];
    assert_eq!(p["terminal"], true);
    assert_eq!(p["args"], json!(["/bin/echo", "a b"]));
    assert_eq!(
        p["env"],
        json!([
            "PATH=/usr/bin",
            "HOSTNAME=box",
            "TERM=xterm",
            "HOME=/home/x"
        ])
    );
    assert_eq!(p["cwd"], "/work");
    assert_eq!(p["noNewPrivileges"], true);
    assert_eq!(
        p["rlimits"],
        json!([{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 2048},
               {"type": "RLIMIT_CORE", "soft": u64::MAX, "hard": u64::MAX}])
    );
    assert_eq!(s["hostname"], "box");
}

#[test]
fn resolved_user_goes_into_the_spec() {
    let r = record(|o| o.user = Some("app".into()));
    let user = ResolvedUser {
        uid: 1000,
        gid: 1000,
        additional_gids: vec![10, 50],
        home: "/home/app".into(),
    };
    let s = generate(&SpecInput {
        record: &r,
        rootfs: Path::new("/r"),
        user: &user,
        network: NetNs::Host,
        etc: EtcFiles::default(),
        devices: &[],
        privileged_devices: &[],
        init_path: None,
        cgroup_ns: true,
    })
    .unwrap();
    assert_eq!(
        s["process"]["user"],
        json!({"uid": 1000, "gid": 1000, "additionalGids": [10, 50]})
    );
    assert!(s["process"]["env"]
        .as_array()
        .unwrap()
        .contains(&json!("HOME=/home/app")));
    let ns = &s["linux"]["namespaces"];
    assert!(
        !ns.as_array()
            .unwrap()
            .iter()
            .any(|n| n["type"] == "network"),
        "host network"
    );
    assert!(ns.as_array().unwrap().contains(&json!({"type": "cgroup"})));
    let none = gen_with(&r, |i| i.network = NetNs::New);
    assert!(none["linux"]["namespaces"]
        .as_array()
        .unwrap()
        .contains(&json!({"type": "network"})));
}

#[test]
fn capabilities_and_seccomp() {
    let s = gen(|o| {
        o.cap_add = vec!["net_admin".into()];
        o.cap_drop = vec!["CAP_MKNOD".into()];
    });
    let caps = caps_of(&s);
    assert!(caps.contains(&"CAP_NET_ADMIN".into()) && !caps.contains(&"CAP_MKNOD".into()));
    let s = gen(|o| o.cap_drop = vec!["ALL".into()]);
    assert!(caps_of(&s).is_empty());
    let s = gen(|o| o.security_opt = vec!["seccomp=unconfined".into()]);
    assert!(s["linux"].get("seccomp").is_none());
    let profile = r#"seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mount"],"action":"SCMP_ACT_ERRNO"}]}"#;
    let s = gen(|o| o.security_opt = vec![profile.into()]);
    assert_eq!(
        s["linux"]["seccomp"],
        json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mount"], "action": "SCMP_ACT_ERRNO"}]})
    );
}

#[test]
fn privileged() {
    let null = HostDevice {
        path: "/dev/null".into(),
        kind: 'c',
        major: 1,
        minor: 3,
        file_mode: 0o666,
        uid: 0,
        gid: 0,
        permissions: "rwm".into(),
    };
    let r = record(|o| o.privileged = true);
    let all = [null.clone()];
    let s = gen_with(&r, |i| i.privileged_devices = &all);
    assert_eq!(caps_of(&s).len(), caps::ALL.len());
    let l = &s["linux"];
    assert!(
        l.get("seccomp").is_none()
            && l.get("maskedPaths").is_none()
            && l.get("readonlyPaths").is_none()
    );
    assert_eq!(
        l["resources"]["devices"],
        json!([{"allow": true, "access": "rwm"}])
    );
    assert_eq!(
        l["devices"][0],
        json!({"path": "/dev/null", "type": "c", "major": 1, "minor": 3, "fileMode": 0o666, "uid": 0, "gid": 0})
    );
    assert_eq!(
        s["mounts"][3]["options"],
        json!(["nosuid", "noexec", "nodev"]),
        "sysfs rw"
    );
    assert_eq!(
        s["mounts"][4]["options"],
        json!(["nosuid", "noexec", "nodev", "relatime"]),
        "cgroup rw"
    );
    let r = record(|o| o.devices = vec!["/dev/null:/dev/n:r".into()]);
    let dev = [HostDevice {
        path: "/dev/n".into(),
        permissions: "r".into(),
        ..null
    }];
    let s = gen_with(&r, |i| i.devices = &dev);
    assert_eq!(s["linux"]["devices"][0]["path"], "/dev/n");
    let rules = s["linux"]["resources"]["devices"].as_array().unwrap();
    assert_eq!(
        rules.last().unwrap(),
        &json!({"allow": true, "type": "c", "major": 1, "minor": 3, "access": "r"})
    );
}

#[test]
fn resources() {
    let s = gen(|o| {
        o.memory = Some("64m".into());
        o.cpus = Some("1.5".into());
        o.cpu_shares = Some(512);
        o.cpuset_cpus = Some("0-1".into());
        o.pids_limit = Some(100);
        o.sysctls = vec!["net.ipv4.ip_forward=1".into()];
    });
    let res = &s["linux"]["resources"];
    assert_eq!(res["memory"], json!({"limit": 64 << 20, "swap": 128 << 20}));
    assert_eq!(
        res["cpu"],
        json!({"shares": 512, "quota": 150000, "period": 100000, "cpus": "0-1"})
    );
    assert_eq!(res["pids"], json!({"limit": 100}));
    assert_eq!(s["linux"]["sysctl"], json!({"net.ipv4.ip_forward": "1"}));
    let s = gen(|o| {
        o.memory = Some("1g".into());
        o.memory_swap = Some("-1".into());
        o.pids_limit = Some(-1);
    });
    assert_eq!(
        s["linux"]["resources"]["memory"],
        json!({"limit": 1 << 30, "swap": -1})
    );
    assert_eq!(s["linux"]["resources"]["pids"], json!({"limit": -1}));
}

fn mp(kind: MountType, src: &str, dest: &str, rw: bool) -> MountPoint {
    MountPoint {
        kind,
        name: None,
        source: src.into(),
        destination: dest.into(),
        driver: None,
        mode: String::new(),
        rw,
        propagation: if kind == MountType::Bind {
            "rprivate".into()
        } else {
            String::new()
        },
        extra: MountExtra::default(),
    }
}

#[test]
fn mounts_in_order_with_network_files_and_init() {
    let d = tempfile::tempdir().unwrap();
    let init = d.path().join("init");
    std::fs::write(&init, "").unwrap();
    let mut r = record(|o| {
        o.read_only = true;
        o.init = true;
    });
    let mut tmp = mp(MountType::Tmpfs, "", "/run", true);
    tmp.extra.tmpfs_size = Some(1 << 20);
    tmp.extra.tmpfs_mode = Some(0o1777);
    let mut shared = mp(MountType::Bind, "/srv", "/srv/a/b", false);
    shared.propagation = "rshared".into();
    r.mounts = vec![
        shared,
        mp(MountType::Volume, "/v/data/_data", "/data", true),
        tmp,
        mp(MountType::Tmpfs, "", "/dev/shm", true),
    ];
    let etc = EtcFiles {
        hosts: Some("/c/hosts".into()),
        hostname: Some("/c/hostname".into()),
        resolv_conf: Some("/c/resolv.conf".into()),
    };
    let s = gen_with(&r, |i| {
        i.etc = etc;
        i.init_path = Some(&init);
    });
    let ms = s["mounts"].as_array().unwrap();
    let dests: Vec<&str> = ms
        .iter()
        .map(|m| m["destination"].as_str().unwrap())
        .collect();
    assert_eq!(
        dests,
        [
            "/proc",
            "/dev",
            "/dev/pts",
            "/sys",
            "/sys/fs/cgroup",
            "/dev/mqueue",
            "/etc/resolv.conf",
            "/etc/hostname",
            "/etc/hosts",
            "/data",
            "/run",
            "/dev/shm",
            "/srv/a/b",
            INIT_PATH
        ]
    );
    assert_eq!(
        ms[6],
        json!({"destination": "/etc/resolv.conf", "type": "bind", "source": "/c/resolv.conf", "options": ["rbind", "rprivate", "ro"]})
    );
    assert_eq!(
        ms[9],
        json!({"destination": "/data", "type": "bind", "source": "/v/data/_data", "options": ["rbind", "rprivate"]})
    );
    assert_eq!(
        ms[10],
        json!({"destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "noexec", "size=1048576", "mode=1777"]})
    );
    assert_eq!(ms[12]["options"], json!(["rbind", "ro", "rshared"]));
    assert_eq!(
        ms[13],
        json!({"destination": INIT_PATH, "type": "bind", "source": init.display().to_string(), "options": ["rbind", "ro", "rprivate"]})
    );
    assert_eq!(
        s["process"]["args"],
        json!([INIT_PATH, "--", "sh", "-c", "true"])
    );
    assert_eq!(s["root"]["readonly"], true);
}

#[test]
fn init_needs_a_binary() {
    let r = record(|o| o.init = true);
    let user = ResolvedUser::default();
    let input = SpecInput {
        record: &r,
        rootfs: Path::new("/r"),
        user: &user,
        network: NetNs::New,
        etc: EtcFiles::default(),
        devices: &[],
        privileged_devices: &[],
        init_path: Some(Path::new("/nonexistent/init")),
        cgroup_ns: false,
    };
    assert_eq!(
        generate(&input).unwrap_err().to_string(),
        "--init: no init binary at /nonexistent/init"
    );
}

#[test]
fn the_spec_parses_as_an_oci_spec_with_every_option() {
    let s = gen(|o| {
        o.tty = true;
        o.memory = Some("64m".into());
        o.cpus = Some("0.5".into());
        o.ulimits = vec!["nproc=10".into()];
        o.sysctls = vec!["kernel.shmmax=1".into()];
        o.stop_signal = Some("SIGINT".into());
    });
    let spec: oci_spec::runtime::Spec = serde_json::from_value(s.clone()).unwrap();
    assert_eq!(spec.hostname().as_deref(), Some("0123456789ab"));
    assert_eq!(
        s["annotations"]["org.opencontainers.image.stopSignal"],
        "SIGINT"
    );
}
