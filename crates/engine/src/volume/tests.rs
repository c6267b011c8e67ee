use super::*;

fn store() -> (tempfile::TempDir, VolumeStore) {
    let d = tempfile::tempdir().unwrap();
    let s = VolumeStore::open_root(d.path()).unwrap();
    (d, s)
}

fn named(n: &str) -> VolumeCreate {
    VolumeCreate {
        name: Some(n.to_string()),
        ..Default::default()
    }
}

#[test]
fn create_inspect_list_remove() {
    let (d, s) = store();
    let v = s.create(&named("data")).unwrap();
    assert_eq!((v.driver.as_str(), v.scope.as_str()), ("local", "local"));
    assert_eq!(
        Path::new(&v.mountpoint),
        d.path().join("volumes/data/_data")
    );
    assert!(Path::new(&v.mountpoint).is_dir());
    let json = serde_json::to_value(&v).unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "CreatedAt",
            "Driver",
            "Labels",
            "Mountpoint",
            "Name",
            "Options",
            "Scope"
        ]
    );
    assert_eq!(json["Labels"], serde_json::Value::Null);
    assert_eq!(s.create(&named("data")).unwrap(), v, "create is idempotent");
    let anon = s.create_anonymous().unwrap();
    assert!(ids::is_full_id(&anon.name) && anon.is_anonymous());
    let names: Vec<String> = s.list().unwrap().into_iter().map(|v| v.name).collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"data".to_string()));
    s.remove("data", false).unwrap();
    assert_eq!(
        s.read("data").unwrap_err().to_string(),
        "get data: no such volume"
    );
    assert!(s.remove("data", false).is_err());
    s.remove("data", true).unwrap();
}

#[test]
fn bad_names_drivers_and_options() {
    let (_d, s) = store();
    let e = s.create(&named("a b")).unwrap_err().to_string();
    assert!(
        e.starts_with("create a b: \"a b\" includes invalid characters"),
        "{e}"
    );
    let mut req = named("xx");
    req.driver = Some("nfs".into());
    let e = s.create(&req).unwrap_err().to_string();
    assert!(e.contains("\"nfs\""), "{e}");
    let mut req = named("xx");
    req.options.insert("size".into(), "1".into());
    assert!(s.create(&req).unwrap_err().to_string().contains("\"size\""));
    let mut req = named("xx");
    req.options.insert("type".into(), "tmpfs".into());
    assert!(s
        .create(&req)
        .unwrap_err()
        .to_string()
        .contains("\"device\""));
    assert!(s.list().unwrap().is_empty());
}

#[test]
fn users_pin_volumes_until_their_container_is_gone() {
    let (d, s) = store();
    s.create(&named("db")).unwrap();
    let id = "a".repeat(64);
    fs::create_dir_all(d.path().join("containers").join(&id)).unwrap();
    s.add_user("db", &id).unwrap();
    let e = s.remove("db", true).unwrap_err().to_string();
    assert_eq!(e, format!("remove db: volume is in use - [{id}]"));
    assert!(s.prune(true, &|_| true).unwrap().is_empty());
    // The container record vanished without its rm: the use is stale.
    fs::remove_dir(d.path().join("containers").join(&id)).unwrap();
    assert!(s.users("db").unwrap().is_empty());
    s.remove("db", false).unwrap();
    assert!(s
        .add_user("db", &id)
        .unwrap_err()
        .to_string()
        .contains("no such volume"));
}

#[test]
fn prune_takes_anonymous_unless_all() {
    let (_d, s) = store();
    s.create(&named("keep")).unwrap();
    let anon = s.create_anonymous().unwrap();
    fs::write(Path::new(&anon.mountpoint).join("f"), vec![0u8; 5000]).unwrap();
    let removed = s.prune(false, &|_| true).unwrap();
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0].0, anon.name);
    assert!(removed[0].1 >= 5000);
    assert_eq!(s.list().unwrap().len(), 1);
    assert!(s.prune(true, &|v| v.name != "keep").unwrap().is_empty());
    assert_eq!(s.prune(true, &|_| true).unwrap().len(), 1);
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

#[test]
fn tmpfs_and_bind_volumes_are_mounted_while_used() {
    if !is_root() {
        eprintln!("skipping: needs root");
        return;
    }
    let (d, s) = store();
    let mut req = named("fast");
    req.options = [
        ("type", "tmpfs"),
        ("device", "tmpfs"),
        ("o", "size=1m,mode=0750"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    s.create(&req).unwrap();
    let (a, b) = ("a".repeat(64), "b".repeat(64));
    for id in [&a, &b] {
        fs::create_dir_all(d.path().join("containers").join(id)).unwrap();
    }
    let data = s.mount("fast", &a).unwrap();
    assert!(is_mountpoint(&data));
    s.mount("fast", &b).unwrap();
    s.unmount("fast", &a).unwrap();
    assert!(is_mountpoint(&data), "still used by b");
    s.unmount("fast", &b).unwrap();
    assert!(!is_mountpoint(&data));

    let host = tempfile::tempdir().unwrap();
    fs::write(host.path().join("marker"), "m").unwrap();
    let mut req = named("hostdir");
    req.options = [("type", "none"), ("o", "bind,ro")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    req.options
        .insert("device".into(), host.path().display().to_string());
    s.create(&req).unwrap();
    let data = s.mount("hostdir", &a).unwrap();
    assert_eq!(fs::read_to_string(data.join("marker")).unwrap(), "m");
    assert!(fs::write(data.join("x"), "").is_err(), "read-only bind");
    s.unmount("hostdir", &a).unwrap();
    assert!(!is_mountpoint(&data));
    s.remove("hostdir", false).unwrap();
    assert!(
        host.path().join("marker").exists(),
        "rm never touches the device"
    );
}
