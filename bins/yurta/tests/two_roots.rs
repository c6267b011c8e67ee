//! Two state roots on one host (issue 9, item 6): two `yurta` CLIs with
//! different `--root` and the same host names (nft table, default bridge,
//! prefixes: `common::world`'s, never a real installation's), as two
//! installations configured alike. Each root's networks must be complete
//! (own bridge, own masquerade and forward rules) and independent (removing
//! one root's network, container or last network never touches the
//! other's), and a `kill -9` at any step of create/remove/prune/attach/
//! detach must converge after a retry, `network rm` or `network prune`.

mod common;

use std::path::PathBuf;

use common::world::{links_with, World};
use common::{sh, Out, Yurta};
use serde_json::{json, Value};

/// Root A is the World's; root B a second root with the same host names.
struct Two {
    w: World,
    b: Yurta,
}

/// What `network inspect` says of a network.
#[derive(Debug, Clone, PartialEq)]
struct Net {
    id: String,
    bridge: String,
    subnet: String,
    gateway: String,
}

impl Two {
    fn new() -> Option<Two> {
        let w = World::new()?;
        let two = Two { w, b: Yurta::new() };
        let tar = two.w.y.path("rootfs.tar");
        two.on_b(&["import", "-c", "CMD [\"sh\"]", tar.to_str().unwrap(), "img"])
            .ok();
        Some(two)
    }

    fn a(&self, args: &[&str]) -> Out {
        self.w.run(args)
    }

    fn b_cmd(&self, args: &[&str]) -> std::process::Command {
        let mut c = self.b.cmd(args);
        c.env("YURTA_NET_TABLE", self.w.table())
            .env("YURTA_NET_BRIDGE", self.w.bridge())
            .env("YURTA_NET_BRIDGE_PREFIX", self.user_prefix())
            .env("YURTA_NET_VETH_PREFIX", self.w.veth_prefix())
            .stdin(std::process::Stdio::null());
        c
    }

    fn on_b(&self, args: &[&str]) -> Out {
        out(self.b_cmd(args).output().unwrap())
    }

    fn user_prefix(&self) -> String {
        format!("ytu{}-", self.w.tag)
    }

    fn b_networks(&self) -> PathBuf {
        self.b.root().join("networks")
    }

    /// Root B's network records, by file name.
    fn b_records(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.b_networks())
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".json") && !n.starts_with('.'))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    fn rules(&self) -> Vec<Rule> {
        rules(&self.w.table())
    }

    /// Root B's command run with `YURTA_FAULT_TRACE`: the `network.*`
    /// points it reached, in order.
    fn points(&self, args: &[&str]) -> Vec<String> {
        let file = self.b.path(&format!("trace-{}", args.join("-")));
        let o = out(self
            .b_cmd(args)
            .env("YURTA_FAULT_TRACE", &file)
            .output()
            .unwrap());
        o.ok();
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let mut seen: Vec<String> = Vec::new();
        for l in text.lines().filter(|l| l.starts_with("network.")) {
            if !seen.iter().any(|s| s == l) {
                seen.push(l.to_string());
            }
        }
        assert!(!seen.is_empty(), "{args:?} reached no network point");
        eprintln!("{args:?} reaches {seen:?}");
        seen
    }

    /// Root B's command killed (SIGKILL) at fault point `point`.
    fn kill_at(&self, point: &str, args: &[&str]) {
        use std::os::unix::process::ExitStatusExt;
        let o = self.b_cmd(args).env("YURTA_FAULT", point).output().unwrap();
        assert_eq!(
            o.status.signal(),
            Some(9),
            "{args:?} not killed at {point}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }

    /// Root B's command, which may find the work done already: exit 0, or
    /// 125 with `gone` in the error.
    fn finish(&self, args: &[&str], gone: &str) {
        let o = self.on_b(args);
        assert!(
            o.code == 0 || (o.code == 125 && o.stderr.contains(gone)),
            "{args:?}: {} {}",
            o.code,
            o.stderr
        );
    }

    fn veths(&self) -> usize {
        links_with(&[&self.w.veth_prefix()]).len()
    }

    /// Waits for the number of veths (a namespace's teardown deletes
    /// them a few ms after its last reference goes).
    fn await_veths(&self, n: usize) {
        let ok = yurta_testutil::process::poll_until(
            std::time::Duration::from_secs(5),
            std::time::Duration::from_millis(10),
            || self.veths() == n,
        );
        assert!(
            ok,
            "veths: {:?}, want {n}",
            links_with(&[&self.w.veth_prefix()])
        );
    }
}

impl Drop for Two {
    /// Root B's containers and networks; its default bridge (nothing
    /// removes a default network, as in Docker). The World then cleans
    /// root A and checks for leftovers (links with the shared prefixes,
    /// the table).
    fn drop(&mut self) {
        let ids = self.on_b(&["ps", "-aq", "--no-trunc"]).stdout;
        for id in ids.lines() {
            let _ = self.on_b(&["rm", "-f", "-v", id]);
        }
        let _ = self.on_b(&["network", "prune", "-f"]);
        let default = self.b_networks().join("bridge.json");
        if let Ok(text) = std::fs::read(&default) {
            let v: Value = serde_json::from_slice(&text).unwrap();
            if let Some(br) = v["bridge"].as_str().filter(|b| *b != self.w.bridge()) {
                let _ = sh("ip", &["link", "del", br]);
            }
        }
        let left = self.on_b(&["ps", "-aq"]).stdout;
        if !std::thread::panicking() {
            assert!(left.trim().is_empty(), "root B left containers: {left}");
        }
    }
}

fn out(o: std::process::Output) -> Out {
    Out::of(o)
}

fn inspect(o: Out) -> Net {
    let v: Value = serde_json::from_str(&o.ok().stdout).unwrap();
    let n = &v[0];
    let cfg = &n["IPAM"]["Config"][0];
    Net {
        id: n["Id"].as_str().unwrap().into(),
        bridge: n["Options"]["com.docker.network.bridge.name"]
            .as_str()
            .unwrap()
            .into(),
        subnet: cfg["Subnet"].as_str().unwrap().into(),
        gateway: cfg["Gateway"].as_str().unwrap().into(),
    }
}

/// A rule of `nft -j list table`: chain, expressions, comment.
#[derive(Debug, Clone, PartialEq)]
struct Rule {
    chain: String,
    expr: Vec<Value>,
    comment: String,
}

impl Rule {
    /// Whether the rule names the interface (iifname/oifname).
    fn mentions(&self, ifname: &str) -> bool {
        self.expr.iter().any(|e| e["match"]["right"] == ifname)
    }

    fn has(&self, chain: &str, items: &[Value]) -> bool {
        self.chain == chain && items.iter().all(|i| self.expr.contains(i))
    }
}

fn rules(table: &str) -> Vec<Rule> {
    let o = sh("nft", &["-j", "list", "table", "ip", table]);
    if o.code != 0 {
        return Vec::new();
    }
    let v: Value = serde_json::from_str(&o.stdout).unwrap();
    v["nftables"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i.get("rule"))
        .map(|r| Rule {
            chain: r["chain"].as_str().unwrap().into(),
            expr: r["expr"].as_array().cloned().unwrap_or_default(),
            comment: r["comment"].as_str().unwrap_or("").into(),
        })
        .collect()
}

fn iface(key: &str, op: &str, name: &str) -> Value {
    json!({"match": {"op": op, "left": {"meta": {"key": key}}, "right": name}})
}

fn saddr(subnet: &str) -> Value {
    let (addr, len) = subnet.split_once('/').unwrap();
    let len: u32 = len.parse().unwrap();
    json!({"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}},
        "right": {"prefix": {"addr": addr, "len": len}}}})
}

/// The network's masquerade and forward rules are all there.
fn complete(rules: &[Rule], n: &Net) -> Result<(), String> {
    let br = n.bridge.as_str();
    let accept = json!({"accept": null});
    let wanted = [
        (
            "postrouting",
            vec![
                saddr(&n.subnet),
                iface("oifname", "!=", br),
                json!({"masquerade": null}),
            ],
        ),
        (
            "forward",
            vec![
                iface("iifname", "==", br),
                iface("oifname", "==", br),
                accept.clone(),
            ],
        ),
        ("forward", vec![iface("oifname", "==", br), accept]),
        (
            "forward",
            vec![iface("oifname", "==", br), json!({"drop": null})],
        ),
    ];
    for (chain, items) in wanted {
        if !rules.iter().any(|r| r.has(chain, &items)) {
            return Err(format!("no {chain} rule {items:?} for {n:?} in {rules:#?}"));
        }
    }
    Ok(())
}

/// The rules naming the bridge, for before/after comparisons.
fn of_bridge(rules: &[Rule], bridge: &str) -> Vec<Rule> {
    rules
        .iter()
        .filter(|r| r.mentions(bridge))
        .cloned()
        .collect()
}

fn pings(o: Out) -> bool {
    o.code == 0
}

fn sleeper(name: &str) -> Vec<&str> {
    vec!["run", "-d", "--name", name, "img", "sleep", "1000"]
}

#[test]
fn two_roots_have_complete_and_independent_networks() {
    let Some(t) = Two::new() else { return };
    t.a(&sleeper("c1")).ok();
    let a = inspect(t.a(&["network", "inspect", "bridge"]));
    complete(&t.rules(), &a).unwrap();
    let a_rules = of_bridge(&t.rules(), &a.bridge);

    // Root B's only network is a user network; removing it is removing
    // root B's last network, which must leave root A's rules.
    t.on_b(&["network", "create", "bn"]).ok();
    let bn = inspect(t.on_b(&["network", "inspect", "bn"]));
    assert_ne!(bn.bridge, a.bridge);
    complete(&t.rules(), &bn).unwrap();
    t.on_b(&["network", "rm", "bn"]).ok();
    assert_eq!(of_bridge(&t.rules(), &a.bridge), a_rules);
    assert!(of_bridge(&t.rules(), &bn.bridge).is_empty());

    // Both default networks at once: own bridge, own subnet, own rules.
    t.on_b(&sleeper("c1")).ok();
    let b = inspect(t.on_b(&["network", "inspect", "bridge"]));
    assert_ne!(a.bridge, b.bridge, "two roots on one bridge");
    assert_ne!(a.subnet, b.subnet);
    let now = t.rules();
    complete(&now, &a).unwrap();
    complete(&now, &b).unwrap();
    assert_eq!(of_bridge(&now, &a.bridge), a_rules);

    // Each reaches its gateway; neither opens connections into the other
    // (as two Docker networks).
    let ping = |on_a: bool, ip: &str| {
        let args = ["exec", "c1", "ping", "-c1", "-W2", ip];
        pings(if on_a { t.a(&args) } else { t.on_b(&args) })
    };
    assert!(ping(true, &a.gateway));
    assert!(ping(false, &b.gateway));
    let b_ip = t.on_b(&["inspect", "-f", "{{.NetworkSettings.IPAddress}}", "c1"]);
    assert!(
        !ping(true, b_ip.ok().stdout.trim()),
        "A reached B's container"
    );

    // Root A's subnet is a host route on a bridge that is not root B's.
    let o = t.on_b(&["network", "create", "--subnet", &a.subnet, "clash"]);
    assert_eq!(o.code, 125, "{}", o.stdout);
    assert!(o.stderr.contains(&a.bridge), "{}", o.stderr);

    // Pruning and removing root B's container keep root A's rules.
    t.on_b(&["network", "create", "bn2"]).ok();
    t.on_b(&["network", "prune", "-f"]).ok();
    t.on_b(&["rm", "-f", "c1"]).ok();
    let now = t.rules();
    assert_eq!(of_bridge(&now, &a.bridge), a_rules);
    complete(&now, &b).unwrap();
    assert!(ping(true, &a.gateway));
    t.a(&["rm", "-f", "c1"]).ok();
    assert_eq!(of_bridge(&t.rules(), &b.bridge), of_bridge(&now, &b.bridge));
    let veths = links_with(&[&t.w.veth_prefix()]);
    assert!(
        yurta_testutil::process::poll_until(
            std::time::Duration::from_secs(5),
            std::time::Duration::from_millis(10),
            || links_with(&[&t.w.veth_prefix()]).is_empty()
        ),
        "{veths:?}"
    );
}

#[test]
fn kill_9_in_network_create_rm_and_prune_converges() {
    let Some(t) = Two::new() else { return };
    t.a(&sleeper("c1")).ok();
    let before = t.rules();
    let converged = |step: &str| {
        assert_eq!(t.rules(), before, "rules after {step}");
        assert_eq!(t.b_records(), Vec::<String>::new(), "records after {step}");
        let left = links_with(&[&t.user_prefix()]);
        assert!(left.is_empty(), "bridges after {step}: {left:?}");
    };
    let create = ["network", "create", "kn"];
    let rm = ["network", "rm", "kn"];
    let prune = ["network", "prune", "-f"];
    let made = t.points(&create);
    for p in [
        "network.create.recorded",
        "network.plumb.bridge",
        "network.plumb.rules",
    ] {
        assert!(made.contains(&p.to_string()), "{made:?}");
    }
    let removed = t.points(&rm);
    for p in [
        "network.remove.rules",
        "network.remove.bridge",
        "network.remove.record",
    ] {
        assert!(removed.contains(&p.to_string()), "{removed:?}");
    }
    converged("a create and rm");

    for p in &made {
        // What the killed create left is completed by the next attach,
        // and removed by `network rm`.
        t.kill_at(p, &create);
        let o = t.on_b(&["run", "--rm", "--network", "kn", "img", "true"]);
        assert_eq!(o.code, 0, "after a kill at {p}: {}", o.stderr);
        t.on_b(&rm).ok();
        converged(&format!("a kill at {p} in create, run, rm"));
        // Or by `network rm` / `network prune` at once.
        t.kill_at(p, &create);
        t.finish(&rm, "no such network");
        t.on_b(&prune).ok();
        converged(&format!("a kill at {p} in create, rm, prune"));
    }
    for p in &removed {
        t.on_b(&create).ok();
        t.kill_at(p, &rm);
        t.finish(&rm, "no such network");
        converged(&format!("a kill at {p} in rm, rm"));
        t.on_b(&create).ok();
        t.kill_at(p, &prune);
        t.on_b(&prune).ok();
        converged(&format!("a kill at {p} in prune, prune"));
    }
}

#[test]
fn kill_9_in_attach_and_detach_converges() {
    let Some(t) = Two::new() else { return };
    t.a(&sleeper("c1")).ok();
    t.on_b(&["run", "--rm", "img", "true"]).ok();
    t.await_veths(1);
    let before = t.rules();
    let run = [
        "run",
        "-d",
        "--name",
        "kc",
        "-p",
        "127.0.0.1::80",
        "img",
        "sleep",
        "1000",
    ];
    let attached = t.points(&run);
    assert!(
        attached.contains(&"network.attach.saved".to_string()),
        "{attached:?}"
    );
    t.on_b(&["rm", "-f", "kc"]).ok();
    for p in &attached {
        // The container's removal removes what the killed attach made.
        t.kill_at(p, &run);
        t.on_b(&["rm", "-f", "kc"]).ok();
        assert_eq!(t.rules(), before, "rules after a kill at {p}");
        t.await_veths(1);
        let b = t.on_b(&["network", "inspect", "bridge"]).ok().stdout;
        let v: Value = serde_json::from_str(&b).unwrap();
        assert_eq!(v[0]["Containers"], json!({}), "after a kill at {p}");
    }

    // connect/disconnect: a second network on a running container.
    t.on_b(&["network", "create", "kn"]).ok();
    t.on_b(&sleeper("kc")).ok();
    t.await_veths(2);
    let connect = ["network", "connect", "kn", "kc"];
    let disconnect = ["network", "disconnect", "kn", "kc"];
    let joined = t.points(&connect);
    let left = t.points(&disconnect);
    let attached_to_kn = || {
        let o = t.on_b(&["network", "inspect", "kn"]).ok().stdout;
        let v: Value = serde_json::from_str(&o).unwrap();
        v[0]["Containers"].as_object().unwrap().len()
    };
    for p in &joined {
        t.kill_at(p, &connect);
        t.finish(&disconnect, "is not attached");
        assert_eq!(attached_to_kn(), 0, "after a kill at {p}");
    }
    for p in &left {
        t.on_b(&connect).ok();
        t.kill_at(p, &disconnect);
        t.finish(&disconnect, "is not attached");
        assert_eq!(attached_to_kn(), 0, "after a kill at {p}");
    }
    // A veth a killed connect made before its record goes with the
    // container's namespace.
    t.on_b(&["rm", "-f", "kc"]).ok();
    t.on_b(&["network", "rm", "kn"]).ok();
    t.await_veths(1);
    assert_eq!(t.rules(), before);
    assert!(links_with(&[&t.user_prefix()]).is_empty());
}

#[test]
fn a_port_one_root_publishes_is_taken_for_the_other() {
    let Some(t) = Two::new() else { return };
    let port = common::world::free_port();
    let publish = format!("127.0.0.1:{port}:80");
    let run = |name| {
        vec![
            "run", "-d", "--name", name, "-p", &publish, "img", "sleep", "1000",
        ]
    };
    t.a(&run("web")).ok();
    t.on_b(&["run", "--rm", "img", "true"]).ok();
    let before = t.rules();
    // Root B's rule would come after root A's and never match.
    let o = t.on_b(&run("web"));
    assert_eq!(o.code, 125, "{}", o.stdout);
    let want =
        format!("port already in use 127.0.0.1:{port}/tcp: published by container (endpoint ");
    assert!(
        o.stderr.contains(&want) && o.stderr.contains(") of another yurta root"),
        "{}",
        o.stderr
    );
    assert_eq!(t.rules(), before);
    t.on_b(&["rm", "-f", "web"]).ok();
    t.a(&["rm", "-f", "web"]).ok();
    t.on_b(&run("web")).ok();
    t.on_b(&["rm", "-f", "web"]).ok();
}
