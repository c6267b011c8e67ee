//! Container networking end to end, as root: published ports reached
//! from the host on 127.0.0.1, user networks with name resolution,
//! connect/disconnect, `container:` mode, port conflicts. Traffic stays on
//! loopback and the test's own bridges (`common::world`).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::sh;
use common::world::{free_port, links_with, World};

#[test]
fn a_published_port_on_127_0_0_1_reaches_the_container() {
    let Some(w) = World::new() else { return };
    let port = free_port();
    let publish = format!("127.0.0.1:{port}:80");
    w.run(&[
        "run",
        "-d",
        "--name",
        "web",
        "-p",
        &publish,
        "img",
        "sh",
        "-c",
        "echo served-by-yurta > /index.html; exec httpd -f -p 80 -h /",
    ])
    .ok();
    let start = Instant::now();
    let body = loop {
        let got = TcpStream::connect(("127.0.0.1", port)).and_then(|mut s| {
            s.set_read_timeout(Some(Duration::from_secs(2)))?;
            s.write_all(b"GET /index.html HTTP/1.0\r\n\r\n")?;
            let mut b = String::new();
            s.read_to_string(&mut b)?;
            Ok(b)
        });
        match got {
            Ok(b) if b.contains("served-by-yurta") => break b,
            _ if start.elapsed() > Duration::from_secs(5) => panic!("no answer: {got:?}"),
            _ => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    assert!(
        body.starts_with("HTTP/1.1 200") || body.starts_with("HTTP/1.0 200"),
        "{body}"
    );
    assert_eq!(
        w.run(&["port", "web", "80"]).ok().stdout.trim(),
        format!("127.0.0.1:{port}")
    );
    let rules = sh("nft", &["list", "table", "ip", &w.table()]).stdout;
    assert!(rules.contains(&format!("dport {port}")), "{rules}");
    w.run(&["rm", "-f", "web"]).ok();
    let rules = sh("nft", &["list", "table", "ip", &w.table()]).stdout;
    assert!(!rules.contains(&format!("dport {port}")), "{rules}");
}

#[test]
fn containers_on_a_user_network_reach_each_other_by_name() {
    let Some(w) = World::new() else { return };
    w.run(&["network", "create", "tnet"]).ok();
    w.run(&[
        "run",
        "-d",
        "--name",
        "peer1",
        "--network",
        "tnet",
        "img",
        "sleep",
        "1000",
    ])
    .ok();
    let o = w.run(&[
        "run",
        "--rm",
        "--network",
        "tnet",
        "img",
        "ping",
        "-c1",
        "-W2",
        "peer1",
    ]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    let ls = w.run(&["network", "ls"]).ok().stdout;
    assert!(ls.contains("tnet") && ls.contains("bridge"), "{ls}");
    let rm = w.run(&["network", "rm", "tnet"]);
    assert_eq!(rm.code, 125, "in use: {}", rm.stderr);
    w.run(&["rm", "-f", "peer1"]).ok();
    w.run(&["network", "rm", "tnet"]).ok();
}

#[test]
fn network_connect_and_disconnect() {
    let Some(w) = World::new() else { return };
    w.run(&["network", "create", "cnet"]).ok();
    w.run(&["run", "-d", "--name", "c1", "img", "sleep", "1000"])
        .ok();
    w.run(&[
        "run",
        "-d",
        "--name",
        "c2",
        "--network",
        "cnet",
        "img",
        "sleep",
        "1000",
    ])
    .ok();
    w.run(&["network", "connect", "cnet", "c1"]).ok();
    let o = w.run(&["exec", "c2", "ping", "-c1", "-W2", "c1"]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    let v: serde_json::Value =
        serde_json::from_str(&w.run(&["network", "inspect", "cnet"]).ok().stdout).unwrap();
    assert_eq!(v[0]["Containers"].as_object().unwrap().len(), 2);
    w.run(&["network", "disconnect", "cnet", "c1"]).ok();
    let v: serde_json::Value =
        serde_json::from_str(&w.run(&["network", "inspect", "cnet"]).ok().stdout).unwrap();
    assert_eq!(v[0]["Containers"].as_object().unwrap().len(), 1);
    w.run(&["rm", "-f", "c1", "c2"]).ok();
    w.run(&["network", "rm", "cnet"]).ok();
}

/// Networks connected before the start are joined at the start, and again
/// at each later start (so are networks connected while running); one
/// disconnected while stopped is not.
#[test]
fn networks_connected_before_the_start_are_joined_at_each_start() {
    let Some(w) = World::new() else { return };
    w.run(&["network", "create", "xa"]).ok();
    w.run(&["network", "create", "xb"]).ok();
    w.run(&[
        "run",
        "-d",
        "--name",
        "peer",
        "--network",
        "xb",
        "img",
        "sleep",
        "1000",
    ])
    .ok();
    w.run(&[
        "create",
        "--name",
        "multi",
        "--network",
        "xa",
        "img",
        "sleep",
        "1000",
    ])
    .ok();
    w.run(&["network", "connect", "--alias", "mb", "xb", "multi"])
        .ok();
    let networks = |name: &str| {
        w.inspect(
            name,
            "range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}} {{end",
        )
    };
    for round in 0..2 {
        w.run(&["start", "multi"]).ok();
        let nets = networks("multi");
        assert!(
            nets.contains("xa=1") && nets.contains("xb=1"),
            "round {round}: {nets}"
        );
        let o = w.run(&["exec", "peer", "ping", "-c1", "-W2", "mb"]);
        assert_eq!(o.code, 0, "round {round}: {}{}", o.stdout, o.stderr);
        w.run(&["stop", "-t", "0", "multi"]).ok();
    }
    w.run(&["network", "disconnect", "xb", "multi"]).ok();
    let o = w.run(&["network", "disconnect", "xb", "multi"]);
    assert_eq!(o.code, 125, "{}", o.stderr);
    assert!(o.stderr.contains("not connected"), "{}", o.stderr);
    w.run(&["start", "multi"]).ok();
    let nets = networks("multi");
    assert!(nets.contains("xa=") && !nets.contains("xb="), "{nets}");
    let o = w.run(&["network", "connect", "xb", "none-such"]);
    assert_eq!(o.code, 125);
    w.run(&["rm", "-f", "multi", "peer"]).ok();
    w.run(&["network", "rm", "xa", "xb"]).ok();
}

#[test]
fn a_taken_port_fails_naming_it_and_leaves_nothing() {
    let Some(w) = World::new() else { return };
    let port = free_port();
    let publish = format!("127.0.0.1:{port}:80");
    w.run(&[
        "run", "-d", "--name", "first", "-p", &publish, "img", "sleep", "1000",
    ])
    .ok();
    let links = links_with(&[&w.veth_prefix()]).len();
    let o = w.run(&["run", "--rm", "-p", &publish, "img", "true"]);
    assert_eq!(o.code, 125);
    assert!(
        o.stderr.contains(&port.to_string()) && o.stderr.contains("first"),
        "{}",
        o.stderr
    );
    assert_eq!(w.ids().len(), 1);
    assert_eq!(links_with(&[&w.veth_prefix()]).len(), links);
    let bad = w.run(&["run", "--rm", "-p", "70000:80", "img", "true"]);
    assert_eq!(bad.code, 125);
    assert!(bad.stderr.contains("70000"), "{}", bad.stderr);
    let bad = w.run(&["run", "--rm", "--memory", "12x", "img", "true"]);
    assert!(
        bad.code == 125 && bad.stderr.contains("12x"),
        "{}",
        bad.stderr
    );
    assert_eq!(w.ids().len(), 1);
}

#[test]
fn network_container_mode_shares_the_namespace() {
    let Some(w) = World::new() else { return };
    w.run(&[
        "run",
        "-d",
        "--name",
        "base",
        "img",
        "sh",
        "-c",
        "echo shared > /index.html; exec httpd -f -p 80 -h /",
    ])
    .ok();
    let o = w.run(&[
        "run",
        "--rm",
        "--network",
        "container:base",
        "img",
        "wget",
        "-qO-",
        "http://127.0.0.1/index.html",
    ]);
    assert_eq!(o.stdout, "shared\n", "{}", o.stderr);
    // While another container is in base's namespace, base's exit cannot
    // leave its veth to the namespace's teardown (the namespace lives
    // on): it is deleted before `stop` returns, its address released.
    w.run(&[
        "run",
        "-d",
        "--name",
        "guest",
        "--network",
        "container:base",
        "img",
        "sleep",
        "1000",
    ])
    .ok();
    let veths = links_with(&[&w.veth_prefix()]);
    assert_eq!(veths.len(), 1, "{veths:?}");
    w.run(&["stop", "-t", "0", "base"]).ok();
    assert_eq!(links_with(&[&w.veth_prefix()]), Vec::<String>::new());
    w.run(&["rm", "-f", "guest", "base"]).ok();
}

#[test]
fn a_run_rm_veth_goes_with_its_namespace() {
    let Some(w) = World::new() else { return };
    w.run(&["run", "--rm", "img", "true"]).ok();
    // Left to the namespace's teardown, which the kernel runs a few ms
    // after the last reference is gone.
    let gone = yurta_testutil::process::poll_until(
        Duration::from_secs(5),
        Duration::from_millis(5),
        || links_with(&[&w.veth_prefix()]).is_empty(),
    );
    assert!(gone, "{:?}", links_with(&[&w.veth_prefix()]));
}

#[test]
fn an_alias_resolves_and_parallel_runs_get_distinct_addresses() {
    let Some(w) = World::new() else { return };
    w.run(&["network", "create", "anet"]).ok();
    w.run(&[
        "run",
        "-d",
        "--name",
        "aliased",
        "--network",
        "anet",
        "--network-alias",
        "db",
        "img",
        "sleep",
        "1000",
    ])
    .ok();
    // inspect shows the alias on that network, as Docker's.
    let aliases = w
        .run(&[
            "inspect",
            "-f",
            "{{json .NetworkSettings.Networks.anet.Aliases}}",
            "aliased",
        ])
        .ok();
    assert_eq!(aliases.stdout.trim(), r#"["db"]"#);
    let o = w.run(&[
        "run",
        "--rm",
        "--network",
        "anet",
        "img",
        "ping",
        "-c1",
        "-W2",
        "db",
    ]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    let children: Vec<_> = (0..5)
        .map(|i| {
            w.cmd(&[
                "run",
                "-d",
                "--name",
                &format!("par{i}"),
                "img",
                "sleep",
                "1000",
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let mut ips: Vec<String> = (0..5)
        .map(|i| w.inspect(&format!("par{i}"), ".NetworkSettings.IPAddress"))
        .collect();
    ips.sort();
    ips.dedup();
    assert_eq!(ips.len(), 5, "{ips:?}");
    assert_eq!(w.run(&["ps", "-q"]).ok().stdout.lines().count(), 6);
    for i in 0..5 {
        w.run(&["rm", "-f", &format!("par{i}")]).ok();
    }
    w.run(&["rm", "-f", "aliased"]).ok();
    w.run(&["network", "rm", "anet"]).ok();
}

#[test]
fn network_none_has_lo_up() {
    let Some(w) = World::new() else { return };
    let o = w.run(&[
        "run",
        "--rm",
        "--network",
        "none",
        "img",
        "sh",
        "-c",
        "ls /sys/class/net; cat /sys/class/net/lo/flags",
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(lines[0], "lo", "only lo: {}", o.stdout);
    let flags = u32::from_str_radix(lines[1].trim_start_matches("0x"), 16).unwrap();
    assert_eq!(flags & 1, 1, "IFF_UP in {}", lines[1]);
}
