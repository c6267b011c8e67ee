//! A full disk under `--root` (issue 9, item 5 and the ENOSPC part of the
//! fault-injection suite): a container filling its volume gets ENOSPC
//! inside and nothing else breaks; `run` on a full disk fails with one line
//! and leaves nothing; the commands that free space (`rm`, `container
//! prune`, `volume rm`) work on it; and afterwards `run`
//! works again.

mod common;

use std::collections::BTreeSet;

use common::fingerprint::{Fingerprint, Scope};
use common::world::World;

fn fingerprint(w: &World) -> Fingerprint {
    let ids: BTreeSet<String> = w.ids().into_iter().collect();
    let prefixes = [w.veth_prefix(), w.bridge()];
    let prefixes: Vec<&str> = prefixes.iter().map(String::as_str).collect();
    Fingerprint::take(&Scope {
        root: &w.y.root(),
        link_prefixes: &prefixes,
        table: &w.table(),
        ids: &ids,
    })
}

fn free_bytes(w: &World) -> u64 {
    let s = nix::sys::statvfs::statvfs(&w.y.root()).unwrap();
    s.blocks_available() as u64 * s.fragment_size() as u64
}

#[test]
fn a_full_disk_fails_runs_cleanly_and_removals_free_it() {
    let Some(w) = World::on_tmpfs("24m") else {
        return;
    };
    // Containers to remove later, made while there is room.
    w.run(&["run", "--name", "done", "img", "true"]).ok();
    w.run(&["run", "-d", "--name", "up", "img", "sleep", "1000"])
        .ok();
    // A container fills its volume: ENOSPC inside is its own business.
    let fill = "dd if=/dev/zero of=/data/big bs=1M 2>/dev/null; echo filled; exit 3";
    let o = w.run(&[
        "run",
        "--name",
        "filler",
        "-v",
        "big:/data",
        "img",
        "sh",
        "-c",
        fill,
    ]);
    assert_eq!(o.code, 3, "the container's own code: {}", o.stderr);
    assert_eq!(o.stderr, "");
    assert!(free_bytes(&w) < 64 * 1024, "not full: {}", free_bytes(&w));
    let before = fingerprint(&w);
    // On the full disk: one line naming the trouble, exit 125, nothing left.
    for args in [
        &["run", "--name", "nope", "img", "echo", "x"][..],
        &["run", "-d", "--name", "nope", "img", "sleep", "1"][..],
        // An anonymous volume goes with --rm (a named one would stay, as
        // after a successful run: Docker never removes named volumes).
        &["run", "--rm", "-v", "/x", "img", "true"][..],
    ] {
        let o = w.run(args);
        assert_eq!(o.code, 125, "{args:?}: {}", o.stderr);
        assert_eq!(o.stderr.lines().count(), 1, "{args:?}: {}", o.stderr);
        assert!(
            o.stderr.contains("No space left on device"),
            "{args:?}: {}",
            o.stderr
        );
        assert_eq!(
            o.stderr.matches("No space left on device").count(),
            1,
            "the OS error once: {}",
            o.stderr
        );
        // A container whose start failed stays "created", as in Docker
        // (with its error); it holds nothing on the host and rm takes it.
        let created = w.run(&[
            "inspect",
            "-f",
            "{{.State.Status}} {{.State.Error}}",
            "nope",
        ]);
        eprintln!("{args:?}: {} -> {}", o.stderr.trim(), created.stdout.trim());
        w.run(&["rm", "nope"]);
        // A veth goes with its namespace a moment after the command ends.
        let mut diff = Vec::new();
        yurta_testutil::process::poll_until(
            std::time::Duration::from_secs(30),
            std::time::Duration::from_millis(50),
            || {
                diff = before.diff(&fingerprint(&w));
                diff.is_empty()
            },
        );
        assert!(diff.is_empty(), "{args:?} left {diff:#?}");
    }
    // What frees space works on the full disk.
    w.run(&["rm", "-f", "up"]).ok();
    let o = w.run(&["system", "prune", "-f"]).ok();
    assert!(
        o.stdout.starts_with("Deleted Containers:\n"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("Total reclaimed space: "), "{}", o.stdout);
    assert!(w.ids().is_empty());
    w.run(&["container", "prune", "-f"]).ok();
    w.run(&["volume", "rm", "big"]).ok();
    assert!(free_bytes(&w) > 4 << 20, "freed: {}", free_bytes(&w));
    let o = w.run(&["run", "--rm", "img", "echo", "room again"]).ok();
    assert_eq!(o.stdout, "room again\n");
}

#[test]
fn a_container_writing_logs_on_a_full_disk_is_not_blocked() {
    let Some(w) = World::on_tmpfs("24m") else {
        return;
    };
    let filler = w.y.root().join("filler");
    // Fill what is left, then let a container talk.
    let _ = std::process::Command::new("dd")
        .args(["if=/dev/zero", "bs=1M", &format!("of={}", filler.display())])
        .output();
    let talk = "i=0; while [ $i -lt 2000 ]; do echo line-$i; i=$((i+1)); done; exit 7";
    let o = w.run(&["run", "-d", "--name", "talker", "img", "sh", "-c", talk]);
    // Either it could not even be created (no room for its record), or it
    // ran to its end: never stuck on its full log.
    if o.code == 0 {
        assert_eq!(w.run(&["wait", "talker"]).ok().stdout.trim(), "7");
        w.run(&["rm", "talker"]).ok();
    } else {
        assert_eq!(o.code, 125, "{}", o.stderr);
    }
    std::fs::remove_file(&filler).unwrap();
}

#[test]
fn system_prune_asks_then_removes_stopped_containers_networks_and_volumes() {
    let Some(w) = World::new() else { return };
    w.run(&["run", "--name", "old", "-v", "/anon", "img", "true"])
        .ok();
    w.run(&["run", "-d", "--name", "live", "img", "sleep", "1000"])
        .ok();
    w.run(&["network", "create", "spare"]).ok();
    let o = w.run_stdin(&["system", "prune", "--volumes"], "n\n");
    assert!(
        o.stdout
            .contains("WARNING! This will remove:\n  - all stopped containers\n"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("anonymous volumes"), "{}", o.stdout);
    assert_eq!(w.ids().len(), 2, "answered no: nothing removed");
    let o = w.run_stdin(&["system", "prune", "--volumes"], "y\n");
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("Deleted Containers:\n"), "{}", o.stdout);
    assert!(
        o.stdout.contains("Deleted Networks:\nspare\n"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("Deleted Volumes:\n"), "{}", o.stdout);
    assert_eq!(w.ids().len(), 1, "the running container stays");
    assert_eq!(w.inspect("live", ".State.Status"), "running");
    assert_eq!(w.run(&["volume", "ls", "-q"]).ok().stdout, "");
    w.run(&["rm", "-f", "live"]).ok();
}
