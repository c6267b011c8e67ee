//! Health checks (`run --health-*`, an image's HEALTHCHECK): the monitor
//! the supervisor runs beside each start of the init, `State.Health` in
//! inspect, `(healthy)` in ps, `health_status` events, timeouts, and that
//! no monitor outlives its container or its supervisor. Waits poll for a
//! state with a generous bound; nothing is timed.

mod common;

use std::path::Path;
use std::time::Duration;

use common::sh;
use common::world::World;
use serde_json::Value;

/// Polls until `ok` holds (30 s at most); false if it never did.
fn eventually(mut ok: impl FnMut() -> bool) -> bool {
    yurta_testutil::process::poll_until(Duration::from_secs(30), Duration::from_millis(50), &mut ok)
}

/// `State.Health` (Null when the container has none).
fn health(w: &World, name: &str) -> Value {
    let text = w.inspect(name, "json .State");
    let state: Value = serde_json::from_str(&text).unwrap();
    state.get("Health").cloned().unwrap_or(Value::Null)
}

fn status(w: &World, name: &str) -> String {
    health(w, name)["Status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The health monitors of container `id` (their pids; a monitor's child
/// between its fork and exec looks the same and is left out).
fn monitors(id: &str) -> Vec<String> {
    let found = matching(id);
    let parent = |pid: &str| {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let after = stat.rsplit_once(") ").map_or("", |(_, r)| r).to_string();
        after.split(' ').nth(1).unwrap_or_default().to_string()
    };
    found
        .iter()
        .filter(|p| !found.contains(&parent(p)))
        .cloned()
        .collect()
}

fn matching(id: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(cmd) = std::fs::read(e.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<&[u8]> = cmd.split(|b| *b == 0).collect();
        // `yurta --root R container __health ID --pid N` (the supervisor's
        // own command line names it too, as --health-command-arg values).
        let is_monitor = args
            .windows(3)
            .any(|w| w[0] == b"container" && w[1] == b"__health" && w[2] == id.as_bytes());
        if is_monitor {
            out.push(e.file_name().to_string_lossy().into_owned());
        }
    }
    out
}

#[test]
fn unhealthy_then_healthy_and_the_monitor_lives_with_the_init() {
    let Some(w) = World::new() else { return };
    w.run(&[
        "run",
        "-d",
        "--name",
        "hc",
        "--health-cmd",
        "test -f /ok && echo fine",
        "--health-interval",
        "200ms",
        "--health-retries",
        "2",
        "img",
        "sleep",
        "600",
    ])
    .ok();
    let id = w.inspect("hc", ".Id");
    assert_eq!(monitors(&id).len(), 1, "one monitor");
    assert!(
        eventually(|| status(&w, "hc") == "unhealthy"),
        "{}",
        health(&w, "hc")
    );
    assert!(health(&w, "hc")["FailingStreak"].as_i64().unwrap() >= 2);
    let ps = w.run(&["ps", "--format", "{{.Status}}"]).ok().stdout;
    assert!(ps.trim_end().ends_with("(unhealthy)"), "{ps}");
    w.run(&["exec", "hc", "sh", "-c", ": > /ok"]).ok();
    assert!(
        eventually(|| status(&w, "hc") == "healthy"),
        "{}",
        health(&w, "hc")
    );
    let h = health(&w, "hc");
    let last = h["Log"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["ExitCode"].as_i64(), last["Output"].as_str()),
        (Some(0), Some("fine\n"))
    );
    assert!(h["Log"].as_array().unwrap().len() <= 5);
    let filtered = |f: &str| {
        w.run(&["ps", "-q", "--no-trunc", "--filter", f])
            .ok()
            .stdout
    };
    assert_eq!(filtered("health=healthy").trim(), id);
    assert_eq!(filtered("health=unhealthy"), "");
    assert_eq!(filtered("health=none"), "");
    let events = w
        .run(&[
            "events",
            "--since",
            "10m",
            "--until",
            "0s",
            "--filter",
            "event=health_status",
            "--format",
            "{{.Action}}",
        ])
        .ok()
        .stdout;
    assert!(
        events.contains("health_status: unhealthy\nhealth_status: healthy"),
        "{events}"
    );
    // Stopped: no monitor; started again: a new one, starting afresh.
    w.run(&["stop", "-t", "1", "hc"]).ok();
    assert!(eventually(|| monitors(&id).is_empty()));
    w.run(&["start", "hc"]).ok();
    assert_eq!(monitors(&id).len(), 1);
    w.run(&["rm", "-f", "hc"]).ok();
    assert!(eventually(|| monitors(&id).is_empty()));
}

#[test]
fn a_check_past_its_timeout_is_killed_in_the_container() {
    let Some(w) = World::new() else { return };
    w.run(&[
        "run",
        "-d",
        "--name",
        "slow",
        "--health-cmd",
        "sleep 77",
        "--health-timeout",
        "300ms",
        "--health-interval",
        "200ms",
        "--health-retries",
        "1",
        "img",
        "sleep",
        "600",
    ])
    .ok();
    assert!(eventually(|| status(&w, "slow") == "unhealthy"));
    let last = health(&w, "slow")["Log"][0].clone();
    assert_eq!(last["ExitCode"].as_i64(), Some(-1));
    assert!(
        last["Output"]
            .as_str()
            .unwrap()
            .starts_with("Health check exceeded timeout"),
        "{last}"
    );
    // The timed-out checks are gone from the container (at most the one
    // running now is left).
    let ps = w.run(&["exec", "slow", "ps", "-o", "args"]).ok().stdout;
    assert!(ps.matches("sleep 77").count() <= 1, "{ps}");
    w.run(&["rm", "-f", "slow"]).ok();
}

#[test]
fn an_image_healthcheck_applies_and_no_healthcheck_turns_it_off() {
    let Some(w) = World::new() else { return };
    let ctx = w.y.path("hctx");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM img\nHEALTHCHECK --interval=200ms CMD true\n",
    )
    .unwrap();
    w.run(&["build", "-q", "-t", "checked:1", ctx.to_str().unwrap()])
        .ok();
    w.run(&[
        "run",
        "-d",
        "--name",
        "inherits",
        "checked:1",
        "sleep",
        "600",
    ])
    .ok();
    assert!(
        eventually(|| status(&w, "inherits") == "healthy"),
        "{}",
        health(&w, "inherits")
    );
    let test = w.inspect("inherits", "json .Config.Healthcheck.Test");
    assert_eq!(test, r#"["CMD-SHELL","true"]"#);
    w.run(&[
        "run",
        "-d",
        "--name",
        "off",
        "--no-healthcheck",
        "checked:1",
        "sleep",
        "600",
    ])
    .ok();
    let id = w.inspect("off", ".Id");
    assert_eq!(
        w.inspect("off", "json .Config.Healthcheck.Test"),
        r#"["NONE"]"#
    );
    assert_eq!(health(&w, "off"), Value::Null);
    assert!(monitors(&id).is_empty());
    w.run(&["rm", "-f", "inherits", "off"]).ok();
}

#[test]
fn bad_health_flags_are_one_line_and_create_nothing() {
    let Some(w) = World::new() else { return };
    for (args, want) in [
        (
            vec!["--health-cmd", "true", "--health-interval", "soon"],
            "invalid argument \"soon\" for --health-interval",
        ),
        (
            vec!["--no-healthcheck", "--health-cmd", "true"],
            "--no-healthcheck conflicts with --health-* options",
        ),
        (
            vec!["--health-cmd", "true", "--health-retries", "-1"],
            "Retries in Healthcheck cannot be negative",
        ),
    ] {
        w.assert_run_refused(&args, &format!("yurta: {want}"));
    }
    assert_eq!(w.run(&["ps", "-aq"]).ok().stdout, "");
}

#[test]
fn a_killed_supervisor_takes_its_monitor_along() {
    let Some(w) = World::new() else { return };
    w.run(&[
        "run",
        "-d",
        "--name",
        "orph",
        "--health-cmd",
        "true",
        "--health-interval",
        "200ms",
        "img",
        "sleep",
        "600",
    ])
    .ok();
    let id = w.inspect("orph", ".Id");
    assert_eq!(monitors(&id).len(), 1);
    let dir = w.y.root().join("containers").join(&id);
    let pid = std::fs::read_to_string(dir.join("supervisor.pid")).unwrap();
    sh("kill", &["-9", pid.trim()]).ok();
    assert!(
        eventually(|| monitors(&id).is_empty()),
        "the monitor outlived its supervisor"
    );
    assert!(
        !Path::new(&format!("/proc/{}/cmdline", pid.trim())).exists() || monitors(&id).is_empty()
    );
    w.run(&["rm", "-f", "orph"]).ok();
}

/// A check that leaves a process in the background holding its output
/// still ends when its shell does: the monitor does not wait for the pipe.
#[test]
fn a_check_that_leaves_a_background_process_still_counts() {
    let Some(w) = World::new() else { return };
    w.run(&[
        "run",
        "-d",
        "--name",
        "bg",
        "--health-cmd",
        "sleep 60 & echo started",
        "--health-interval",
        "200ms",
        "img",
        "sleep",
        "600",
    ])
    .ok();
    assert!(
        eventually(|| status(&w, "bg") == "healthy"),
        "{}",
        health(&w, "bg")
    );
    let first = health(&w, "bg")["Log"][0].clone();
    assert_eq!(first["Output"].as_str(), Some("started\n"), "{first}");
    w.run(&["rm", "-f", "bg"]).ok();
}
