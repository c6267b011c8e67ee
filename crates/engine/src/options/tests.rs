use super::*;
use crate::record::{MountType, RestartPolicy};

fn image() -> RunConfig {
    RunConfig {
        env: Some(vec!["PATH=/usr/bin:/bin".into(), "LANG=C".into()]),
        cmd: Some(vec!["sh".into()]),
        entrypoint: None,
        working_dir: Some("/srv".into()),
        user: Some("app".into()),
        labels: Some([("from".to_string(), "image".to_string())].into()),
        volumes: Some([("/data".to_string(), json!({}))].into()),
        exposed_ports: Some([("80/tcp".to_string(), json!({}))].into()),
        stop_signal: Some("SIGQUIT".into()),
        ..Default::default()
    }
}

fn opts() -> CreateOptions {
    CreateOptions {
        image: "busybox".into(),
        ..Default::default()
    }
}

#[test]
fn image_config_is_the_default() {
    let (c, h) = build(&image(), &opts()).unwrap();
    assert_eq!(c.cmd, Some(vec!["sh".to_string()]));
    assert_eq!(c.entrypoint, None);
    assert_eq!(c.working_dir, "/srv");
    assert_eq!(c.user, "app");
    assert_eq!(c.env, ["PATH=/usr/bin:/bin", "LANG=C"]);
    assert_eq!(c.stop_signal.as_deref(), Some("SIGQUIT"));
    assert_eq!(c.labels["from"], "image");
    assert!(c.volumes.unwrap().contains_key("/data"));
    assert!(c.exposed_ports.unwrap().contains_key("80/tcp"));
    assert_eq!(c.image, "busybox");
    assert_eq!(h.network_mode, "bridge");
    assert_eq!(
        h.restart_policy,
        RestartPolicy {
            name: "no".into(),
            maximum_retry_count: 0
        }
    );
    assert_eq!(
        (h.memory, h.memory_swap, h.nano_cpus, h.shm_size),
        (0, 0, 0, 64 << 20)
    );
    assert_eq!(h.binds, None);
    assert_eq!(h.log_config.kind, "json-file");
    let j = serde_json::to_value(&h).unwrap();
    assert_eq!(j["CapAdd"], Value::Null);
    assert_eq!(j["Init"], Value::Null);
}

#[test]
fn user_flags_override_and_merge() {
    let mut o = opts();
    o.command = vec!["echo".into(), "hi".into()];
    o.env = vec!["LANG=ru_RU.UTF-8".into(), "X=1".into()];
    o.workdir = Some("/tmp".into());
    o.user = Some("0:0".into());
    o.labels = vec!["from=user".into(), "flag".into()];
    o.stop_signal = Some("SIGUSR1".into());
    o.expose = vec!["53/udp".into(), "8080".into()];
    o.tty = true;
    o.interactive = true;
    o.hostname = Some("box.example".into());
    let (c, _) = build(&image(), &o).unwrap();
    assert_eq!(c.cmd, Some(vec!["echo".to_string(), "hi".to_string()]));
    assert_eq!(c.env, ["PATH=/usr/bin:/bin", "LANG=ru_RU.UTF-8", "X=1"]);
    assert_eq!((c.working_dir.as_str(), c.user.as_str()), ("/tmp", "0:0"));
    assert_eq!(c.labels["from"], "user");
    assert_eq!(c.labels["flag"], "");
    assert_eq!(c.stop_signal.as_deref(), Some("SIGUSR1"));
    let ports = c.exposed_ports.unwrap();
    assert!(
        ports.contains_key("53/udp")
            && ports.contains_key("8080/tcp")
            && ports.contains_key("80/tcp")
    );
    assert!(c.tty && c.open_stdin && c.attach_stdin && c.stdin_once);
    assert_eq!(c.hostname, "box.example");
}

#[test]
fn entrypoint_rules_follow_docker() {
    let mut img = image();
    img.entrypoint = Some(vec!["/entry".into()]);
    let (c, _) = build(&img, &opts()).unwrap();
    assert_eq!(
        (c.entrypoint.clone(), c.cmd.clone()),
        (Some(vec!["/entry".into()]), Some(vec!["sh".into()]))
    );
    let mut o = opts();
    o.entrypoint = Some("/bin/true".into());
    let (c, _) = build(&img, &o).unwrap();
    assert_eq!(
        (c.entrypoint, c.cmd),
        (Some(vec!["/bin/true".into()]), None),
        "image CMD dropped"
    );
    o.command = vec!["x".into()];
    let (c, _) = build(&img, &o).unwrap();
    assert_eq!(c.cmd, Some(vec!["x".to_string()]));
    let mut o = opts();
    o.entrypoint = Some(String::new());
    o.command = vec!["ls".into()];
    let (c, _) = build(&img, &o).unwrap();
    assert_eq!((c.entrypoint, c.cmd), (None, Some(vec!["ls".into()])));
    let mut o = opts();
    o.entrypoint = Some(String::new());
    assert!(matches!(build(&img, &o), Err(OptionError::NoCommand)));
    assert!(matches!(
        build(&RunConfig::default(), &opts()),
        Err(OptionError::NoCommand)
    ));
}

#[test]
fn host_config_flags() {
    let mut o = opts();
    o.memory = Some("64m".into());
    o.memory_swap = Some("128m".into());
    o.cpus = Some("1.5".into());
    o.cpu_shares = Some(512);
    o.cpuset_cpus = Some("0".into());
    o.pids_limit = Some(100);
    o.ulimits = vec!["nofile=1024:2048".into()];
    o.sysctls = vec!["net.ipv4.ip_forward=1".into()];
    o.devices = vec!["/dev/fuse".into()];
    o.cap_add = vec!["NET_ADMIN".into()];
    o.cap_drop = vec!["mknod".into()];
    o.security_opt = vec!["no-new-privileges".into(), "seccomp=unconfined".into()];
    o.read_only = true;
    o.privileged = true;
    o.init = true;
    o.restart = Some("on-failure:5".into());
    o.add_hosts = vec!["db:10.0.0.2".into()];
    o.dns = vec!["192.0.2.53".into()];
    o.log_opts = vec!["max-size=10m".into(), "max-file=3".into()];
    o.volumes = vec!["data:/data".into(), "/srv:/srv:ro".into(), "/anon".into()];
    o.mounts = vec!["type=tmpfs,target=/run,tmpfs-size=1m".into()];
    o.network = Some("mynet".into());
    o.shm_size = Some("128m".into());
    let (c, h) = build(&image(), &o).unwrap();
    assert_eq!((h.memory, h.memory_swap), (64 << 20, 128 << 20));
    assert_eq!(
        (h.nano_cpus, h.cpu_shares, h.cpuset_cpus.as_str()),
        (1_500_000_000, 512, "0")
    );
    assert_eq!(h.pids_limit, Some(100));
    assert_eq!(h.ulimits.as_ref().unwrap()[0].hard, 2048);
    assert_eq!(h.sysctls["net.ipv4.ip_forward"], "1");
    assert_eq!(h.network_mode, "mynet");
    assert_eq!(h.devices[0].path_in_container, "/dev/fuse");
    assert_eq!(h.cap_add, Some(vec!["NET_ADMIN".to_string()]));
    assert!(h.readonly_rootfs && h.privileged && h.init == Some(true));
    assert_eq!(h.restart_policy.maximum_retry_count, 5);
    assert_eq!(h.extra_hosts, Some(vec!["db:10.0.0.2".to_string()]));
    assert_eq!(h.log_config.config["max-file"], "3");
    assert_eq!(
        h.binds,
        Some(vec!["data:/data".to_string(), "/srv:/srv:ro".to_string()])
    );
    assert!(c.volumes.unwrap().contains_key("/anon"));
    assert_eq!(h.mounts[0].kind, MountType::Tmpfs);
    assert_eq!(h.shm_size, 128 << 20);
}

#[test]
fn host_network_refuses_net_sysctls() {
    let mut o = opts();
    o.sysctls = vec!["net.ipv4.ip_forward=1".into()];
    o.network = Some("host".into());
    assert!(build(&image(), &o)
        .unwrap_err()
        .to_string()
        .contains("net.ipv4.ip_forward=1"));
}

#[test]
fn errors_name_the_value() {
    type Case = (fn(&mut CreateOptions), &'static str);
    let cases: Vec<Case> = vec![
        (
            |o| o.memory = Some("12x".into()),
            "invalid memory size \"12x\"",
        ),
        (
            |o| o.cap_add = vec!["CAP_FOO".into()],
            "unknown capability: \"CAP_FOO\"",
        ),
        (
            |o| o.cap_drop = vec!["bogus".into()],
            "unknown capability: \"bogus\"",
        ),
        (
            |o| o.ulimits = vec!["nofile=a".into()],
            "bad ulimit \"nofile=a\"",
        ),
        (|o| o.devices = vec!["fuse".into()], "bad device \"fuse\""),
        (
            |o| o.workdir = Some("rel".into()),
            "the working directory \"rel\" is invalid",
        ),
        (
            |o| o.stop_signal = Some("SIGNOPE".into()),
            "invalid signal \"SIGNOPE\"",
        ),
        (
            |o| o.restart = Some("sometimes".into()),
            "invalid restart policy \"sometimes\"",
        ),
        (
            |o| {
                o.restart = Some("always".into());
                o.auto_remove = true;
            },
            "Conflicting options: --restart \"always\" and --rm",
        ),
        (
            |o| o.security_opt = vec!["apparmor".into()],
            "invalid --security-opt \"apparmor\"",
        ),
        (
            |o| o.security_opt = vec!["seccomp=/x.json".into()],
            "invalid --security-opt \"seccomp=/x.json\"",
        ),
        (
            |o| o.network = Some("container:".into()),
            "invalid --network \"container:\"",
        ),
        (
            |o| o.log_opts = vec!["max-file=0".into()],
            "invalid --log-opt \"max-file=0\"",
        ),
        (
            |o| o.log_opts = vec!["colour=red".into()],
            "invalid --log-opt \"colour=red\"",
        ),
        (
            |o| o.volumes = vec!["a:b".into()],
            "invalid volume specification: \"a:b\"",
        ),
        (
            |o| o.mounts = vec!["type=bind,target=/x".into()],
            "invalid --mount \"type=bind,target=/x\"",
        ),
        (|o| o.cpus = Some("lots".into()), "invalid --cpus \"lots\""),
        (|o| o.hostname = Some("-".repeat(64)), "invalid --hostname"),
        (
            |o| o.add_hosts = vec!["nohost".into()],
            "invalid --add-host \"nohost\"",
        ),
        (
            |o| o.dns = vec!["dns.example".into()],
            "invalid --dns \"dns.example\"",
        ),
        (
            |o| o.shm_size = Some("1y".into()),
            "invalid shm-size size \"1y\"",
        ),
    ];
    for (set, want) in cases {
        let mut o = opts();
        set(&mut o);
        let err = build(&image(), &o).unwrap_err().to_string();
        assert!(
            err.starts_with(want),
            "{err:?} does not start with {want:?}"
        );
    }
}

#[test]
fn load_files_inlines_env_files_and_seccomp_profiles() {
    let d = tempfile::tempdir().unwrap();
    let envf = d.path().join("env");
    std::fs::write(&envf, "A=from-file\nB=file\n").unwrap();
    let prof = d.path().join("p.json");
    std::fs::write(&prof, "{\"defaultAction\":\"SCMP_ACT_ALLOW\"}").unwrap();
    let mut o = opts();
    o.env_files = vec![envf];
    o.env = vec!["A=flag".into(), "FROM_HOST".into(), "UNSET_X".into()];
    o.security_opt = vec![
        format!("seccomp={}", prof.display()),
        "no-new-privileges".into(),
    ];
    let lookup = |k: &str| (k == "FROM_HOST").then(|| "h".to_string());
    o.load_files(&lookup).unwrap();
    assert_eq!(o.env, ["A=from-file", "B=file", "A=flag", "FROM_HOST=h"]);
    let (c, h) = build(
        &RunConfig {
            cmd: Some(vec!["sh".into()]),
            ..Default::default()
        },
        &o,
    )
    .unwrap();
    assert_eq!(c.env, ["A=flag", "B=file", "FROM_HOST=h"]);
    assert_eq!(
        h.security_opt.unwrap()[0],
        "seccomp={\"defaultAction\":\"SCMP_ACT_ALLOW\"}"
    );
    let mut o = opts();
    o.env_files = vec![d.path().join("missing")];
    let err = o.load_files(&lookup).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("reading env file {}/missing", d.path().display())),
        "{err}"
    );
}

#[test]
fn names_longer_than_the_file_system_allows_are_refused_up_front() {
    let long = |n| "a".repeat(n);
    let with = |set: &dyn Fn(&mut CreateOptions)| {
        let mut o = opts();
        set(&mut o);
        build(&image(), &o).map(drop).map_err(|e| e.to_string())
    };
    assert!(with(&|o| o.name = Some(long(253))).is_ok());
    let e = with(&|o| o.name = Some(long(254))).unwrap_err();
    assert_eq!(
        e,
        format!(
            "container name \"{}\" is too long: 254 bytes, at most 253",
            long(254)
        )
    );
    assert!(with(&|o| o.volumes = vec![format!("{}:/d", long(245))]).is_ok());
    let e = with(&|o| o.volumes = vec![format!("{}:/d", long(246))]).unwrap_err();
    assert_eq!(
        e,
        format!(
            "volume name \"{}\" is too long: 246 bytes, at most 245",
            long(246)
        )
    );
    let e = with(&|o| o.mounts = vec![format!("type=volume,source={},target=/d", long(300))])
        .unwrap_err();
    assert!(e.starts_with("volume name \"aaa"), "{e}");
    // Host paths and anonymous volumes are not volume names.
    assert!(with(&|o| o.volumes = vec![format!("/{}:/d", long(300)), "/anon".into()]).is_ok());
}

#[test]
fn cpus_above_the_host_s_count_are_refused_as_docker_does() {
    let mut o = opts();
    o.cpus = Some("2".into());
    assert_eq!(
        build_for(&image(), &o, 2).unwrap().1.nano_cpus,
        2_000_000_000
    );
    o.cpus = Some("2.5".into());
    assert_eq!(
        build_for(&image(), &o, 2).unwrap_err().to_string(),
        "invalid --cpus \"2.5\": Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available"
    );
    assert!(limits::host_cpus() >= 1);
}

#[test]
fn volume_name_limit_comes_from_the_file_system() {
    let d = tempfile::tempdir().unwrap();
    // statvfs(2) of the directory, or of the nearest one above that exists.
    assert_eq!(limits::volume_name_max(&d.path().join("no/such")), 245);
    assert_eq!(limits::volume_name_max(d.path()), limits::MAX_VOLUME_NAME);
}
