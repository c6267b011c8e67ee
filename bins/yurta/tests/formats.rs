//! `--format` end to end, as root (`common::world`): each command that
//! takes a format in Docker, with Docker's fields, headers and errors;
//! `ps -n/-l/-s`, `top CONTAINER [ps options]`, and `stats` streaming into
//! a pipe without terminal control codes. The header rows are those
//! Docker prints; the engine itself is checked against Go's in
//! crates/template/tests/go_differential.rs.

mod common;

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::world::{free_port, World};
use serde_json::Value;

/// The keys of a JSON object line, sorted.
fn keys(line: &str) -> Vec<String> {
    let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    v.as_object().unwrap().keys().cloned().collect()
}

fn sorted(names: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

/// Each row's cells start under their column's header, as a tabwriter
/// aligns them (checked for the given non-empty columns).
fn assert_aligned(table: &str, columns: &[&str]) {
    let mut lines = table.lines();
    let header: Vec<char> = lines.next().unwrap().chars().collect();
    let text: String = header.iter().collect();
    for col in columns {
        let start = text.find(col).unwrap_or_else(|| panic!("{col} in {text}"));
        let start = text[..start].chars().count();
        for row in lines.clone() {
            let row: Vec<char> = row.chars().collect();
            assert!(
                start == 0 || (row.get(start - 1) == Some(&' ') && row.get(start) != Some(&' ')),
                "{col} at {start}:\n{table}"
            );
        }
    }
}

fn fails_with(w: &World, args: &[&str], stderr: &str) {
    let o = w.run(args);
    assert_eq!(
        (o.code, o.stderr.as_str(), o.stdout.as_str()),
        (125, stderr, ""),
        "{args:?}"
    );
}

const PS_KEYS: [&str; 15] = [
    "Command",
    "CreatedAt",
    "ID",
    "Image",
    "Labels",
    "LocalVolumes",
    "Mounts",
    "Names",
    "Networks",
    "Platform",
    "Ports",
    "RunningFor",
    "Size",
    "State",
    "Status",
];

#[test]
fn ps_formats() {
    let Some(w) = World::new() else { return };
    let port = free_port().to_string();
    let publish = format!("{port}:80");
    w.run(&[
        "run",
        "-d",
        "--name",
        "web",
        "-l",
        "tier=db",
        "-l",
        "com.example.x=y",
        "-p",
        &publish,
        "img",
        "sleep",
        "1000",
    ])
    .ok();
    w.run(&["run", "--name", "old", "img", "sh", "-c", "exit 3"]);
    let ps = |args: &[&str]| {
        let mut a = vec!["ps"];
        a.extend_from_slice(args);
        w.run(&a).ok().stdout
    };
    assert_eq!(
        ps(&["--format", r#"{{.Names}} {{.State}} {{.Label "tier"}}"#]),
        "web running db\n"
    );
    let table = ps(&[
        "-a",
        "--format",
        r"table {{.Names}}\t{{.State}}\t{{.Status}}",
    ]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines[0], "NAMES     STATE     STATUS", "{table}");
    assert!(
        lines[1].starts_with("old       exited    Exited (3) "),
        "{table}"
    );
    assert!(lines[2].starts_with("web       running   Up "), "{table}");
    let default = ps(&[]);
    assert!(
        default.starts_with("CONTAINER ID   IMAGE     COMMAND        CREATED"),
        "{default}"
    );
    assert_aligned(
        &default,
        &["IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"],
    );

    let json = ps(&["--format", "json"]);
    assert_eq!(keys(json.trim()), sorted(&PS_KEYS));
    let v: Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(v["Command"], "\"sleep 1000\"");
    assert!(v["Platform"].as_str().unwrap().starts_with("linux/"), "{v}");
    let platform = ps(&["--format", "{{.Names}} {{.Platform}}"]);
    assert!(platform.starts_with("web linux/"), "{platform}");
    assert_eq!(v["Ports"], format!("0.0.0.0:{port}->80/tcp"));
    assert_eq!(
        (v["Labels"].as_str(), v["Networks"].as_str()),
        (Some("com.example.x=y,tier=db"), Some("bridge"))
    );
    assert_eq!(
        (v["Size"].as_str(), v["ID"].as_str().map(str::len)),
        (Some("0B"), Some(12))
    );
    assert_eq!(
        ps(&["-a", "--filter", "name=old", "--format", "{{.Command}}"]),
        "\"sh -c 'exit 3'\"\n"
    );

    // -n and -l: the last created, whatever their state.
    assert_eq!(ps(&["-n", "1", "--format", "{{.Names}}"]), "old\n");
    assert_eq!(ps(&["-l", "--format", "{{.Names}}"]), "old\n");
    assert_eq!(ps(&["--last", "5", "--format", "{{.Names}}"]), "old\nweb\n");
    let ids = ps(&["-q", "--format", "{{.Names}}"]);
    assert!(ids.lines().all(|l| l.len() == 12), "{ids}");

    // -s: the writable layer (200 kB written here) and the whole rootfs.
    w.run(&[
        "exec",
        "web",
        "busybox",
        "dd",
        "if=/dev/zero",
        "of=/big",
        "bs=1000",
        "count=200",
    ])
    .ok();
    let size = ps(&["-s", "--format", "{{.Names}} {{.Size}}"]);
    let (rw, virt) = size
        .trim()
        .trim_start_matches("web ")
        .split_once(" (virtual ")
        .unwrap();
    assert!(
        rw.starts_with("20") && rw.ends_with("kB") && virt.ends_with("MB)"),
        "{size}"
    );
    assert!(ps(&["-s"])
        .lines()
        .next()
        .unwrap()
        .ends_with("NAMES     SIZE"));

    fails_with(
        &w,
        &["ps", "--format", "{{.Nope}}"],
        "yurta: template: --format:1:2: executing \"--format\" at <.Nope>: map has no entry for key \"Nope\"\n",
    );
    fails_with(
        &w,
        &["ps", "--format", "{{.Names"],
        "yurta: template: --format:1:8: unclosed action\n",
    );
    fails_with(
        &w,
        &["ps", "--format", "{{lower .Names 1}}"],
        "yurta: template: --format:1:2: executing \"--format\" at <lower>: wrong number of args for lower: want 1 got 2\n",
    );
}

#[test]
fn inspect_formats() {
    let Some(w) = World::new() else { return };
    w.run(&["network", "create", "bar"]).ok();
    w.run(&[
        "run",
        "-d",
        "--name",
        "web",
        "--network",
        "bar",
        "-e",
        "A=1",
        "-l",
        "tier=db",
        "img",
        "sleep",
        "1000",
    ])
    .ok();
    let f = |t: &str, names: &[&str]| {
        let mut a = vec!["inspect", "--format", t];
        a.extend_from_slice(names);
        w.run(&a).ok().stdout
    };
    assert_eq!(
        f("{{.Name}} {{.State.Status}}", &["web", "web"]),
        "/web running\n/web running\n"
    );
    let state: Value = serde_json::from_str(&f("{{json .State}}", &["web"])).unwrap();
    assert_eq!(
        (state["Status"].as_str(), state["Running"].as_bool()),
        (Some("running"), Some(true))
    );
    assert!(state["Pid"].as_i64().unwrap() > 0);
    assert_eq!(
        f("{{.Config.Cmd}} {{join .Config.Cmd \",\"}}", &["web"]),
        "[sleep 1000] sleep,1000\n"
    );
    assert!(f("{{range .Config.Env}}{{.}};{{end}}", &["web"]).contains("A=1;"));
    let ip = f(
        r#"{{(index .NetworkSettings.Networks "bar").IPAddress}}"#,
        &["web"],
    );
    assert!(ip.trim().parse::<std::net::Ipv4Addr>().is_ok(), "{ip}");
    assert_eq!(
        f(
            r#"{{with index .NetworkSettings.Networks "bar"}}{{.IPAddress}}{{end}}"#,
            &["web"]
        ),
        ip
    );
    assert_eq!(
        f(
            r#"{{if .State.Running}}up{{else}}down{{end}} {{lower .State.Status | upper}} {{index .Config.Labels "tier"}} [{{index .Config.Labels "nope"}}] {{.RestartCount}}"#,
            &["web"]
        ),
        "up RUNNING db [] 0\n"
    );
    let c = w
        .run(&["container", "inspect", "-f", "{{.Id}}", "web"])
        .ok()
        .stdout;
    assert_eq!(c.trim().len(), 64);
    let image = w
        .run(&["image", "inspect", "-f", "{{.Os}} {{.Config.Cmd}}", "img"])
        .ok()
        .stdout;
    assert_eq!(image, "linux [sh]\n");
    assert!(f("{{.Id}}", &["img"]).starts_with("sha256:"));
    // Docker's layouts: 4-space indentation by default, `json` compact.
    assert!(w
        .run(&["inspect", "web"])
        .ok()
        .stdout
        .starts_with("[\n    {\n        \""));
    let compact = w.run(&["inspect", "--format", "json", "web"]).ok().stdout;
    assert!(
        compact.starts_with("[{\"") && compact.lines().count() == 1,
        "{compact}"
    );
    let net = w
        .run(&[
            "network",
            "inspect",
            "-f",
            "{{.Name}} {{.Driver}} {{len .Containers}}",
            "bar",
        ])
        .ok()
        .stdout;
    assert_eq!(net, "bar bridge 1\n");
    w.run(&["volume", "create", "--label", "k=v", "vol1"]).ok();
    let vol = w
        .run(&[
            "volume",
            "inspect",
            "-f",
            "{{.Name}} {{.Labels.k}} {{.Driver}}",
            "vol1",
        ])
        .ok()
        .stdout;
    assert_eq!(vol, "vol1 v local\n");
    fails_with(
        &w,
        &["inspect", "-f", "{{.State.Nope}}", "web"],
        "yurta: template: --format:1:8: executing \"--format\" at <.State.Nope>: map has no entry for key \"Nope\"\n",
    );
    w.run(&["volume", "rm", "vol1"]).ok();
}

#[test]
fn images_history_networks_volumes_df_and_vms() {
    let Some(w) = World::new() else { return };
    let out = |args: &[&str]| w.run(args).ok().stdout;
    assert_eq!(
        out(&["images", "--format", "{{.Repository}}:{{.Tag}}"]),
        "img:latest\n"
    );
    assert!(out(&["images"]).starts_with("REPOSITORY   TAG       IMAGE ID       CREATED"));
    let image_keys = [
        "Containers",
        "CreatedAt",
        "CreatedSince",
        "Digest",
        "ID",
        "Repository",
        "SharedSize",
        "Size",
        "Tag",
        "UniqueSize",
        "VirtualSize",
    ];
    assert_eq!(
        keys(out(&["images", "--format", "json"]).trim()),
        sorted(&image_keys)
    );
    assert!(out(&["images", "--digests"]).starts_with("REPOSITORY   TAG       DIGEST    IMAGE ID"));
    let custom = out(&[
        "images",
        "--digests",
        "--format",
        r"table {{.Repository}}\t{{.Tag}}",
    ]);
    assert_eq!(custom.lines().next(), Some("REPOSITORY   TAG       DIGEST"));

    // `.Label "key"` of an image (its configuration's labels).
    let tar = w.y.path("rootfs.tar");
    let change = "LABEL com.example.tier=base";
    w.run(&["import", "-c", change, tar.to_str().unwrap(), "lab:1"])
        .ok();
    let labels = out(&[
        "images",
        "--format",
        r#"{{.Repository}}={{.Label "com.example.tier"}}"#,
    ]);
    // Both made within a second: their order is not the point.
    let mut labels: Vec<&str> = labels.lines().collect();
    labels.sort();
    assert_eq!(labels, ["img=", "lab=base"]);
    w.run(&["rmi", "lab:1"]).ok();

    let history = out(&["history", "--format", "{{.CreatedBy}}|{{.ID}}", "img"]);
    assert_eq!(history.split('|').next(), Some("yurta import"));
    let history_keys = [
        "Comment",
        "CreatedAt",
        "CreatedBy",
        "CreatedSince",
        "ID",
        "Size",
    ];
    assert_eq!(
        keys(out(&["history", "--format", "json", "img"]).trim()),
        sorted(&history_keys)
    );
    let raw = out(&[
        "history",
        "-H=false",
        "--format",
        "{{.CreatedAt}} {{.Size}}",
        "img",
    ]);
    let (at, size) = raw.trim().split_once(' ').unwrap();
    assert!(
        at.ends_with('Z') && at.contains('T') && size.parse::<u64>().is_ok(),
        "{raw}"
    );
    let table = out(&["history", "img"]);
    assert!(table.starts_with("IMAGE          CREATED "), "{table}");
    assert_aligned(&table, &["CREATED", "CREATED BY", "SIZE", "COMMENT"]);

    w.run(&["network", "create", "--label", "a=b", "bar"]).ok();
    let nets = out(&[
        "network",
        "ls",
        "--format",
        r#"{{.Name}} {{.Label "a"}} {{.Driver}}"#,
    ]);
    assert!(nets.lines().any(|l| l == "bar b bridge"), "{nets}");
    assert!(out(&["network", "ls"]).starts_with("NETWORK ID     NAME      DRIVER    SCOPE\n"));
    let net_keys = [
        "CreatedAt",
        "Driver",
        "ID",
        "IPv4",
        "IPv6",
        "Internal",
        "Labels",
        "Name",
        "Scope",
    ];
    let json = out(&["network", "ls", "--format", "json"]);
    assert_eq!(keys(json.lines().next().unwrap()), sorted(&net_keys));

    w.run(&["volume", "create", "--label", "k=v", "vol1"]).ok();
    assert_eq!(
        out(&[
            "volume",
            "ls",
            "--format",
            r#"{{.Name}} {{.Label "k"}} {{.Driver}}"#
        ]),
        "vol1 v local\n"
    );
    assert_eq!(
        out(&["volume", "ls"]),
        "DRIVER    VOLUME NAME\nlocal     vol1\n"
    );

    let df = out(&["system", "df", "--format", "{{.Type}} {{.TotalCount}}"]);
    let types: Vec<&str> = df.lines().map(|l| l.rsplit_once(' ').unwrap().0).collect();
    assert_eq!(
        types,
        [
            "Images",
            "Layers",
            "Containers",
            "Local Volumes",
            "Build Cache"
        ],
        "{df}"
    );
    assert!(df.starts_with("Images 1\n"), "{df}");
    assert!(out(&["system", "df"])
        .starts_with("TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE\n"));
    let df = out(&["system", "df", "--format", "json"]);
    assert_eq!(
        keys(df.lines().next().unwrap()),
        sorted(&["Active", "Reclaimable", "Size", "TotalCount", "Type"])
    );

    let kernel = w.y.path("vmlinuz");
    std::fs::write(&kernel, b"not booted").unwrap();
    w.run(&[
        "vm",
        "create",
        "--network",
        "none",
        "--memory",
        "64M",
        "--kernel",
        kernel.to_str().unwrap(),
        "vm1",
    ])
    .ok();
    assert_eq!(
        out(&["vm", "ls", "--format", "{{.Name}} {{.Status}} {{.Memory}}"]),
        "vm1 created 64M\n"
    );
    assert!(out(&["vm", "ls"]).starts_with("NAME      STATUS    ARCH      CPUS"));
    let vm_keys = [
        "Accel",
        "Addresses",
        "Arch",
        "Cpus",
        "ID",
        "Memory",
        "Name",
        "Status",
    ];
    assert_eq!(
        keys(out(&["vm", "ls", "--format", "json"]).trim()),
        sorted(&vm_keys)
    );
    let vm = out(&[
        "vm",
        "inspect",
        "-f",
        "{{.Name}} {{.State.Status}} {{.Config.Memory}}",
        "vm1",
    ]);
    assert_eq!(vm, "vm1 created 67108864\n");
    w.run(&["vm", "rm", "vm1"]).ok();
    w.run(&["volume", "rm", "vol1"]).ok();
}

#[test]
fn stats_formats_and_streams_into_a_pipe_without_control_codes() {
    let Some(w) = World::new() else { return };
    w.run(&["run", "-d", "--name", "st", "img", "sleep", "1000"])
        .ok();
    let once = |f: &str| {
        w.run(&["stats", "--no-stream", "--format", f, "st"])
            .ok()
            .stdout
    };
    assert_eq!(once("{{.Name}} {{.PIDs}} {{.Container}}"), "st 1 st\n");
    let json = once("json");
    let stats_keys = [
        "BlockIO",
        "CPUPerc",
        "Container",
        "ID",
        "MemPerc",
        "MemUsage",
        "Name",
        "NetIO",
        "PIDs",
    ];
    assert_eq!(keys(json.trim()), sorted(&stats_keys));
    let v: Value = serde_json::from_str(json.trim()).unwrap();
    assert!(
        v["CPUPerc"].as_str().unwrap().ends_with('%')
            && v["MemUsage"].as_str().unwrap().contains("iB / ")
    );
    let table = w.run(&["stats", "--no-stream", "st"]).ok().stdout;
    assert!(
        table.starts_with("CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT"),
        "{table}"
    );
    assert_aligned(
        &table,
        &[
            "NAME",
            "CPU %",
            "MEM USAGE",
            "MEM %",
            "NET I/O",
            "BLOCK I/O",
            "PIDS",
        ],
    );

    // Streaming into a pipe: samples one after another, no escape codes.
    let mut child = w
        .cmd(&["stats", "st"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
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
    let mut text = Vec::new();
    let start = Instant::now();
    while String::from_utf8_lossy(&text)
        .matches("CONTAINER ID")
        .count()
        < 2
    {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{}",
            String::from_utf8_lossy(&text)
        );
        if let Ok(chunk) = rx.recv_timeout(Duration::from_millis(200)) {
            text.extend(chunk);
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let text = String::from_utf8_lossy(&text);
    assert!(!text.contains('\x1b'), "{text:?}");
    assert!(text.starts_with("CONTAINER ID   NAME"), "{text}");
}

#[test]
fn top_takes_ps_options() {
    let Some(w) = World::new() else { return };
    w.run(&["run", "-d", "--name", "tp", "img", "sleep", "1000"])
        .ok();
    let top = |opts: &[&str]| {
        let mut a = vec!["top", "tp"];
        a.extend_from_slice(opts);
        w.run(&a).ok().stdout
    };
    let ef = top(&[]);
    let lines: Vec<&str> = ef.lines().collect();
    let titles: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        titles,
        ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"],
        "{ef}"
    );
    assert!(lines[0].starts_with("UID                 PID"), "{ef}");
    assert_eq!(lines.len(), 2, "only the container's process: {ef}");
    assert!(lines[1].ends_with("sleep 1000"), "{ef}");
    assert_eq!(
        top(&["-o", "pid,comm"]).lines().collect::<Vec<_>>()[0],
        "PID                 COMMAND"
    );
    assert!(top(&["-o", "pid,comm"])
        .lines()
        .nth(1)
        .unwrap()
        .ends_with("sleep"));
    let aux = top(&["aux"]);
    assert!(
        aux.starts_with("USER") && aux.contains("%CPU") && aux.lines().count() == 2,
        "{aux}"
    );
    fails_with(
        &w,
        &["top", "tp", "-o", "user=PID"],
        "yurta: specifying \"user=PID\" is not allowed\n",
    );
}
