//! `yurta volume` create/ls/inspect/rm/prune end to end, each test with its
//! own --root.

mod common;

use common::Yurta;
use serde_json::Value;

#[test]
fn create_ls_inspect_rm() {
    let y = Yurta::new();
    assert_eq!(y.run(&["volume", "create", "data"]).ok().stdout, "data\n");
    assert_eq!(
        y.run(&["volume", "create", "data"]).ok().stdout,
        "data\n",
        "idempotent"
    );
    y.run(&[
        "volume",
        "create",
        "--label",
        "tier=db",
        "-o",
        "type=tmpfs",
        "-o",
        "device=tmpfs",
        "-o",
        "o=size=1m",
        "fast",
    ])
    .ok();
    let anon = y.run(&["volume", "create"]).ok().stdout.trim().to_string();
    assert_eq!(anon.len(), 64, "{anon}");

    let table = y.run(&["volume", "ls"]).ok().stdout;
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines[0], "DRIVER    VOLUME NAME");
    assert!(
        lines.contains(&"local     data") && lines.contains(&"local     fast"),
        "{table}"
    );
    assert_eq!(lines.len(), 4);
    let q = y
        .run(&["volume", "ls", "-q", "--filter", "label=tier=db"])
        .ok()
        .stdout;
    assert_eq!(q, "fast\n");
    let q = y.run(&["volume", "ls", "-q", "-f", "name=dat"]).ok().stdout;
    assert_eq!(q, "data\n");
    let json = y
        .run(&["volume", "ls", "--format", "json", "-f", "name=fast"])
        .ok()
        .stdout;
    let row: Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(
        (row["Driver"].as_str(), row["Labels"].as_str()),
        (Some("local"), Some("tier=db"))
    );

    let out = y.run(&["volume", "inspect", "data", "fast"]).ok().stdout;
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["Name"], "data");
    assert_eq!(v[0]["Driver"], "local");
    assert_eq!(v[0]["Scope"], "local");
    assert_eq!(v[0]["Labels"], Value::Null);
    let mp = y.root().join("volumes/data/_data");
    assert_eq!(v[0]["Mountpoint"], mp.display().to_string());
    assert!(mp.is_dir());
    assert_eq!(v[1]["Options"]["type"], "tmpfs");
    assert_eq!(v[1]["Labels"]["tier"], "db");
    let f = y
        .run(&["volume", "inspect", "-f", "{{.Driver}}", "data"])
        .ok()
        .stdout;
    assert_eq!(f, "local\n");

    let out = y.run(&["volume", "rm", "data", "nope", "fast"]);
    assert_eq!(out.code, 125);
    assert_eq!(out.stdout, "data\nfast\n");
    assert_eq!(out.stderr, "yurta: get nope: no such volume\n");
    y.run(&["volume", "rm", "-f", "nope"]).ok();
    let q = y.run(&["volume", "ls", "-q"]).ok().stdout;
    assert_eq!(q, format!("{anon}\n"));
}

#[test]
fn bad_input_names_the_value() {
    let y = Yurta::new();
    let e = y.run(&["volume", "create", "a b"]);
    assert_eq!(e.code, 125);
    assert!(
        e.stderr
            .starts_with("yurta: create a b: \"a b\" includes invalid characters"),
        "{}",
        e.stderr
    );
    let e = y.run(&["volume", "create", "-o", "size=1", "vv"]);
    assert!(e.stderr.contains("invalid option \"size\""), "{}", e.stderr);
    let e = y.run(&["volume", "create", "-d", "nfs", "vv"]);
    assert!(e.stderr.contains("driver \"nfs\""), "{}", e.stderr);
    let e = y.run(&["volume", "create", "-o", "novalue", "vv"]);
    assert!(
        e.stderr.contains("invalid option \"novalue\""),
        "{}",
        e.stderr
    );
    let e = y.run(&["volume", "inspect", "ghost"]);
    assert_eq!(
        e.stderr,
        "yurta: inspect ghost: get ghost: no such volume\n"
    );
    let e = y.run(&["volume", "ls", "-f", "colour=red"]);
    assert!(e.stderr.contains("\"colour=red\""), "{}", e.stderr);
}

#[test]
fn in_use_volumes_stay_and_prune_takes_anonymous_unless_all() {
    let y = Yurta::new();
    y.run(&["volume", "create", "named"]).ok();
    y.run(&["volume", "create", "used"]).ok();
    // A container that uses "used" and an anonymous volume (as `create`
    // records them).
    let engine = yurta_engine::VolumeStore::open_root(&y.root()).unwrap();
    let anon = engine.create_anonymous().unwrap().name;
    let id = "c".repeat(64);
    std::fs::create_dir_all(y.root().join("containers").join(&id)).unwrap();
    engine.add_user("used", &id).unwrap();
    let leftover = engine.create_anonymous().unwrap().name;
    std::fs::write(
        y.root().join("volumes").join(&leftover).join("_data/f"),
        "x",
    )
    .unwrap();
    engine.add_user(&anon, &id).unwrap();

    let e = y.run(&["volume", "rm", "-f", "used"]);
    assert_eq!(
        e.stderr,
        format!("yurta: remove used: volume is in use - [{id}]\n")
    );
    let dangling = y
        .run(&["volume", "ls", "-q", "-f", "dangling=true"])
        .ok()
        .stdout;
    assert_eq!(dangling.lines().count(), 2, "{dangling}");
    assert!(dangling.contains("named") && dangling.contains(&leftover));

    let out = y.run_stdin(&["volume", "prune"], "n\n").ok().stdout;
    assert!(out.contains("anonymous local volumes"), "{out}");
    assert_eq!(
        y.run(&["volume", "ls", "-q"]).ok().stdout.lines().count(),
        4
    );
    let out = y.run(&["volume", "prune", "-f"]).ok().stdout;
    assert!(
        out.starts_with(&format!(
            "Deleted Volumes:\n{leftover}\n\nTotal reclaimed space: "
        )),
        "{out}"
    );
    let out = y
        .run(&["volume", "prune", "-a", "-f", "--filter", "label!=keep"])
        .ok()
        .stdout;
    assert!(out.starts_with("Deleted Volumes:\nnamed\n\n"), "{out}");
    let left = y.run(&["volume", "ls", "-q"]).ok().stdout;
    let mut left: Vec<&str> = left.lines().collect();
    left.sort();
    let mut want = vec![anon.as_str(), "used"];
    want.sort();
    assert_eq!(left, want);
}
