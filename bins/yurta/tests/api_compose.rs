//! docker-compose 1.29 (Debian's, Python, over docker-py) against `yurta
//! system service` (issue 11): `up -d` (a network, labelled containers,
//! `network connect` with aliases on created containers), a service
//! reaching another by name, `ps`, `logs`, `exec`, `down`; nothing left
//! on the host afterwards.

mod api_common;
mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use api_common::Service;
use common::fingerprint::{Fingerprint, Scope};
use common::world::World;

const COMPOSE: &str = "/usr/bin/docker-compose";

const FILE: &str = r#"version: "3"
services:
  web:
    image: img
    command: ["sleep", "300"]
    labels:
      tier: front
  job:
    image: img
    command: ["sh", "-c", "ping -c1 -W5 web >/dev/null && echo reached web"]
    depends_on: [web]
"#;

fn fingerprint(w: &World) -> Fingerprint {
    let prefixes = [w.veth_prefix(), w.bridge(), format!("ytu{}-", w.tag)];
    let prefixes: Vec<&str> = prefixes.iter().map(String::as_str).collect();
    Fingerprint::take(&Scope {
        root: &w.y.root(),
        link_prefixes: &prefixes,
        table: &w.table(),
        ids: &BTreeSet::new(),
    })
}

fn compose(s: &Service, dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let o = s
        .command(COMPOSE)
        .args(["--no-ansi", "-p", "yc"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn docker_compose_1_29_up_and_down() {
    if !std::path::Path::new(COMPOSE).exists() {
        // scripts/test.sh installs it; a test that cannot run must say so.
        panic!("{COMPOSE} is missing: apt-get install docker-compose");
    }
    let Some(w) = World::new() else { return };
    let s = Service::start(&w, &[]);
    w.run(&["run", "--rm", "img", "true"]).ok();
    let before = fingerprint(&w);
    let dir = w.y.path("project");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("docker-compose.yml"), FILE).unwrap();
    let (code, out, err) = compose(&s, &dir, &["up", "-d"]);
    assert_eq!(code, 0, "{out}{err}\n{}", s.stderr());
    // The yurta CLI sees Compose's containers, labels and network.
    let web = w.inspect("yc_web_1", ".Config.Labels.tier");
    assert_eq!(web, "front");
    assert_eq!(w.inspect("yc_web_1", ".State.Running"), "true");
    let mut logs = String::new();
    yurta_testutil::process::poll_until(
        Duration::from_secs(30),
        Duration::from_millis(100),
        || {
            logs = compose(&s, &dir, &["logs", "--no-color", "job"]).1;
            logs.contains("reached web")
        },
    );
    assert!(logs.contains("reached web"), "{logs}");
    let (code, ps, err) = compose(&s, &dir, &["ps"]);
    assert_eq!(code, 0, "{err}");
    assert!(ps.contains("yc_web_1") && ps.contains("Up"), "{ps}");
    let (code, out, err) = compose(&s, &dir, &["exec", "-T", "web", "echo", "inside"]);
    assert_eq!((code, out.as_str()), (0, "inside\n"), "{err}");
    let (code, out, err) = compose(&s, &dir, &["down", "-t", "1"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(w.run(&["ps", "-aq"]).ok().stdout, "");
    let mut diff = Vec::new();
    yurta_testutil::process::poll_until(Duration::from_secs(30), Duration::from_millis(50), || {
        diff = before.diff(&fingerprint(&w));
        diff.is_empty()
    });
    assert!(diff.is_empty(), "left behind: {diff:#?}");
}
