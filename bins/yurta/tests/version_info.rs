//! `yurta version` and `yurta info` / `system info` (issue 10): Docker's
//! layout and fields, and `--format`.

mod common;

use common::world::World;
use serde_json::Value;

#[test]
fn version_has_both_sections_and_formats() {
    let y = common::Yurta::new();
    let o = y.run(&["version"]).ok();
    for want in [
        "Client:\n Version:       0.1.0\n",
        " API version:   1.41\n",
        " Rust version:  1.",
        " Git commit:    ",
        " Built:         ",
        " OS/Arch:       linux/",
        "\nServer: yurta Engine",
        "\n Engine:\n  Version:      0.1.0\n",
        "\n yurta-runtime:\n  Version:      0.1.0\n",
    ] {
        assert!(o.stdout.contains(want), "{want:?} not in\n{}", o.stdout);
    }
    let v = y
        .run(&[
            "version",
            "--format",
            "{{.Client.Version}}/{{.Server.Version}}",
        ])
        .ok();
    assert_eq!(v.stdout, format!("{0}/{0}\n", env!("CARGO_PKG_VERSION")));
    let j: Value =
        serde_json::from_str(&y.run(&["version", "--format", "{{json .}}"]).ok().stdout).unwrap();
    assert_eq!(j["Client"]["Os"], "linux");
    assert_eq!(j["Server"]["Components"][0]["Name"], "Engine");
    assert_eq!(j["Server"]["Components"][1]["Name"], "yurta-runtime");
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    assert_eq!(j["Server"]["Arch"], arch);
    let j2: Value =
        serde_json::from_str(&y.run(&["version", "--format", "json"]).ok().stdout).unwrap();
    assert_eq!(j, j2);
    // A struct is true in {{if}}, as in Go.
    let v = y
        .run(&["version", "--format", "{{if .Client}}x{{end}}"])
        .ok();
    assert_eq!(v.stdout, "x\n");
    for bad in ["{{.Nope}}", "{{.Client"] {
        let o = y.run(&["version", "--format", bad]);
        assert_eq!(o.code, 125, "{bad}");
        assert!(
            o.stderr.starts_with("yurta: template: --format:1:"),
            "{}",
            o.stderr
        );
        assert_eq!(o.stderr.lines().count(), 1, "{}", o.stderr);
    }
}

#[test]
fn info_counts_and_describes_the_host() {
    let Some(w) = World::new() else {
        return;
    };
    w.run(&[
        "run",
        "-d",
        "--name",
        "up",
        "--network",
        "none",
        "img",
        "sleep",
        "1000",
    ])
    .ok();
    w.run(&["run", "--name", "done", "--network", "none", "img", "true"])
        .ok();
    let o = w.run(&["info"]).ok();
    let uname_m = common::sh("uname", &["-m"]).ok().stdout;
    let kernel = common::sh("uname", &["-r"]).ok().stdout;
    let root = w.y.root();
    for want in [
        "Server:\n Containers: 2\n  Running: 1\n  Paused: 0\n  Stopped: 1\n Images: 1\n"
            .to_string(),
        format!(" Architecture: {}", uname_m),
        format!(" Kernel Version: {}", kernel),
        format!(" Docker Root Dir: {}\n", root.display()),
        " Storage Driver: overlay\n".into(),
        " Cgroup Driver: cgroupfs\n".into(),
        " Default Runtime: yurta-runtime\n".into(),
        " Operating System: ".into(),
        " Total Memory: ".into(),
    ] {
        assert!(o.stdout.contains(&want), "{want:?} not in\n{}", o.stdout);
    }
    let mode = if std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        "2 (v2)"
    } else if std::path::Path::new("/sys/fs/cgroup/unified").exists() {
        "1 (hybrid)"
    } else {
        "1 (v1)"
    };
    assert!(
        o.stdout.contains(&format!(" Cgroup Version: {mode}\n")),
        "{}",
        o.stdout
    );
    assert_eq!(w.run(&["system", "info"]).ok().stdout, o.stdout);
    let f = w
        .run(&[
            "info",
            "--format",
            "{{.ContainersRunning}} {{.ContainersStopped}} {{.Images}} {{.NCPU}}",
        ])
        .ok();
    let cpus = std::thread::available_parallelism().unwrap().get();
    assert_eq!(f.stdout, format!("1 1 1 {cpus}\n"));
    let j: Value =
        serde_json::from_str(&w.run(&["info", "--format", "{{json .}}"]).ok().stdout).unwrap();
    assert_eq!(j["DockerRootDir"], root.to_str().unwrap());
    assert!(j["MemTotal"].as_u64().unwrap() > 0);
    assert_eq!(j["CgroupDriver"], "cgroupfs");
    assert!(j["RegistryConfig"]["IndexConfigs"].is_object());
    w.run(&["rm", "-f", "up", "done"]).ok();
}

#[test]
fn info_lists_insecure_registries() {
    let Some(w) = World::new() else {
        return;
    };
    let o = w
        .cmd(&[
            "info",
            "--format",
            "{{json .RegistryConfig.InsecureRegistries}}",
        ])
        .env("YURTA_INSECURE_REGISTRIES", "127.0.0.1:5000,localhost:5001")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("\"127.0.0.1:5000\"") && text.contains("\"localhost:5001\""),
        "{text}"
    );
}
