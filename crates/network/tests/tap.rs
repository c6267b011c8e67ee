//! Root tests of VMs' taps on yurta's bridges: real persistent taps, the
//! test's own bridges, table and names (see common/mod.rs). Each test ends
//! by checking that none of its links or its table is left.

mod common;

use common::*;
use yurta_network::CreateOptions;

fn opts(subnet: &str) -> CreateOptions {
    CreateOptions {
        subnet: Some(subnet.into()),
        ..Default::default()
    }
}

#[test]
fn tap_joins_the_bridge_and_its_lease_keeps_the_network() {
    let Some(f) = fixture(9) else { return };
    let net = f.nets.create("n", &opts(&f.subnet(0))).unwrap();
    let ep = f.nets.attach_tap("n", "vm1", None).unwrap();
    let prefix = &f.nets.config().tap_prefix;
    assert!(
        ep.tap.starts_with(prefix.as_str()) && ep.tap.len() <= 15,
        "{ep:?}"
    );
    assert_eq!(
        (ep.network.as_str(), ep.bridge.as_str()),
        ("n", net.bridge.as_str())
    );
    assert_eq!(
        (ep.ip, ep.prefix, ep.gateway),
        (net.subnet.nth(2).unwrap(), 24, net.gateway)
    );

    // A persistent tap (IFF_NO_PI, IFF_VNET_HDR) on the bridge, up (no
    // carrier until QEMU opens it).
    let d = link_details(&ep.tap).expect("the tap exists");
    assert_eq!(d["linkinfo"]["info_kind"], "tun", "{d}");
    let info = &d["linkinfo"]["info_data"];
    assert_eq!(info["type"], "tap", "{d}");
    assert_eq!(
        (&info["persist"], &info["vnet_hdr"], &info["pi"]),
        (&true.into(), &true.into(), &false.into()),
        "{d}"
    );
    assert_eq!(d["master"], net.bridge.as_str(), "{d}");
    assert!(link_flags(&d).contains(&"UP".to_string()), "{d}");

    // The lease is recorded and keeps the network.
    let rec = f.nets.inspect("n").unwrap();
    assert_eq!(rec.allocations.get(&ep.ip).map(String::as_str), Some("vm1"));
    assert_eq!(rec.taps.get(&ep.tap).map(String::as_str), Some("vm1"));
    let e = f.nets.remove("n").unwrap_err().to_string();
    assert_eq!(e, "network n has active endpoints: vm1");
    assert!(f.nets.prune().unwrap().is_empty());
    assert!(link_details(&net.bridge).is_some());

    // One tap per owner and network; a taken address names its owner.
    let before = f.own_links();
    let e = f.nets.attach_tap("n", "vm1", None).unwrap_err().to_string();
    assert_eq!(e, format!("vm1 already has address {} in network n", ep.ip));
    let want = net.subnet.nth(50).unwrap();
    let ep2 = f.nets.attach_tap("n", "vm2", Some(want)).unwrap();
    assert_eq!(ep2.ip, want);
    assert_ne!(ep2.tap, ep.tap);
    let e = f
        .nets
        .attach_tap("n", "vm3", Some(want))
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        format!("address {want} is already in use in network n (by vm2)")
    );
    let mut expected = before.clone();
    expected.push(ep2.tap.clone());
    expected.sort();
    assert_eq!(f.own_links(), expected, "failed attaches make no links");

    // Another owner's tap is not deleted.
    let e = f
        .nets
        .detach_tap("n", "vm1", &ep2.tap)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        format!(
            "tap {} in network n belongs to vm2, not to vm1; not deleting it",
            ep2.tap
        )
    );
    let e = f
        .nets
        .detach_tap("nosuch", "vm1", &ep2.tap)
        .unwrap_err()
        .to_string();
    assert!(
        e.ends_with("belongs to vm2, not to vm1; not deleting it"),
        "{e}"
    );
    assert!(link_details(&ep2.tap).is_some() && link_details(&ep.tap).is_some());
    assert_eq!(
        f.nets
            .inspect("n")
            .unwrap()
            .allocations
            .get(&want)
            .map(String::as_str),
        Some("vm2")
    );

    // Detach removes tap and lease; again (after a reboot, say) is fine.
    f.nets.detach_tap("n", "vm2", &ep2.tap).unwrap();
    assert!(link_details(&ep2.tap).is_none(), "tap deleted");
    let rec = f.nets.inspect("n").unwrap();
    assert!(!rec.allocations.contains_key(&want) && !rec.taps.contains_key(&ep2.tap));
    f.nets.detach_tap("n", "vm2", &ep2.tap).unwrap();
    let e = f.nets.remove("n").unwrap_err().to_string();
    assert_eq!(
        e, "network n has active endpoints: vm1",
        "vm1's lease stays"
    );

    // vm1's tap is left to destroy_all (uninstall, the fixture's teardown),
    // which deletes recorded taps: finish checks that no link is left.
    f.finish();
}

#[test]
fn tap_opened_by_name_like_qemu_reaches_the_gateway() {
    let Some(f) = fixture(10) else { return };
    let net = f.nets.create("n", &opts(&f.subnet(0))).unwrap();
    let ep = f.nets.attach_tap("n", "vm", None).unwrap();
    let mut tap = open_tap(&ep.tap).unwrap();
    let d = link_details(&ep.tap).unwrap();
    assert!(
        link_flags(&d).contains(&"LOWER_UP".to_string()),
        "carrier with an open fd: {d}"
    );
    assert!(
        arp_through_tap(&mut tap, ep.ip, net.gateway),
        "ARP reply from the gateway through the tap"
    );
    drop(tap);
    // Still there once the fd (QEMU) is gone: it is persistent.
    assert!(link_details(&ep.tap).is_some());
    f.nets.detach_tap("n", "vm", &ep.tap).unwrap();
    assert!(link_details(&ep.tap).is_none());
    f.nets.remove("n").unwrap();
    f.finish();
}

#[test]
fn failed_tap_attach_leaves_no_link_and_no_lease() {
    let Some(f) = fixture(11) else { return };
    let before = f.own_links();
    let e = f
        .nets
        .attach_tap("nosuch", "vm", None)
        .unwrap_err()
        .to_string();
    assert_eq!(e, "no such network: nosuch");
    let e = f
        .nets
        .attach_tap("bridge", "", None)
        .unwrap_err()
        .to_string();
    assert_eq!(e, "a tap needs an owner (the VM's name)");
    assert_eq!(f.own_links(), before);

    // An exhausted /30.
    let sub = f.subnet(0).replace("/24", "/30");
    f.nets.create("tiny", &opts(&sub)).unwrap();
    let first = f.nets.attach_tap("tiny", "vm1", None).unwrap();
    let before = f.own_links();
    let e = f
        .nets
        .attach_tap("tiny", "vm2", None)
        .unwrap_err()
        .to_string();
    assert_eq!(e, format!("no free address left in network tiny ({sub})"));
    assert_eq!(f.own_links(), before);
    let rec = f.nets.inspect("tiny").unwrap();
    assert_eq!(rec.allocations.values().collect::<Vec<_>>(), ["vm1"]);
    assert_eq!(rec.taps.keys().collect::<Vec<_>>(), [&first.tap]);

    // A failure once the tap exists: the "bridge" is a veth, which cannot
    // take ports. The tap is deleted again, nothing is leased.
    let net = f.nets.create("n", &opts(&f.subnet(1))).unwrap();
    run("ip", &["link", "del", &net.bridge]);
    let peer = format!("{}z", f.nets.config().veth_prefix);
    run(
        "ip",
        &[
            "link",
            "add",
            &net.bridge,
            "type",
            "veth",
            "peer",
            "name",
            &peer,
        ],
    );
    let before = f.own_links();
    let e = f.nets.attach_tap("n", "vm", None).unwrap_err().to_string();
    let want = format!(" on bridge {}: netlink set link ", net.bridge);
    assert!(
        e.starts_with(&format!("put tap {}", f.nets.config().tap_prefix)) && e.contains(&want),
        "{e}"
    );
    assert_eq!(f.own_links(), before, "the tap is gone");
    let rec = f.nets.inspect("n").unwrap();
    assert!(rec.allocations.is_empty() && rec.taps.is_empty(), "{rec:?}");

    // Detach deletes only taps.
    let e = f
        .nets
        .detach_tap("n", "vm", &net.bridge)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        format!(
            "link {} is not a tap (kind veth); not deleting it",
            net.bridge
        )
    );
    assert!(link_details(&net.bridge).is_some());
    f.finish();
}
