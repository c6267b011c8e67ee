//! Two state roots on one host with the same names (table, default
//! bridge, prefixes), as root: each root's networks have their own bridge,
//! subnet and rules; removing, pruning and `destroy_all` of one root leave
//! the other's; a default network whose bridge name another network took
//! moves; networks made by an older yurta (rules commented with the
//! bridge's name, an unmarked bridge) are taken over and removed.

mod common;

use std::path::Path;

use common::*;
use yurta_network::nft::{network_script, NetRules};
use yurta_network::{Config, Networks};

/// Root `name` under the fixture's directory, with the fixture's names
/// and a default bridge ending in a letter (`yd<tag>x`, then `yd<tag>x1`:
/// both keep the tag that the leftover check looks for).
fn root(f: &Fixture, name: &str) -> Networks {
    let mut cfg: Config = f.nets.config().clone();
    cfg.root = f.dir.path().join(name);
    cfg.default_bridge = format!("yd{}x", f.tag);
    cfg.pools.default_candidates = vec![f.subnet(3).parse().unwrap(), f.subnet(1).parse().unwrap()];
    Networks::open(cfg).unwrap()
}

fn alias(link: &str) -> String {
    let d = link_details(link).unwrap_or_default();
    d["ifalias"].as_str().unwrap_or("").to_string()
}

/// The table's rules naming `bridge`.
fn rules_of(table: &str, bridge: &str) -> Vec<String> {
    let quoted = format!("\"{bridge}\"");
    table_rules(table)
        .into_iter()
        .filter(|r| r.contains(&quoted))
        .collect()
}

fn comments(table: &str) -> Vec<String> {
    let text = run("nft", &["list", "table", "ip", table]);
    let mut c: Vec<String> = text
        .lines()
        .filter_map(|l| l.split("comment \"").nth(1))
        .map(|c| c.trim_end_matches('"').to_string())
        .collect();
    c.sort();
    c.dedup();
    c
}

fn nft_script(dir: &Path, script: &str) {
    let file = dir.join("script.nft");
    std::fs::write(&file, script).unwrap();
    run("nft", &["-f", file.to_str().unwrap()]);
}

#[test]
fn two_roots_share_the_table_and_nothing_else() {
    let Some(f) = fixture(20) else { return };
    let table = f.nets.config().table.clone();
    let (r1, r2) = (root(&f, "r1"), root(&f, "r2"));
    let d1 = r1.ensure_default().unwrap();
    let d2 = r2.ensure_default().unwrap();
    assert_eq!(d1.bridge, format!("yd{}x", f.tag));
    assert_eq!(d2.bridge, format!("yd{}x1", f.tag));
    assert_eq!(d1.subnet.to_string(), f.subnet(3));
    assert_eq!(d2.subnet.to_string(), f.subnet(1), "root 1's is routed");
    assert_eq!(alias(&d1.bridge), format!("yurta net {}", d1.id));
    assert_eq!(alias(&d2.bridge), format!("yurta net {}", d2.id));
    let c = comments(&table);
    assert!(c.contains(&format!("yurta net {}", d1.id)), "{c:?}");
    assert!(c.contains(&format!("yurta net {}", d2.id)), "{c:?}");
    let mine = rules_of(&table, &d1.bridge);
    assert!(!mine.is_empty());

    let u = r2.create("u", &Default::default()).unwrap();
    assert_eq!(u.subnet.to_string(), f.subnet(2));
    r2.remove("u").unwrap();
    assert!(r2.prune().unwrap().is_empty());
    assert_eq!(rules_of(&table, &d1.bridge), mine);
    assert!(rules_of(&table, &u.bridge).is_empty());
    r2.destroy_all().unwrap();
    assert_eq!(rules_of(&table, &d1.bridge), mine);
    assert!(rules_of(&table, &d2.bridge).is_empty());
    assert!(link_details(&d1.bridge).is_some());
    assert!(link_details(&d2.bridge).is_none());
    r1.destroy_all().unwrap();
    assert!(!tables().contains(&table), "the last root's last network");
    f.finish();
}

#[test]
fn a_default_network_whose_bridge_was_taken_moves() {
    let Some(f) = fixture(21) else { return };
    let r = root(&f, "r");
    let d = r.ensure_default().unwrap();
    // As after a reboot: the bridge is gone, and another network (of
    // another root, say) made one with its name first.
    run("ip", &["link", "del", &d.bridge]);
    run("ip", &["link", "add", "name", &d.bridge, "type", "bridge"]);
    run(
        "ip",
        &["link", "set", "dev", &d.bridge, "alias", "yurta net other"],
    );
    r.lease("bridge", "vm", None).unwrap();
    let e = r.ensure_bridge("bridge").unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "bridge {} belongs to another network (its alias is \"yurta net other\")",
            d.bridge
        )
    );
    r.release("bridge", "vm").unwrap();
    let moved = r.ensure_bridge("bridge").unwrap();
    assert_eq!(moved.bridge, format!("yd{}x1", f.tag));
    assert_eq!((moved.id.as_str(), moved.is_default), (d.id.as_str(), true));
    assert_eq!(alias(&moved.bridge), format!("yurta net {}", d.id));
    assert_eq!(r.inspect("bridge").unwrap().bridge, moved.bridge);
    let table = &f.nets.config().table;
    assert!(rules_of(table, &d.bridge).is_empty());
    assert!(!rules_of(table, &moved.bridge).is_empty());
    r.destroy_all().unwrap();
    assert_eq!(alias(&d.bridge), "yurta net other", "not deleted");
    run("ip", &["link", "del", &d.bridge]);
    f.finish();
}

#[test]
fn networks_of_an_older_yurta_are_taken_over_and_removed() {
    let Some(f) = fixture(22) else { return };
    let table = f.nets.config().table.clone();
    let r = root(&f, "r");
    let d = r.ensure_default().unwrap();
    let rules = rules_of(&table, &d.bridge);
    // As an older yurta left it: rules commented with the bridge's name,
    // a bridge without alias.
    let make_legacy = || {
        let all = yurta_network::nft::Nft::new(&table).rules().unwrap();
        for (chain, handle, _) in all.iter().filter(|(_, _, c)| !c.is_empty()) {
            nft_script(
                f.dir.path(),
                &format!("delete rule ip {table} {chain} handle {handle}\n"),
            );
        }
        let legacy = NetRules {
            id: &d.bridge,
            bridge: &d.bridge,
            subnet: d.subnet,
            internal: false,
        };
        nft_script(f.dir.path(), &network_script(&table, &legacy));
        run("ip", &["link", "set", "dev", &d.bridge, "alias", ""]);
        assert_eq!(comments(&table), [format!("yurta net {}", d.bridge)]);
    };
    make_legacy();
    r.ensure_bridge("bridge").unwrap();
    assert_eq!(comments(&table), [format!("yurta net {}", d.id)]);
    assert_eq!(rules_of(&table, &d.bridge), rules);
    assert_eq!(alias(&d.bridge), format!("yurta net {}", d.id));
    make_legacy();
    r.destroy_all().unwrap();
    assert!(link_details(&d.bridge).is_none());
    assert!(!tables().contains(&table));
    f.finish();
}

/// What a killed attach leaves is named by the store's journal
/// (`.pending.json`); the next verb removes it, unless the record has it
/// (the attach died after saving) or it is not a veth or a tap.
#[test]
fn the_next_verb_removes_what_a_killed_attach_made() {
    let Some(mut f) = fixture(23) else { return };
    let r = root(&f, "r");
    let net = r.create("n", &Default::default()).unwrap();
    let ns = f.add_netns();
    let ep = r
        .attach(&yurta_network::AttachRequest::new("n", "c1", &ns))
        .unwrap();
    let journal = f.dir.path().join("r/networks/.pending.json");
    let dead = |link: &str| {
        let p = format!(r#"{{"network":"n","link":"{link}","endpoint_id":null}}"#);
        std::fs::write(&journal, p).unwrap();
        r.list().unwrap();
        assert!(!journal.exists());
    };
    let orphan = format!("{}zz", f.nets.config().veth_prefix);
    let peer = format!("{}zy", f.nets.config().veth_prefix);
    run(
        "ip",
        &[
            "link", "add", &orphan, "type", "veth", "peer", "name", &peer,
        ],
    );
    dead(&orphan);
    assert!(link_details(&orphan).is_none() && link_details(&peer).is_none());
    dead(&ep.host_veth);
    assert!(link_details(&ep.host_veth).is_some(), "recorded: kept");
    dead(&net.bridge);
    assert!(link_details(&net.bridge).is_some(), "not a veth: kept");
    std::fs::write(&journal, "{\"netw").unwrap();
    r.list().unwrap();
    assert!(!journal.exists(), "a torn journal is dropped");
    r.destroy_all().unwrap();
    f.finish();
}
