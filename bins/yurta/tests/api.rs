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
    let d = |args: &[&str]| {
        let o = s.client(bin, args);
        assert_eq!(
            o.code,
            0,
            "docker {args:?}: {}{}\n{}",
            o.stdout,
            o.stderr,
            s.stderr()
        );
        o.stdout
    };
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
