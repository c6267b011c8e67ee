//! Root tests with real kernel objects: bridges, veths, test netns, nft.
//! Each test has its own names (pid + number) and cleans up; each ends by
//! checking that none of its links, its table or its netns is left.

mod common;

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener};

use common::*;
use yurta_network::{AttachRequest, CreateOptions, Links, PortSpec};

fn opts(subnet: &str) -> CreateOptions {
    CreateOptions {
        subnet: Some(subnet.into()),
        ..Default::default()
    }
}

fn addr(ip: Ipv4Addr, port: u16) -> SocketAddr {
    SocketAddr::V4(SocketAddrV4::new(ip, port))
}

fn ports(specs: &[&str]) -> Vec<PortSpec> {
    specs.iter().map(|s| PortSpec::parse(s).unwrap()).collect()
}

#[test]
fn create_network_makes_bridge_with_gateway_and_remove_cleans() {
    let Some(f) = fixture(1) else { return };
    let net = f.nets.create("n1", &opts(&f.subnet(0))).unwrap();
    let shown = run("ip", &["-j", "addr", "show", "dev", &net.bridge]);
    assert!(
        shown.contains(&format!("\"local\":\"{}\"", net.gateway)),
        "{shown}"
    );
    assert!(shown.contains("\"UP\""), "{shown}");
    assert!(!table_rules(&f.nets.config().table).is_empty());
    let e = f
        .nets
        .create("n1", &opts(&f.subnet(1)))
        .unwrap_err()
        .to_string();
    assert_eq!(e, "network name already taken: n1");
    let e = f
        .nets
        .create("n2", &opts(&f.subnet(0)))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(&format!("subnet {} overlaps network n1", f.subnet(0))),
        "{e}"
    );
    let auto = f.nets.create("n3", &CreateOptions::default()).unwrap();
    assert_eq!(auto.subnet.to_string(), f.subnet(2));
    let v = f.nets.inspect(&net.id[..12]).unwrap().inspect_json();
    assert_eq!(v["Name"], "n1");
    f.nets.remove("n1").unwrap();
    assert!(!links().contains(&net.bridge));
    let vm_ip = f.nets.lease("n3", "vm1", None).unwrap();
    assert_eq!(vm_ip, auto.subnet.nth(2).unwrap());
    assert_eq!(f.nets.ensure_bridge("n3").unwrap().bridge, auto.bridge);
    assert!(
        f.nets.prune().unwrap().is_empty(),
        "a lease keeps the network"
    );
    let e = f.nets.remove("n3").unwrap_err().to_string();
    assert_eq!(e, "network n3 has active endpoints: vm1");
    f.nets.release("n3", "vm1").unwrap();
    assert_eq!(f.nets.prune().unwrap(), vec!["n3".to_string()]);
    assert!(
        !tables().contains(&f.nets.config().table),
        "table removed with the last network"
    );
    f.finish();
}

#[test]
fn two_containers_ping_each_other_and_the_gateway() {
    let Some(mut f) = fixture(2) else { return };
    let net = f.nets.create("n", &opts(&f.subnet(0))).unwrap();
    let (a, b) = (f.add_netns(), f.add_netns());
    let ea = f.nets.attach(&AttachRequest::new("n", "ca", &a)).unwrap();
    let mut rb = AttachRequest::new("n", "cb", &b);
    rb.ip = Some(net.subnet.nth(77).unwrap());
    let eb = f.nets.attach(&rb).unwrap();
    assert_eq!(
        (ea.ifname.as_str(), eb.ip),
        ("eth0", net.subnet.nth(77).unwrap())
    );
    assert!(ping(&f.netns[0], eb.ip), "a → b");
    assert!(ping(&f.netns[1], ea.ip), "b → a");
    assert!(ping(&f.netns[0], net.gateway), "a → gateway");
    let e = f.nets.remove("n").unwrap_err().to_string();
    assert_eq!(e, "network n has active endpoints: ca, cb");
    f.finish();
}

#[test]
fn published_ports_on_localhost_gateway_and_hairpin_udp() {
    let Some(mut f) = fixture(3) else { return };
    let net = f.nets.create("n", &opts(&f.subnet(0))).unwrap();
    let ns = f.add_netns();
    let (p1, p2, p3) = (free_port(), free_port(), free_port());
    let mut req = AttachRequest::new("n", "web", &ns);
    let specs = [
        format!("127.0.0.1:{p1}:80"),
        format!("{}:{p2}:80", net.gateway),
        format!("127.0.0.1:{p3}:53/udp"),
    ];
    req.ports = ports(&specs.iter().map(String::as_str).collect::<Vec<_>>());
    let ep = f.nets.attach(&req).unwrap();
    tcp_server(&ns, 80, "hello from web");
    udp_server(&ns, 53, "udp reply");
    assert_eq!(
        tcp_get(addr(Ipv4Addr::LOCALHOST, p1)).unwrap(),
        "hello from web"
    );
    assert_eq!(tcp_get(addr(net.gateway, p2)).unwrap(), "hello from web");
    let hairpin = in_netns(&ns, || tcp_get(addr(net.gateway, p2)));
    assert_eq!(
        hairpin.unwrap(),
        "hello from web",
        "container → its own published port"
    );
    assert_eq!(udp_get(addr(Ipv4Addr::LOCALHOST, p3)).unwrap(), "udp reply");
    assert_eq!(ep.ports.len(), 3);
    f.finish();
}

#[test]
fn range_of_100_ports_is_rules_not_processes() {
    let Some(mut f) = fixture(4) else { return };
    f.nets.create("n", &opts(&f.subnet(0))).unwrap();
    let ns = f.add_netns();
    let table = f.nets.config().table.clone();
    let base = 20000 + (std::process::id() % 200) as u16 * 100;
    let (before, procs) = (table_rules(&table), process_count());
    let mut req = AttachRequest::new("n", "many", &ns);
    req.ports = ports(&[&format!("127.0.0.1:{base}-{}:1000-1099", base + 99)]);
    let ep = f.nets.attach(&req).unwrap();
    assert_eq!(ep.ports.len(), 100);
    let after = table_rules(&table);
    assert_eq!(after.len(), before.len() + 100);
    assert_eq!(helper_processes(), 0, "no helper processes");
    assert!(process_count() < procs + 50, "no process per port");
    tcp_server(&ns, 1042, "port 1042");
    assert_eq!(
        tcp_get(addr(Ipv4Addr::LOCALHOST, base + 42)).unwrap(),
        "port 1042"
    );
    f.nets.detach("n", "many").unwrap();
    assert_eq!(table_rules(&table), before, "exactly its rules are gone");
    assert!(!links().contains(&ep.host_veth), "veth gone");
    f.finish();
}

#[test]
fn port_conflicts_name_the_port() {
    let Some(mut f) = fixture(5) else { return };
    f.nets.create("n", &opts(&f.subnet(0))).unwrap();
    let (a, b) = (f.add_netns(), f.add_netns());
    let p = free_port();
    let mut ra = AttachRequest::new("n", "ca", &a);
    ra.container_name = "first";
    ra.ports = ports(&[&format!("{p}:80")]);
    f.nets.attach(&ra).unwrap();
    let mut rb = AttachRequest::new("n", "cb", &b);
    rb.ports = ports(&[&format!("127.0.0.1:{p}:80")]);
    let e = f.nets.attach(&rb).unwrap_err().to_string();
    assert_eq!(
        e,
        format!("port already in use 127.0.0.1:{p}/tcp: published by container first")
    );
    let host = TcpListener::bind("127.0.0.1:0").unwrap();
    let hp = host.local_addr().unwrap().port();
    rb.ports = ports(&[&format!("{hp}:80")]);
    let e = f.nets.attach(&rb).unwrap_err().to_string();
    assert_eq!(
        e,
        format!("port already in use {hp}/tcp: a host process listens on it")
    );
    assert_eq!(
        f.nets.inspect("n").unwrap().endpoints.len(),
        1,
        "failed attaches leave nothing"
    );
    rb.ports = ports(&["80"]);
    let eb = f.nets.attach(&rb).unwrap();
    assert!(eb.ports[0].host_port >= 1024);
    f.finish();
}

#[test]
fn ipam_exhaustion_on_a_slash_30() {
    let Some(mut f) = fixture(6) else { return };
    let sub = f.subnet(0).replace("/24", "/30");
    f.nets.create("tiny", &opts(&sub)).unwrap();
    let (a, b) = (f.add_netns(), f.add_netns());
    f.nets
        .attach(&AttachRequest::new("tiny", "ca", &a))
        .unwrap();
    let e = f
        .nets
        .attach(&AttachRequest::new("tiny", "cb", &b))
        .unwrap_err()
        .to_string();
    assert_eq!(e, format!("no free address left in network tiny ({sub})"));
    let links_now = links();
    assert_eq!(
        links_now
            .iter()
            .filter(|l| l.starts_with(&f.nets.config().veth_prefix))
            .count(),
        1
    );
    f.nets.detach("tiny", "ca").unwrap();
    f.nets
        .attach(&AttachRequest::new("tiny", "cb", &b))
        .unwrap();
    f.finish();
}

#[test]
fn default_network_and_managed_hosts() {
    let Some(mut f) = fixture(7) else { return };
    let all = f.nets.list().unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(
        (all[0].name.as_str(), all[0].bridge.as_str()),
        ("bridge", f.nets.config().default_bridge.as_str())
    );
    let e = f.nets.remove("bridge").unwrap_err().to_string();
    assert!(e.contains("default network"), "{e}");
    f.nets.create("u", &opts(&f.subnet(0))).unwrap();
    let (a, b) = (f.add_netns(), f.add_netns());
    let hosts_a = f.dir.path().join("hosts-a");
    std::fs::write(&hosts_a, "127.0.0.1\tlocalhost\n").unwrap();
    let mut ra = AttachRequest::new("u", "aaaaaaaaaaaaaaaa", &a);
    ra.container_name = "alpha";
    ra.hosts_file = Some(hosts_a.clone());
    f.nets.attach(&ra).unwrap();
    let mut rb = AttachRequest::new("u", "bbbbbbbbbbbbbbbb", &b);
    rb.container_name = "beta";
    rb.aliases = vec!["db".into()];
    let eb = f.nets.attach(&rb).unwrap();
    let text = std::fs::read_to_string(&hosts_a).unwrap();
    assert!(
        text.contains(&format!("{}\tbeta db bbbbbbbbbbbb\n", eb.ip)),
        "{text}"
    );
    let ed = f
        .nets
        .attach(&AttachRequest::new("bridge", "bbbbbbbbbbbbbbbb", &b))
        .unwrap();
    assert_eq!(ed.ifname, "eth1");
    f.nets
        .detach_all("bbbbbbbbbbbbbbbb", Links::Delete)
        .unwrap();
    assert!(!std::fs::read_to_string(&hosts_a).unwrap().contains("beta"));
    f.finish();
}

#[test]
fn rules_recreated_when_flushed_and_detach_removes_only_the_endpoints() {
    let Some(mut f) = fixture(8) else { return };
    let table = f.nets.config().table.clone();
    f.nets.create("n", &opts(&f.subnet(0))).unwrap();
    let base = table_rules(&table);
    assert!(!base.is_empty());
    // A flushed ruleset (reboot, `nft flush ruleset`): the next attach
    // brings table and network rules back.
    run("nft", &["delete", "table", "ip", &table]);
    let (a, b) = (f.add_netns(), f.add_netns());
    f.nets.attach(&AttachRequest::new("n", "ca", &a)).unwrap();
    assert_eq!(table_rules(&table), base);
    let mut rb = AttachRequest::new("n", "cb", &b);
    rb.ports = ports(&[&format!("127.0.0.1:{}:80", free_port())]);
    f.nets.attach(&rb).unwrap();
    let with_port = table_rules(&table);
    assert_eq!(with_port.len(), base.len() + 1);
    // No ports: nothing of the table goes; ports: exactly its rule goes.
    f.nets.detach("n", "ca").unwrap();
    assert_eq!(table_rules(&table), with_port);
    f.nets.detach("n", "cb").unwrap();
    assert_eq!(table_rules(&table), base);
    f.finish();
}

#[test]
fn veths_left_to_the_namespace_go_with_it() {
    let Some(mut f) = fixture(12) else { return };
    let net = f.nets.create("n", &opts(&f.subnet(0))).unwrap();
    let ns = f.add_netns();
    let ep = f.nets.attach(&AttachRequest::new("n", "ca", &ns)).unwrap();
    f.nets.detach_all("ca", Links::DieWithNamespace).unwrap();
    // Released at once: address and endpoint; the link is the kernel's.
    let n = f.nets.inspect("n").unwrap();
    assert!(n.endpoints.is_empty() && n.allocations.is_empty(), "{n:?}");
    assert!(
        links().contains(&ep.host_veth),
        "deleted before its namespace"
    );
    run("ip", &["netns", "del", &f.netns.pop().unwrap()]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while links().contains(&ep.host_veth) {
        assert!(
            std::time::Instant::now() < deadline,
            "{} outlived its namespace",
            ep.host_veth
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // The address is free for the next container.
    let ns2 = f.add_netns();
    let mut r = AttachRequest::new("n", "cb", &ns2);
    r.ip = Some(ep.ip);
    assert_eq!(f.nets.attach(&r).unwrap().ip, ep.ip);
    drop(net);
    f.finish();
}
