//! `yurta system service` driven by the real docker clients (issue 11):
//! the docker CLI 28 and, when installed, Debian's docker.io 20.10 client,
//! over a private unix socket and a World's root, side by side with the
//! yurta CLI on the same root.

mod api_common;
mod common;

use api_common::{docker_20, Service, DOCKER};
use common::world::World;

/// The scenario every client runs; `sfx` keeps names apart.
fn drive(w: &World, s: &Service, bin: &str, sfx: &str) {
    let d = |args: &[&str]| s.client_ok(bin, args);
    let v = d(&["version"]);
    assert!(v.contains("Server: yurta Engine"), "{v}");
    assert!(v.contains("1.41"), "{v}");
    assert_eq!(
        d(&["info", "--format", "{{.Images}} {{.OSType}}"]).trim(),
        "1 linux"
    );
    system(w, &d);
    images(w, s, bin, &d, sfx);
    volumes(w, &d, sfx);
    networks(w, &d, sfx);
}

fn system(w: &World, d: &dyn Fn(&[&str]) -> String) {
    let df = d(&["system", "df"]);
    assert!(
        df.contains("Images") && df.contains("Local Volumes"),
        "{df}"
    );
    let info = d(&["info", "--format", "{{json .}}"]);
    let v: serde_json::Value = serde_json::from_str(&info).unwrap();
    assert_eq!(v["DockerRootDir"], w.y.root().display().to_string());
}

fn images(w: &World, s: &Service, bin: &str, d: &dyn Fn(&[&str]) -> String, sfx: &str) {
    let list = d(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert!(list.lines().any(|l| l == "img:latest"), "{list}");
    let id = d(&["image", "inspect", "--format", "{{.Id}}", "img"]);
    assert_eq!(
        id,
        w.run(&["image", "inspect", "-f", "{{.Id}}", "img"])
            .ok()
            .stdout
    );
    let tag = format!("api{sfx}/img:v1");
    d(&["tag", "img", &tag]);
    assert!(w
        .run(&["images"])
        .ok()
        .stdout
        .contains(&format!("api{sfx}/img")));
    assert!(d(&["history", "img"]).contains("IMAGE"));
    assert!(d(&["rmi", &tag]).contains(&format!("Untagged: {tag}")));
    let missing = s.client(bin, &["image", "inspect", "nosuch"]);
    assert_eq!(missing.code, 1);
    assert!(
        missing.stderr.to_lowercase().contains("no such image"),
        "{}",
        missing.stderr
    );
    // save | load, through the API both ways.
    let file = w.y.path(&format!("img{sfx}.tar"));
    d(&["save", "-o", file.to_str().unwrap(), "img"]);
    d(&["rmi", "img"]);
    assert!(!w.run(&["images"]).ok().stdout.contains("img "));
    assert!(d(&["load", "-i", file.to_str().unwrap()]).contains("Loaded image: img:latest"));
    assert_eq!(d(&["image", "inspect", "--format", "{{.Id}}", "img"]), id);
    // A container made by the CLI keeps its image from the API's rmi.
    let user = format!("user{sfx}");
    w.run(&["create", "--name", &user, "img"]).ok();
    let o = s.client(bin, &["rmi", "img"]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains(&format!("({user}) is using it")),
        "{}",
        o.stderr
    );
    w.run(&["rm", &user]).ok();
}

fn volumes(w: &World, d: &dyn Fn(&[&str]) -> String, sfx: &str) {
    let vol = format!("vol{sfx}");
    assert_eq!(d(&["volume", "create", "--label", "k=v", &vol]).trim(), vol);
    assert_eq!(
        d(&["volume", "ls", "-q", "--filter", "label=k=v"]).trim(),
        vol
    );
    assert!(w.run(&["volume", "ls", "-q"]).ok().stdout.contains(&vol));
    assert_eq!(
        d(&["volume", "inspect", "--format", "{{.Labels.k}}", &vol]).trim(),
        "v"
    );
    d(&["volume", "rm", &vol]);
    // Made by the CLI, pruned through the API (API 1.41: named ones too).
    let cli = format!("cli{sfx}");
    w.run(&["volume", "create", &cli]).ok();
    assert!(d(&["volume", "prune", "-f"]).contains(&cli));
    assert!(!w.run(&["volume", "ls", "-q"]).ok().stdout.contains(&cli));
}

fn networks(w: &World, d: &dyn Fn(&[&str]) -> String, sfx: &str) {
    let net = format!("net{sfx}");
    let id = d(&["network", "create", "--label", "a=b", &net]);
    assert_eq!(
        d(&["network", "ls", "-q", "--no-trunc", "--filter", "label=a=b"]),
        id
    );
    assert!(w.run(&["network", "ls"]).ok().stdout.contains(&net));
    // The CLI filters with the same library filters.
    let cli = w.run(&["network", "ls", "-q", "--no-trunc", "--filter", "label=a=b"]);
    assert_eq!(cli.ok().stdout, id);
    let bad = w.run(&["network", "ls", "--filter", "colour=red"]);
    assert_eq!(
        (bad.code, bad.stderr.trim()),
        (125, "yurta: invalid filter 'colour'")
    );
    assert_eq!(
        d(&["network", "inspect", "--format", "{{.Name}}", &net]).trim(),
        net
    );
    d(&["network", "rm", &net]);
    w.run(&["network", "create", &net]).ok();
    assert!(d(&["network", "prune", "-f"]).contains(&net));
    assert!(!w.run(&["network", "ls"]).ok().stdout.contains(&net));
}

/// The events the scenario caused, read back with --since/--until.
fn events(s: &Service, bin: &str, sfx: &str) {
    let until = (yurta_events::now_nanos() / 1_000_000_000 + 1).to_string();
    let o = s.client(bin, &["events", "--since", "0", "--until", &until]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    for want in [
        format!("volume create vol{sfx}"),
        format!("volume destroy cli{sfx}"),
        "image tag".to_string(),
        "image load".to_string(),
    ] {
        assert!(o.stdout.contains(&want), "{want:?} not in\n{}", o.stdout);
    }
    let o = s.client(
        bin,
        &[
            "events",
            "--since",
            "0",
            "--until",
            &until,
            "--filter",
            "type=network",
        ],
    );
    assert!(o.stdout.contains("network create"), "{}", o.stdout);
    assert!(!o.stdout.contains("volume "), "{}", o.stdout);
}

#[test]
fn docker_cli_28_drives_the_service() {
    let Some(w) = World::new() else { return };
    let s = Service::start(&w, &[]);
    drive(&w, &s, DOCKER, "28");
    events(&s, DOCKER, "28");
    let v = s.docker(&[
        "version",
        "--format",
        "{{.Client.APIVersion}} {{.Server.APIVersion}}",
    ]);
    assert_eq!(v.stdout.trim(), "1.41 1.41", "{}", v.stderr);
}

#[test]
fn debian_docker_20_10_drives_the_service() {
    let Some(bin) = docker_20() else {
        eprintln!("skipped: Debian's docker.io client is not installed");
        return;
    };
    let Some(w) = World::new() else { return };
    let s = Service::start(&w, &[]);
    let bin = bin.to_str().unwrap();
    drive(&w, &s, bin, "20");
    events(&s, bin, "20");
}

/// `docker events` follows: an event the yurta CLI records reaches a
/// client that was already listening through the service.
#[test]
fn events_follow_what_the_cli_does() {
    use std::io::BufRead;
    let Some(w) = World::new() else { return };
    let s = Service::start(&w, &[]);
    let mut child = s
        .command(DOCKER)
        .args([
            "events",
            "--filter",
            "type=volume",
            "--format",
            "{{.Action}} {{.Actor.ID}}",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    // The client is connected once the service counts its stream: create
    // volumes until one shows up (events before the client connected are
    // not shown, as Docker).
    let mut seen = Vec::new();
    api_common::poll("a followed event", || {
        let name = format!("follow{}", seen.len());
        w.run(&["volume", "create", &name]).ok();
        let got: Vec<String> = rx.try_iter().collect();
        seen.push(name);
        got.iter().any(|l| l.starts_with("create follow"))
    });
    child.kill().unwrap();
    child.wait().unwrap();
}

/// `docker system df` and `docker ps -s` through the service, and `yurta
/// system df` on the same root: an image a container uses is not
/// reclaimable, a container's written bytes and a volume's count, an
/// unused volume is reclaimable; the image counts its layers once.
#[test]
fn disk_usage_counts_containers_volumes_and_shared_layers() {
    let Some(w) = World::new() else { return };
    let s = Service::start(&w, &[]);
    let d = |args: &[&str]| s.docker_ok(args);
    d(&["volume", "create", "dfvol"]);
    let fill = "head -c 100000 /dev/zero > /data/f";
    d(&["run", "--rm", "-v", "dfvol:/data", "img", "sh", "-c", fill]);
    d(&[
        "run",
        "-d",
        "--name",
        "dfct",
        "img",
        "sh",
        "-c",
        "head -c 50000 /dev/zero > /w; sleep 600",
    ]);
    api_common::poll("the container's write", || {
        d(&["exec", "dfct", "sh", "-c", "test -f /w && wc -c < /w"]).trim() == "50000"
    });
    let rows = |text: &str| -> Vec<Vec<String>> {
        text.lines()
            .skip(1)
            .map(|l| {
                l.split("   ")
                    .map(|c| c.trim().to_string())
                    .filter(|c| !c.is_empty())
                    .collect()
            })
            .collect()
    };
    let df = d(&["system", "df"]);
    let by_type = |kind: &str| -> Vec<String> {
        rows(&df)
            .into_iter()
            .find(|r| r[0] == kind)
            .unwrap_or_else(|| panic!("{kind}: {df}"))
    };
    assert_eq!(by_type("Images")[1..3], ["1", "1"], "{df}");
    assert_eq!(by_type("Images")[4], "0B (0%)", "{df}");
    assert_eq!(by_type("Containers")[1..4], ["1", "1", "50kB"], "{df}");
    assert_eq!(
        by_type("Local Volumes")[1..],
        ["1", "0", "100kB", "100kB (100%)"],
        "{df}"
    );
    let sizes = d(&["ps", "-s", "--format", "{{.Names}} {{.Size}}"]);
    assert!(sizes.starts_with("dfct 50kB (virtual "), "{sizes}");
    // The same figures from the CLI, which adds the unpacked layers' row.
    let mine = w
        .run(&[
            "system",
            "df",
            "--format",
            "{{.Type}}: {{.TotalCount}} {{.Size}}",
        ])
        .ok();
    assert!(
        mine.stdout.contains("Containers: 1 50kB\n"),
        "{}",
        mine.stdout
    );
    assert!(
        mine.stdout.contains("Local Volumes: 1 100kB\n"),
        "{}",
        mine.stdout
    );
    let verbose = w.run(&["system", "df", "-v"]).ok().stdout;
    assert!(verbose.contains("Containers space usage:"), "{verbose}");
    assert!(
        verbose
            .lines()
            .any(|l| l.starts_with("dfvol ") && l.contains(" 0 ")),
        "{verbose}"
    );
    // A second image on the same base shares its layer.
    d(&["commit", "dfct", "dfimg:1"]);
    let (code, body) = s.raw("GET", "/system/df", b"");
    assert_eq!(code, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let images = v["Images"].as_array().unwrap();
    assert_eq!(images.len(), 2, "{body}");
    let base = images
        .iter()
        .find(|i| i["RepoTags"][0] == "img:latest")
        .unwrap();
    let derived = images
        .iter()
        .find(|i| i["RepoTags"][0] == "dfimg:1")
        .unwrap();
    assert!(base["SharedSize"].as_i64().unwrap() > 0, "{body}");
    assert_eq!(base["SharedSize"], derived["SharedSize"], "{body}");
    let layers = v["LayersSize"].as_i64().unwrap();
    let sum = base["Size"].as_i64().unwrap() + derived["Size"].as_i64().unwrap();
    assert_eq!(layers, sum - base["SharedSize"].as_i64().unwrap(), "{body}");
    d(&["rm", "-f", "dfct"]);
}

/// `docker commit` through the service (`POST /commit`): the change,
/// message, author and instructions land in the image, which runs; the
/// container is left running; bad input is Docker's status and leaves
/// no image.
#[test]
fn docker_commit_through_the_service() {
    let Some(w) = World::new() else { return };
    let s = Service::start(&w, &[]);
    let d = |args: &[&str]| s.docker_ok(args);
    d(&[
        "run",
        "-d",
        "--name",
        "cm",
        "img",
        "sh",
        "-c",
        "echo made > /made; sleep 600",
    ]);
    api_common::poll("the file", || {
        s.docker(&["exec", "cm", "cat", "/made"]).stdout == "made\n"
    });
    let id = d(&[
        "commit",
        "-m",
        "by the API",
        "-a",
        "Jo <jo@example.org>",
        "-c",
        "ENV MADE=1",
        "-c",
        "CMD [\"cat\", \"/made\"]",
        "cm",
        "committed:1",
    ]);
    assert!(id.trim().starts_with("sha256:"), "{id}");
    assert_eq!(d(&["run", "--rm", "committed:1"]), "made\n");
    let env = d(&[
        "image",
        "inspect",
        "-f",
        "{{.Author}}|{{.Comment}}|{{json .Config.Env}}",
        "committed:1",
    ]);
    assert!(env.starts_with("Jo <jo@example.org>|by the API|"), "{env}");
    assert!(env.contains("MADE=1"), "{env}");
    let state = d(&["inspect", "-f", "{{.State.Status}}", "cm"]);
    assert_eq!(state.trim(), "running");
    let images = || w.run(&["images", "-q"]).ok().stdout;
    let before = images();
    let missing = s.docker(&["commit", "nosuch", "x:1"]);
    assert_eq!(missing.code, 1);
    assert!(missing.stderr.contains("nosuch"), "{}", missing.stderr);
    let (code, body) = s.raw("POST", "/commit?container=nosuch", b"");
    assert_eq!(code, 404, "{body}");
    let (code, body) = s.raw("POST", "/commit", b"");
    assert_eq!(code, 400, "{body}");
    let (code, body) = s.raw("POST", "/commit?container=cm&changes=RUN%20true", b"");
    assert_eq!(code, 400, "{body}");
    let (code, body) = s.raw("POST", "/commit?container=cm&repo=Bad..Name", b"");
    assert_eq!(code, 400, "{body}");
    assert_eq!(images(), before);
    assert_eq!(
        d(&["inspect", "-f", "{{.State.Status}}", "cm"]).trim(),
        "running"
    );
    d(&["rm", "-f", "cm"]);
}

/// `docker run --tmpfs` and `--pid host` through the service
/// (`HostConfig.Tmpfs`, `PidMode`).
#[test]
fn docker_run_tmpfs_through_the_service() {
    let Some(w) = World::new() else { return };
    let s = Service::start(&w, &[]);
    let out = s.docker_ok(&[
        "run",
        "--rm",
        "--tmpfs",
        "/cache:size=2m",
        "img",
        "sh",
        "-c",
        "grep ' /cache ' /proc/mounts",
    ]);
    assert!(
        out.starts_with("tmpfs /cache tmpfs rw,nosuid,nodev,noexec,") && out.contains("size=2048k"),
        "{out}"
    );
    // --pid host: the host's PID namespace.
    let pidns = s.docker_ok(&[
        "run",
        "--rm",
        "--pid",
        "host",
        "img",
        "sh",
        "-c",
        "stat -L -c %i /proc/self/ns/pid",
    ]);
    let host =
        std::os::unix::fs::MetadataExt::ino(&std::fs::metadata("/proc/self/ns/pid").unwrap());
    assert_eq!(pidns.trim(), host.to_string());
    // --dns-search, --dns-option, --group-add (HostConfig's DnsSearch,
    // DnsOptions, GroupAdd).
    let out = s.docker_ok(&[
        "run",
        "--rm",
        "--dns-search",
        "corp.test",
        "--dns-option",
        "ndots:3",
        "--group-add",
        "4242",
        "img",
        "sh",
        "-c",
        "grep -E '^(search|options)' /etc/resolv.conf; id -G",
    ]);
    assert_eq!(out, "search corp.test\noptions ndots:3\n0 4242\n");
    // OomScoreAdj, CpuQuota/CpuPeriod, MemoryReservation arrive.
    let out = s.docker_ok(&[
        "run",
        "--rm",
        "--oom-score-adj",
        "200",
        "--cpu-quota",
        "40000",
        "--memory-reservation",
        "16m",
        "img",
        "cat",
        "/proc/self/oom_score_adj",
    ]);
    assert_eq!(out, "200\n");
    let bad = s.docker(&["run", "--rm", "--tmpfs", "/x:exec", "img", "true"]);
    assert_eq!(bad.code, 125, "{}", bad.stderr);
    assert!(
        bad.stderr.contains("option \"exec\" is not supported"),
        "{}",
        bad.stderr
    );
}
