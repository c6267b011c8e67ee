//! `yurta events` and the journal behind it (issue 10): each operation's
//! event with Docker's fields, `--since`/`--until` windows, filters,
//! `--format`, following until the reader goes away, concurrent writers
//! (the supervisors of parallel runs), and a full disk that drops events
//! without failing anything.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::world::World;
use serde_json::Value;

/// Every event so far, as Docker's JSON.
fn all_events(w: &World) -> Vec<Value> {
    let o = w
        .run(&[
            "events",
            "--since",
            "0",
            "--until",
            "0s",
            "--format",
            "{{json .}}",
        ])
        .ok();
    o.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect()
}

/// (Type, Action) of the events about `id`, in order.
fn actions_of(events: &[Value], id: &str) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["Actor"]["ID"] == id || e["Actor"]["Attributes"]["container"] == id)
        .map(|e| {
            format!(
                "{} {}",
                e["Type"].as_str().unwrap(),
                e["Action"].as_str().unwrap()
            )
        })
        .collect()
}

fn find<'a>(events: &'a [Value], kind: &str, action: &str) -> &'a Value {
    events
        .iter()
        .find(|e| e["Type"] == kind && e["Action"] == action)
        .unwrap_or_else(|| panic!("no {kind} {action} in {events:#?}"))
}

#[test]
fn container_events_have_dockers_fields() {
    let Some(w) = World::new() else {
        return;
    };
    let o = w.run(&[
        "run", "--rm", "--name", "web", "-l", "tier=db", "img", "sh", "-c", "exit 3",
    ]);
    assert_eq!(o.code, 3, "{}", o.stderr);
    let events = all_events(&w);
    let create = find(&events, "container", "create");
    let id = create["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 64);
    assert_eq!(
        actions_of(&events, &id),
        [
            "container create",
            "network connect",
            "container start",
            "container die",
            "network disconnect",
            "container destroy"
        ]
    );
    let die = find(&events, "container", "die");
    assert_eq!(die["status"], "die");
    assert_eq!(die["id"], id.as_str());
    assert_eq!(die["from"], "img");
    assert_eq!(die["scope"], "local");
    assert_eq!(die["Actor"]["ID"], id.as_str());
    let attrs = &die["Actor"]["Attributes"];
    assert_eq!(attrs["exitCode"], "3");
    assert_eq!(attrs["name"], "web");
    assert_eq!(attrs["image"], "img");
    assert_eq!(attrs["tier"], "db", "labels are attributes");
    let (time, nano) = (
        die["time"].as_i64().unwrap(),
        die["timeNano"].as_i64().unwrap(),
    );
    assert_eq!(time, nano / 1_000_000_000);
    let connect = find(&events, "network", "connect");
    assert!(
        connect.get("status").is_none(),
        "no legacy fields for networks"
    );
    assert_eq!(connect["Actor"]["Attributes"]["name"], "bridge");
}

#[test]
fn lifecycle_image_network_and_volume_events() {
    let Some(w) = World::new() else {
        return;
    };
    w.run(&["run", "-d", "--name", "up", "img", "sleep", "1000"])
        .ok();
    w.run(&["exec", "up", "true"]).ok();
    w.run(&["pause", "up"]).ok();
    w.run(&["unpause", "up"]).ok();
    w.run(&["rename", "up", "up2"]).ok();
    w.run(&["stop", "-t", "0", "up2"]).ok();
    w.run(&["rm", "up2"]).ok();
    w.run(&["tag", "img", "img:two"]).ok();
    w.run(&["rmi", "img:two"]).ok();
    let tar = w.y.path("saved.tar");
    w.run(&["save", "-o", tar.to_str().unwrap(), "img"]).ok();
    w.run(&["load", "-i", tar.to_str().unwrap()]).ok();
    w.run(&["volume", "create", "vol1"]).ok();
    w.run(&["volume", "rm", "vol1"]).ok();
    let net = format!("evnet{}", w.tag);
    w.run(&["network", "create", &net]).ok();
    w.run(&["network", "rm", &net]).ok();
    let events = all_events(&w);
    let id = find(&events, "container", "create")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let seen = actions_of(&events, &id);
    for want in [
        "container start",
        "container exec_start: true",
        "container pause",
        "container unpause",
        "container rename",
        "container kill",
        "container die",
        "container stop",
        "container destroy",
    ] {
        assert!(seen.iter().any(|s| s == want), "{want} not in {seen:?}");
    }
    assert_eq!(
        find(&events, "container", "rename")["Actor"]["Attributes"]["oldName"],
        "up"
    );
    assert_eq!(
        find(&events, "container", "kill")["Actor"]["Attributes"]["signal"],
        "15"
    );
    assert_eq!(
        find(&events, "image", "tag")["Actor"]["Attributes"]["name"],
        "img:two"
    );
    assert_eq!(find(&events, "image", "untag")["Actor"]["ID"], "img:two");
    assert_eq!(find(&events, "image", "load")["Actor"]["ID"], "img:latest");
    assert_eq!(
        find(&events, "image", "load")["Actor"]["Attributes"]["name"],
        "img"
    );
    assert_eq!(find(&events, "volume", "create")["Actor"]["ID"], "vol1");
    assert_eq!(
        find(&events, "volume", "destroy")["Actor"]["Attributes"]["driver"],
        "local"
    );
    let created = find(&events, "network", "create");
    assert_eq!(created["Actor"]["Attributes"]["name"], net.as_str());
    assert_eq!(
        find(&events, "network", "destroy")["Actor"]["ID"],
        created["Actor"]["ID"]
    );
}

#[test]
fn oom_and_restarts_come_from_the_supervisor() {
    let Some(w) = World::new() else {
        return;
    };
    let hog = "x=a; while true; do x=$x$x$x$x; done";
    let args = [
        "run",
        "--name",
        "hog",
        "-m",
        "16m",
        "--memory-swap",
        "16m",
        "img",
        "sh",
        "-c",
        hog,
    ];
    assert_eq!(w.run(&args).code, 137);
    let rs = [
        "run",
        "-d",
        "--name",
        "rs",
        "--restart",
        "on-failure:2",
        "img",
        "sh",
        "-c",
        "exit 1",
    ];
    w.run(&rs).ok();
    assert_eq!(w.run(&["wait", "rs"]).ok().stdout.trim(), "1");
    let o = w
        .run(&[
            "events",
            "--since",
            "0",
            "--until",
            "0s",
            "-f",
            "container=hog",
        ])
        .ok();
    let actions: Vec<&str> = o
        .stdout
        .lines()
        .map(|l| l.split(' ').nth(2).unwrap())
        .collect();
    assert_eq!(actions, ["create", "start", "oom", "die"], "{}", o.stdout);
    assert!(o.stdout.contains("exitCode=137"), "{}", o.stdout);
    let o = w
        .run(&[
            "events",
            "--since",
            "0",
            "--until",
            "0s",
            "-f",
            "container=rs",
            "--format",
            "{{.Action}}",
        ])
        .ok();
    assert_eq!(o.stdout, "create\nstart\ndie\nstart\ndie\nstart\ndie\n");
}

#[test]
fn windows_filters_and_formats() {
    let Some(w) = World::new() else {
        return;
    };
    w.run(&["volume", "create", "early"]).ok();
    let journal = std::fs::read_to_string(w.y.root().join("events/events.log")).unwrap();
    let t: Value = serde_json::from_str(journal.lines().last().unwrap()).unwrap();
    let after = t["timeNano"].as_i64().unwrap() + 1;
    let mid = format!("{}.{:09}", after / 1_000_000_000, after % 1_000_000_000);
    w.run(&["volume", "create", "late"]).ok();
    w.run(&["run", "--rm", "--name", "c1", "-l", "app=x", "img", "true"])
        .ok();
    let text = "{{.Type}} {{.Action}} {{.Actor.ID}}";
    let window = |since: &str, args: &[&str]| {
        let mut all = vec![
            "events", "--since", since, "--until", "0s", "--format", text,
        ];
        all.extend_from_slice(args);
        w.run(&all).ok().stdout
    };
    let ev = |args: &[&str]| window("0", args);
    let volumes = |s: String| {
        s.lines()
            .filter(|l| l.starts_with("volume"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        volumes(ev(&[])),
        ["volume create early", "volume create late"]
    );
    assert_eq!(volumes(window(&mid, &[])), ["volume create late"]);
    let o = w
        .run(&[
            "events",
            "--since",
            "0",
            "--until",
            &mid,
            "-f",
            "type=volume",
            "--format",
            "{{.Actor.ID}}",
        ])
        .ok();
    assert_eq!(o.stdout, "early\n");
    let o = w
        .run(&[
            "events",
            "--since",
            "10m",
            "--until",
            "0s",
            "-f",
            "type=volume",
            "-f",
            "volume=la",
        ])
        .ok();
    assert_eq!(o.stdout.lines().count(), 1, "{}", o.stdout);
    assert!(
        o.stdout.ends_with(" volume create late (driver=local)\n"),
        "{}",
        o.stdout
    );
    let only = |f: &[&str]| {
        ev(f)
            .lines()
            .map(|l| l.split(' ').nth(1).unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(only(&["-f", "event=die"]), ["die"]);
    assert_eq!(
        only(&[
            "-f",
            "container=c1",
            "-f",
            "event=start",
            "-f",
            "event=destroy"
        ]),
        ["start", "destroy"]
    );
    assert_eq!(
        only(&["-f", "label=app=x", "-f", "type=container"]).len(),
        4
    );
    assert!(only(&["-f", "label=app=y"]).is_empty());
    assert_eq!(only(&["-f", "image=img", "-f", "event=create"]), ["create"]);
    assert_eq!(only(&["-f", "network=bridge"]), ["connect", "disconnect"]);
    let o = w.run(&["events", "--since", "0", "--until", "-1s"]);
    assert_eq!(o.code, 125, "a negative duration is no time");
    // A future --until: it follows until then, and ends by itself.
    let soon = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 2;
    let mut child = w
        .cmd(&["events", "--until", &soon.to_string()])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "events --until in the future never ended"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let bad = w.run(&["events", "-f", "colour=red"]);
    assert_eq!(bad.code, 125);
    assert!(bad.stderr.contains("\"colour\""), "{}", bad.stderr);
    let bad = w.run(&["events", "--since", "yesterday"]);
    assert!(
        bad.stderr.contains("--since \"yesterday\""),
        "{}",
        bad.stderr
    );
    let bad = w.run(&["events", "--format", "{{range .}}"]);
    assert_eq!(bad.code, 125, "{}", bad.stderr);
}

#[test]
fn follows_new_events_and_ends_when_the_reader_goes() {
    let Some(w) = World::new() else {
        return;
    };
    w.run(&["volume", "create", "before"]).ok();
    let mut child = w
        .cmd(&["events", "--since", "0", "--filter", "type=volume"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = lines.next().unwrap().unwrap();
    assert!(line.contains(" volume create before "), "{line}");
    // It follows: an event made after it read the journal shows up.
    w.run(&["volume", "create", "seen"]).ok();
    let line = lines.next().unwrap().unwrap();
    assert!(line.contains(" volume create seen "), "{line}");
    // Nobody reads any more: it notices and ends without an event to write.
    drop(lines);
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            panic!("events -f still runs after its reader left");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        status.code().is_some() || status.signal_is_pipe(),
        "{status:?}"
    );
}

trait PipeSignal {
    fn signal_is_pipe(&self) -> bool;
}

impl PipeSignal for std::process::ExitStatus {
    fn signal_is_pipe(&self) -> bool {
        use std::os::unix::process::ExitStatusExt;
        self.signal() == Some(libc::SIGPIPE)
    }
}

#[test]
fn twenty_parallel_runs_record_twenty_complete_die_lines() {
    let Some(w) = World::new() else {
        return;
    };
    std::thread::scope(|s| {
        for i in 0..20 {
            let w = &w;
            s.spawn(move || {
                let o = w.run(&[
                    "run",
                    "--rm",
                    "--network",
                    "none",
                    "img",
                    "sh",
                    "-c",
                    &format!("exit {i}"),
                ]);
                assert_eq!(o.code, i, "{}", o.stderr);
            });
        }
    });
    let journal = std::fs::read_to_string(w.y.root().join("events/events.log")).unwrap();
    for line in journal.lines() {
        serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("torn {line:?}: {e}"));
    }
    let events = all_events(&w);
    let mut codes: Vec<i64> = events
        .iter()
        .filter(|e| e["Action"] == "die")
        .map(|e| {
            e["Actor"]["Attributes"]["exitCode"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    codes.sort();
    assert_eq!(codes, (0..20).collect::<Vec<_>>());
    for action in ["create", "start", "destroy"] {
        assert_eq!(
            events.iter().filter(|e| e["Action"] == action).count(),
            20,
            "{action}"
        );
    }
}

#[test]
fn a_full_disk_drops_events_and_fails_nothing() {
    let Some(w) = World::on_tmpfs("24m") else {
        return;
    };
    w.run(&["volume", "create", "keep"]).ok();
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
    // A line torn by an earlier full disk, which the next line is glued to.
    let log = w.y.root().join("events/events.log");
    let mut text = std::fs::read(&log).unwrap();
    text.extend_from_slice(b"{\"timeNano\":1,\"Type\":\"vol");
    std::fs::write(&log, &text).unwrap();
    let filler = w.y.root().join("filler");
    let _ = std::process::Command::new("dd")
        .args(["if=/dev/zero", "bs=1M", &format!("of={}", filler.display())])
        .output();
    let _ = std::process::Command::new("dd")
        .args([
            "if=/dev/zero",
            "bs=1",
            &format!("of={}.2", filler.display()),
        ])
        .output();
    for args in [&["volume", "rm", "keep"][..], &["rm", "-f", "up"][..]] {
        let o = w.run(args);
        assert_eq!(o.code, 0, "{args:?}: {}", o.stderr);
        assert_eq!(o.stderr, "", "{args:?}");
    }
    std::fs::remove_file(&filler).unwrap();
    std::fs::remove_file(filler.with_extension("2")).unwrap();
    // Whatever the full disk did to the end of the journal, the next line
    // is glued to a torn one: it is still read.
    let mut text = std::fs::read(&log).unwrap();
    text.extend_from_slice(b"{\"timeNano\":1,\"Type\":\"vol");
    std::fs::write(&log, &text).unwrap();
    w.run(&["volume", "create", "after"]).ok();
    let events = all_events(&w);
    assert!(
        events.iter().any(|e| e["Actor"]["ID"] == "after"),
        "the event after the torn line: {events:#?}"
    );
    assert!(events.iter().all(|e| e["timeNano"] != 1));
}
