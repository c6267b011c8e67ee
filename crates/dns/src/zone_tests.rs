use std::collections::BTreeMap;

use yurta_network::EndpointRecord;

use super::*;
use crate::wire::{parse_query, query, TYPE_A, TYPE_AAAA};

const TYPE_MX: u16 = 15;

fn net(name: &str, default: bool, internal: bool, eps: &[(&str, &str, &[&str], u8)]) -> Network {
    let mut endpoints = BTreeMap::new();
    for (id, cname, aliases, last) in eps {
        endpoints.insert(
            id.to_string(),
            EndpointRecord {
                container_id: id.to_string(),
                container_name: cname.to_string(),
                aliases: aliases.iter().map(|a| a.to_string()).collect(),
                endpoint_id: format!("ep{id}"),
                ip: Ipv4Addr::new(10, 110, 0, *last),
                mac: String::new(),
                ifname: "eth0".into(),
                host_veth: String::new(),
                ports: vec![],
                hosts_file: None,
                netns: Some(format!("/ns/{id}").into()),
                dns_servers: vec![],
            },
        );
    }
    let text = serde_json::json!({
        "name": name, "id": format!("id{name}"), "created": "", "driver": "bridge",
        "bridge": "b", "subnet": "10.110.0.0/24", "gateway": "10.110.0.1",
        "internal": internal, "is_default": default,
    });
    let mut n: Network = serde_json::from_value(text).unwrap();
    n.endpoints = endpoints;
    n
}

/// Namespaces by path: `/ns/<id>` → inode of the id's first byte.
fn ns_of(p: &Path) -> Option<NsId> {
    let id = p.file_name()?.to_str()?;
    Some(NsId {
        dev: 1,
        ino: u64::from(id.as_bytes()[0]),
    })
}

fn client<'a>(z: &'a Zone, id: &str) -> &'a Client {
    let ns = ns_of(Path::new(&format!("/ns/{id}"))).unwrap();
    &z.clients()[&ns]
}

fn ip(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 110, 0, last)
}

#[test]
fn names_are_scoped_to_the_clients_networks() {
    let nets = [
        net(
            "n1",
            false,
            false,
            &[("aaa", "db", &["database"], 2), ("bbb", "web", &[], 3)],
        ),
        net(
            "n2",
            false,
            false,
            &[("ccc", "other", &[], 4), ("bbb", "web", &[], 5)],
        ),
        net("bridge", true, false, &[("ddd", "plain", &[], 6)]),
    ];
    let z = Zone::build(&nets, ns_of);
    // Only namespaces on user networks are clients.
    assert_eq!(z.clients().len(), 3);
    let a = client(&z, "aaa");
    assert_eq!(z.lookup(a, "db"), vec![ip(2)]);
    assert_eq!(z.lookup(a, "database"), vec![ip(2)]);
    assert_eq!(z.lookup(a, "web"), vec![ip(3)]);
    assert_eq!(z.lookup(a, "web.n1"), vec![ip(3)]);
    assert_eq!(z.lookup(a, "aaa"), vec![ip(2)], "short id");
    assert!(z.lookup(a, "other").is_empty(), "n2 is not a's network");
    assert!(
        z.lookup(a, "plain").is_empty(),
        "the default network has no names"
    );
    let b = client(&z, "bbb");
    assert_eq!(z.lookup(b, "web"), vec![ip(3), ip(5)]);
    assert_eq!(z.lookup(b, "other"), vec![ip(4)]);
    assert_eq!(z.lookup(b, "web.n2"), vec![ip(5)]);
    assert_eq!(z.reverse(a, ip(3)).as_deref(), Some("web.n1"));
    assert_eq!(z.reverse(a, ip(4)), None);
}

#[test]
fn answers_a_aaaa_ptr_and_forwards_the_rest() {
    let nets = [net("n1", false, false, &[("aaa", "db", &[], 2)])];
    let z = Zone::build(&nets, ns_of);
    let a = client(&z, "aaa");
    let ask = |name: &str, t| z.resolve(a, &parse_query(&query(1, name, t, false)).unwrap());
    assert_eq!(
        ask("DB", TYPE_A),
        Outcome::Reply(Rcode::NoError, vec![Answer::A(ip(2))])
    );
    assert_eq!(ask("db", TYPE_AAAA), Outcome::Reply(Rcode::NoError, vec![]));
    assert_eq!(ask("db", TYPE_MX), Outcome::Reply(Rcode::NoError, vec![]));
    assert_eq!(ask("example.org", TYPE_A), Outcome::Forward);
    assert_eq!(
        ask("2.0.110.10.in-addr.arpa", wire::TYPE_PTR),
        Outcome::Reply(Rcode::NoError, vec![Answer::Ptr("db.n1".into())])
    );
    assert_eq!(
        ask("9.0.110.10.in-addr.arpa", wire::TYPE_PTR),
        Outcome::Forward
    );
}

#[test]
fn upstream_servers() {
    let mut nets = [net("n1", false, false, &[("aaa", "db", &[], 2)])];
    let z = Zone::build(&nets, ns_of);
    let a = client(&z, "aaa");
    let host = nameservers("search x\nnameserver 127.0.0.53\nnameserver 192.0.2.1\nnameserver ::1\nnameserver fe80::1\n");
    let up = upstreams(a, &host);
    let shown: Vec<(String, bool)> = up
        .iter()
        .map(|u| (u.addr.to_string(), u.from_host))
        .collect();
    assert_eq!(
        shown,
        [
            ("127.0.0.53:53".to_string(), true),
            ("192.0.2.1:53".to_string(), false),
            ("[::1]:53".to_string(), true),
        ]
    );
    assert_eq!(upstreams(a, &[]).len(), 2, "Docker's fallback");
    // --dns wins; an internal-only client forwards nothing from the host.
    nets[0].endpoints.get_mut("aaa").unwrap().dns_servers = vec!["10.0.0.53".parse().unwrap()];
    let z = Zone::build(&nets, ns_of);
    let up = upstreams(client(&z, "aaa"), &host);
    assert_eq!(up.len(), 1);
    assert_eq!(
        (up[0].addr.to_string(), up[0].from_host),
        ("10.0.0.53:53".into(), false)
    );
    let internal = [net("n1", false, true, &[("aaa", "db", &[], 2)])];
    let z = Zone::build(&internal, ns_of);
    let c = client(&z, "aaa");
    assert!(c.internal_only);
    assert!(upstreams(c, &nameservers("nameserver 127.0.0.53\n")).is_empty());
}

#[test]
fn no_namespace_no_client() {
    let mut n = net("n1", false, false, &[("aaa", "db", &[], 2)]);
    n.endpoints.get_mut("aaa").unwrap().netns = None;
    let z = Zone::build(&[n], ns_of);
    assert!(z.clients().is_empty());
    let d = tempfile::tempdir().unwrap();
    assert!(Zone::load(d.path()).clients().is_empty());
    assert_eq!(NsId::of_path(d.path()), None, "not a namespace file");
}
