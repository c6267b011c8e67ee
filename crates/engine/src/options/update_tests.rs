use serde_json::json;

use super::*;
use crate::record::RestartPolicy;

fn hc() -> HostConfig {
    HostConfig {
        memory: 64 << 20,
        memory_swap: 128 << 20,
        restart_policy: RestartPolicy {
            name: "no".into(),
            maximum_retry_count: 0,
        },
        ..Default::default()
    }
}

fn update(set: impl FnOnce(&mut UpdateOptions)) -> Result<(HostConfig, Updated), String> {
    let mut u = UpdateOptions::default();
    set(&mut u);
    let mut h = hc();
    let up = u.apply(&mut h, 2).map_err(|e| e.to_string())?;
    Ok((h, up))
}

#[test]
fn limits_are_merged_over_the_host_config() {
    let (h, up) = update(|u| {
        u.memory = Some("100m".into());
        u.cpus = Some("1.5".into());
        u.cpu_shares = Some(512);
        u.pids_limit = Some(50);
    })
    .unwrap();
    assert_eq!((h.memory, h.memory_swap), (100 << 20, 128 << 20));
    assert_eq!(
        (h.nano_cpus, h.cpu_shares, h.pids_limit),
        (1_500_000_000, 512, Some(50))
    );
    assert_eq!(
        up,
        Updated {
            memory: true,
            cpu: true,
            pids: true,
            restart: false
        }
    );
    assert_eq!(
        resources(&h, &up),
        json!({
            "memory": {"limit": 100 << 20, "swap": 128 << 20},
            "cpu": {"quota": 150000, "period": 100000, "shares": 512},
            "pids": {"limit": 50},
        })
    );
    // Only what was asked for reaches the cgroup.
    let (h, up) = update(|u| u.pids_limit = Some(-1)).unwrap();
    assert_eq!(h.pids_limit, None);
    assert_eq!(resources(&h, &up), json!({"pids": {"limit": -1}}));
    let (h, up) = update(|u| u.memory_swap = Some("-1".into())).unwrap();
    assert_eq!(
        resources(&h, &up),
        json!({"memory": {"limit": 64 << 20, "swap": -1}})
    );
}

#[test]
fn restart_policy_and_auto_remove() {
    let (h, up) = update(|u| u.restart = Some("on-failure:3".into())).unwrap();
    assert_eq!(h.restart_policy.name, "on-failure");
    assert_eq!(h.restart_policy.maximum_retry_count, 3);
    assert!(up.restart && !up.resources());
    let mut h = hc();
    h.auto_remove = true;
    let u = UpdateOptions {
        restart: Some("always".into()),
        ..Default::default()
    };
    assert_eq!(
        u.apply(&mut h, 2).unwrap_err().to_string(),
        "invalid --restart \"always\": Restart policy cannot be updated because AutoRemove is enabled for the container"
    );
    let no = UpdateOptions {
        restart: Some("no".into()),
        ..Default::default()
    };
    assert!(no.apply(&mut h, 2).is_ok());
}

type Case = (fn(&mut UpdateOptions), &'static str);

#[test]
fn errors_name_the_value_and_change_nothing() {
    let cases: Vec<Case> = vec![
        (|u| *u = UpdateOptions::default(), "you must provide one or more flags when using this command"),
        (|u| u.memory = Some("12x".into()), "invalid memory size \"12x\""),
        (|u| u.memory = Some("1m".into()), "invalid --memory \"1m\": Minimum memory limit allowed is 6MB"),
        (
            |u| u.memory = Some("200m".into()),
            "invalid --memory \"200m\": Memory limit should be smaller than already set memoryswap limit (134217728 bytes), update the memoryswap at the same time",
        ),
        (
            |u| u.memory_swap = Some("32m".into()),
            "Minimum memory-swap limit should be larger than memory limit",
        ),
        (
            |u| u.cpus = Some("3".into()),
            "invalid --cpus \"3\": Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available",
        ),
        (|u| u.cpu_shares = Some(-5), "invalid --cpu-shares -5"),
        (|u| u.cpuset_cpus = Some("x".into()), "invalid --cpuset-cpus \"x\""),
        (|u| u.restart = Some("sometimes".into()), "invalid restart policy \"sometimes\""),
        (
            |u| {
                u.memory = Some("100m".into());
                u.restart = Some("bad".into());
            },
            "invalid restart policy \"bad\"",
        ),
    ];
    for (set, want) in cases {
        let mut u = UpdateOptions::default();
        set(&mut u);
        let mut h = hc();
        let e = u.apply(&mut h, 2).unwrap_err().to_string();
        assert!(e.starts_with(want), "{e:?} does not start with {want:?}");
        assert_eq!(h, hc(), "{want}: the host config changed");
    }
    // A bigger memory with a bigger swap is fine; swap needs a memory limit.
    assert!(update(|u| {
        u.memory = Some("200m".into());
        u.memory_swap = Some("400m".into());
    })
    .is_ok());
    let mut h = HostConfig::default();
    let u = UpdateOptions {
        memory_swap: Some("100m".into()),
        ..Default::default()
    };
    assert!(u.apply(&mut h, 2).is_err());
}
