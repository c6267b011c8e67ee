//! `diff` and `commit` end to end, as root (`common::world`: own root,
//! nothing left behind): Docker's diff lines, a committed image that runs
//! with the change (and without the volume's contents), podman loading it
//! from `save`, the pause during a commit, and kill -9 at every step of a
//! commit leaving no half image and a whole container.

mod common;

#[path = "common/store_check.rs"]
mod store_check;

use std::collections::BTreeSet;
use std::time::Duration;

use common::fingerprint::{Fingerprint, Scope};
use common::podman::{skipped, PodmanImage};
use common::world::World;
use common::{sh, Yurta};
use store_check::{assert_consistent, assert_killed, hits, prune_all, specs};

fn poll(f: impl FnMut() -> bool) -> bool {
    yurta_testutil::process::poll_until(Duration::from_secs(20), Duration::from_millis(20), f)
}

/// A stopped container `name` that added, changed and deleted files and
/// wrote into its volume `<name>vol`.
fn changed(w: &World, name: &str) {
    let vol = format!("{name}vol:/data");
    w.run(&[
        "run",
        "--name",
        name,
        "--network",
        "none",
        "-v",
        &vol,
        "img",
        "sh",
        "-c",
        "echo hello > /hello; echo changed > /etc/motd; rm /bin/ls; echo in-volume > /data/v",
    ])
    .ok();
}

#[test]
fn diff_lists_the_changes_as_docker_does() {
    let Some(w) = World::new() else { return };
    changed(&w, "ch");
    let o = w.run(&["diff", "ch"]).ok();
    // The volume's mount point is a change (Docker's too), its contents
    // are not; the runtime's mount points (/proc, /etc/hosts...) are not.
    assert_eq!(
        o.stdout, "C /bin\nD /bin/ls\nA /data\nC /etc/motd\nA /hello\n",
        "{}",
        o.stdout
    );
    assert_eq!(w.run(&["container", "diff", "ch"]).ok().stdout, o.stdout);
    // A container never started has no changes.
    w.run(&["create", "--name", "fresh", "img", "true"]).ok();
    assert_eq!(w.run(&["diff", "fresh"]).ok().stdout, "");
    let o = w.run(&["diff", "nosuch"]);
    assert_eq!(o.code, 125);
    assert!(o.stderr.contains("nosuch"), "{}", o.stderr);
    w.run(&["rm", "-v", "ch", "fresh"]).ok();
    w.run(&["volume", "rm", "chvol"]).ok();
}

#[test]
fn a_committed_image_runs_with_the_changes() {
    let Some(w) = World::new() else { return };
    changed(&w, "cm");
    let o = w
        .run(&[
            "commit",
            "-a",
            "Jo Doe <jo@example.org>",
            "-m",
            "hello added",
            "-c",
            "ENV GREETING=hi",
            "-c",
            r#"CMD ["cat", "/hello"]"#,
            "cm",
            "committed:1",
        ])
        .ok();
    let id = o.stdout.trim().to_string();
    assert!(id.starts_with("sha256:") && id.len() == 71, "{id}");
    assert_eq!(w.inspect("committed:1", ".Id"), id);
    assert_eq!(
        w.inspect("committed:1", ".Author"),
        "Jo Doe <jo@example.org>"
    );
    let o = w
        .run(&["run", "--rm", "--network", "none", "committed:1"])
        .ok();
    assert_eq!(o.stdout, "hello\n");
    let o = w
        .run(&[
            "run",
            "--rm",
            "--network",
            "none",
            "committed:1",
            "sh",
            "-c",
            "cat /etc/motd; echo $GREETING; ls /data; test -e /bin/ls || echo no-ls",
        ])
        .ok();
    // The volume's mount point is there, empty: its contents are not committed.
    assert_eq!(o.stdout, "changed\nhi\nno-ls\n");
    let history = w.run(&["history", "committed:1"]).ok().stdout;
    assert!(history.contains("hello added"), "{history}");
    // Without a name: a dangling image; with no change: no new layer.
    w.run(&["create", "--name", "same", "img", "true"]).ok();
    let o = w.run(&["commit", "same"]).ok();
    let layers = |image: &str| {
        let v: serde_json::Value =
            serde_json::from_str(&w.run(&["image", "inspect", image]).ok().stdout).unwrap();
        v[0]["RootFS"]["Layers"].as_array().unwrap().len()
    };
    assert_eq!(layers(o.stdout.trim()), layers("img"));
    // Bad input: one line naming the value, no image made.
    let before = w.run(&["images", "-q"]).ok().stdout;
    for (args, value) in [
        (&["commit", "-c", "RUN make", "cm"][..], "RUN make"),
        (&["commit", "cm", "Bad:Name:x"][..], "Bad:Name:x"),
        (&["commit", "nosuch"][..], "nosuch"),
    ] {
        let o = w.run(args);
        assert_eq!(o.code, 125, "{args:?}");
        assert_eq!(o.stderr.lines().count(), 1, "{}", o.stderr);
        assert!(o.stderr.contains(value), "{}", o.stderr);
    }
    assert_eq!(w.run(&["images", "-q"]).ok().stdout, before);
    w.run(&["rm", "-v", "cm", "same"]).ok();
    w.run(&["volume", "rm", "cmvol"]).ok();
}

#[test]
fn podman_loads_and_runs_a_committed_image() {
    if skipped() {
        return;
    }
    let Some(w) = World::new() else { return };
    changed(&w, "pc");
    let name = format!("localhost/yurta-committed-{}:1", std::process::id());
    let _cleanup = PodmanImage(name.clone());
    w.run(&["commit", "pc", &name]).ok();
    let archive = w.y.path("committed.tar");
    w.run(&["save", "-o", archive.to_str().unwrap(), &name])
        .ok();
    sh("podman", &["load", "-i", archive.to_str().unwrap()]).ok();
    let o = sh(
        "podman",
        &[
            "run",
            "--rm",
            &name,
            "sh",
            "-c",
            "cat /hello /etc/motd; test -e /bin/ls || echo no-ls",
        ],
    )
    .ok();
    assert_eq!(o.stdout, "hello\nchanged\nno-ls\n");
    w.run(&["rm", "-v", "pc"]).ok();
    w.run(&["volume", "rm", "pcvol"]).ok();
}

/// A running container `name` that has written /made.
fn running(w: &World, name: &str) {
    w.run(&[
        "run",
        "-d",
        "--name",
        name,
        "--network",
        "none",
        "img",
        "sh",
        "-c",
        "echo made > /made; exec sleep 1000",
    ])
    .ok();
    assert!(poll(|| w.run(&["exec", name, "cat", "/made"]).code == 0));
}

/// Runs `commit` stopped (SIGSTOP) at `commit.paused`; returns the
/// container's status seen there, then lets the commit finish.
fn status_during_commit(w: &World, args: &[&str], name: &str) -> String {
    let mut child = w
        .cmd(args)
        .env("YURTA_FAULT", "commit.paused=stop")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    let stopped = || yurta_sysutil::proc::stat(pid).is_some_and(|s| s.state == 'T');
    assert!(poll(stopped), "commit did not stop at commit.paused");
    let status = w.inspect(name, ".State.Status");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGCONT,
    )
    .unwrap();
    assert!(child.wait().unwrap().success());
    status
}

#[test]
fn a_running_container_is_paused_during_the_commit() {
    let Some(w) = World::new() else { return };
    running(&w, "pz");
    assert_eq!(
        status_during_commit(&w, &["commit", "pz", "pz:1"], "pz"),
        "paused"
    );
    assert_eq!(w.inspect("pz", ".State.Status"), "running");
    w.run(&["exec", "pz", "true"]).ok();
    let args = ["commit", "--pause=false", "pz", "pz:2"];
    assert_eq!(status_during_commit(&w, &args, "pz"), "running");
    // A container the user paused stays paused.
    w.run(&["pause", "pz"]).ok();
    w.run(&["commit", "pz", "pz:3"]).ok();
    assert_eq!(w.inspect("pz", ".State.Status"), "paused");
    w.run(&["unpause", "pz"]).ok();
    let o = w
        .run(&["run", "--rm", "--network", "none", "pz:3", "cat", "/made"])
        .ok();
    assert_eq!(o.stdout, "made\n");
    w.run(&["rm", "-f", "pz"]).ok();
}

fn fingerprint(w: &World, ids: &BTreeSet<String>) -> Fingerprint {
    Fingerprint::take(&Scope {
        root: &w.y.root(),
        link_prefixes: &[],
        table: &w.table(),
        ids,
    })
}

/// After a kill: running (or paused, and then `unpause` works), and `exec`
/// works in it.
fn assert_whole(w: &World, name: &str, spec: &str) {
    match w.inspect(name, ".State.Status").as_str() {
        "running" => {}
        "paused" => {
            let o = w.run(&["unpause", name]);
            assert_eq!(o.code, 0, "{spec}: unpause: {}", o.stderr);
        }
        other => panic!("{spec}: the container is {other}"),
    }
    let o = w.run(&["exec", name, "cat", "/made"]);
    assert_eq!(o.code, 0, "{spec}: exec: {}", o.stderr);
}

#[test]
fn commit_killed_at_every_step_leaves_no_half_image() {
    let Some(w) = World::new() else { return };
    running(&w, "kc");
    let args = ["commit", "-m", "killed", "kc", "kc:1"];
    let trace = w.y.path("trace");
    let o = w
        .cmd(&args)
        .env("YURTA_FAULT_TRACE", &trace)
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    let hits = hits(&trace);
    for p in [
        "commit.paused",
        "commit.layer",
        "commit.stored",
        "commit.recorded",
    ] {
        assert!(hits.iter().any(|(h, _)| h == p), "{p} not in {hits:?}");
    }
    prune_all(&w.y, "after the traced commit");
    let ids: BTreeSet<String> = w.ids().into_iter().collect();
    let before = fingerprint(&w, &ids);
    let specs = specs(&hits);
    eprintln!("{} kills of {args:?}: {specs:?}", specs.len());
    for spec in specs {
        let o = w
            .cmd(&args)
            .env("YURTA_FAULT", &spec)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert_killed(&o, &spec);
        assert_consistent(&w.y, &spec);
        assert_whole(&w, "kc", &spec);
        let retry = w.run(&args);
        assert_eq!(retry.code, 0, "{spec}: retry: {}", retry.stderr);
        prune_all(&w.y, &spec);
        let mut diff = Vec::new();
        poll(|| {
            diff = before.diff(&fingerprint(&w, &ids));
            diff.is_empty()
        });
        assert!(diff.is_empty(), "killed at {spec}: left {diff:#?}");
    }
    w.run(&["rm", "-f", "kc"]).ok();
}

/// `yurta --root ROOT ARGS`, checked.
fn at(root: &std::path::Path, args: &[&str]) -> String {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_yurta"))
        .arg("--root")
        .arg(root)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success(), "{args:?}: {o:?}");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn a_flattened_copy_is_compared_with_its_image() {
    if !common::world::is_root() {
        return;
    }
    let _serial = common::world::SERIAL
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let y = Yurta::new();
    // A ':' in the path: overlayfs cannot take it, the copy driver is used.
    let root = y.path("a:b").join("root");
    let rootfs = y.rootfs();
    at(
        &root,
        &[
            "import",
            "-c",
            r#"CMD ["sh"]"#,
            rootfs.to_str().unwrap(),
            "img",
        ],
    );
    let script = "echo hello > /hello; rm /bin/ls";
    at(
        &root,
        &[
            "run",
            "--name",
            "cp",
            "--network",
            "none",
            "img",
            "sh",
            "-c",
            script,
        ],
    );
    assert_eq!(
        at(&root, &["inspect", "-f", "{{.Driver}}", "cp"]).trim(),
        "copy"
    );
    assert_eq!(at(&root, &["diff", "cp"]), "C /bin\nD /bin/ls\nA /hello\n");
    at(&root, &["commit", "cp", "copied"]);
    let check = "cat /hello; test -e /bin/ls || echo no-ls";
    let out = at(
        &root,
        &[
            "run",
            "--rm",
            "--network",
            "none",
            "copied",
            "sh",
            "-c",
            check,
        ],
    );
    assert_eq!(out, "hello\nno-ls\n");
    at(&root, &["rm", "cp"]);
}
