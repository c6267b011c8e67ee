use super::*;
use crate::record::Status;

fn store() -> (tempfile::TempDir, ContainerStore) {
    let d = tempfile::tempdir().unwrap();
    let s = ContainerStore::open_root(d.path()).unwrap();
    (d, s)
}

fn blank(image: &str) -> impl FnOnce(&str, &str) -> ContainerRecord + '_ {
    move |_, _| ContainerRecord {
        image: image.to_string(),
        ..Default::default()
    }
}

#[test]
fn create_names_and_lookup() {
    let (_d, s) = store();
    let a = s.create(Some("web"), blank("sha256:aa")).unwrap();
    assert_eq!(a.name, "/web");
    assert!(ids::is_full_id(&a.id));
    let b = s.create(None, blank("sha256:bb")).unwrap();
    assert!(ids::validate_name(b.bare_name()).is_ok(), "{}", b.name);
    assert_eq!(s.lookup("web").unwrap().id, a.id);
    assert_eq!(s.lookup("/web").unwrap().id, a.id);
    assert_eq!(s.lookup(&a.id).unwrap().name, "/web");
    assert_eq!(s.lookup(&a.id[..5]).unwrap().id, a.id);
    assert_eq!(s.lookup(b.bare_name()).unwrap().id, b.id);
    let err = s.lookup("nope").unwrap_err().to_string();
    assert_eq!(err, "No such container: nope");
    assert_eq!(s.list().unwrap().len(), 2);
    let err = s.create(Some("web"), blank("x")).unwrap_err().to_string();
    assert!(
        err.contains("\"/web\" is already in use by container \"") && err.contains(&a.id),
        "{err}"
    );
    let err = s.create(Some("-x"), blank("x")).unwrap_err().to_string();
    assert!(err.contains("\"-x\""), "{err}");
}

#[test]
fn a_name_wins_over_an_id_prefix_and_prefixes_can_be_ambiguous() {
    let (_d, s) = store();
    let mut made = Vec::new();
    for _ in 0..40 {
        made.push(s.create(None, blank("x")).unwrap());
    }
    // Some pair shares its first hex digit among 40 IDs.
    let first: Vec<char> = made.iter().map(|r| r.id.chars().next().unwrap()).collect();
    let c = first
        .iter()
        .find(|c| first.iter().filter(|d| d == c).count() > 1)
        .unwrap();
    let err = s.lookup(&c.to_string()).unwrap_err().to_string();
    assert!(err.contains("multiple containers"), "{err}");
    let named = s.create(Some(&made[0].id[..6]), blank("x")).unwrap();
    assert_eq!(s.lookup(&made[0].id[..6]).unwrap().id, named.id);
}

#[test]
fn an_unreadable_record_does_not_hide_the_others() {
    let (_d, s) = store();
    let a = s.create(Some("fine"), blank("x")).unwrap();
    let b = s.create(Some("torn"), blank("x")).unwrap();
    // What an unsynced write can leave after a crash.
    fs::write(s.container_dir(&b.id).join("container.json"), "").unwrap();
    let (ok, bad) = s.list_checked().unwrap();
    assert_eq!(ok.iter().map(|r| &r.id).collect::<Vec<_>>(), [&a.id]);
    assert!(bad.len() == 1 && bad[0].contains(&b.id), "{bad:?}");
    assert_eq!(s.list().unwrap().len(), 1);
}

#[test]
fn an_update_that_changes_nothing_writes_nothing() {
    use std::os::unix::fs::MetadataExt;
    let (_d, s) = store();
    let a = s.create(Some("same"), blank("x")).unwrap();
    let path = s.container_dir(&a.id).join("container.json");
    let inode = || fs::metadata(&path).unwrap().ino();
    let before = inode();
    s.update(&a.id, |r| r.state.pid = 0).unwrap();
    assert_eq!(inode(), before, "a no-op update replaced the file");
    s.update(&a.id, |r| r.state.pid = 7).unwrap();
    assert_ne!(inode(), before, "a real change is written (renamed in)");
}

#[test]
fn update_is_atomic_and_remove_hides_at_once() {
    let (d, s) = store();
    let a = s.create(Some("db"), blank("x")).unwrap();
    let r = s
        .update(&a.id, |r| {
            r.state.set_status(Status::Running);
            r.state.pid = 42;
        })
        .unwrap();
    assert!(r.state.running);
    assert_eq!(s.read(&a.id).unwrap().state.pid, 42);
    let files: Vec<_> = fs::read_dir(s.container_dir(&a.id))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(
        files.iter().all(|f| f == "container.json" || f == "lock"),
        "{files:?}"
    );
    let renamed = s.rename("db", "db2").unwrap();
    assert_eq!(renamed.name, "/db2");
    s.create(Some("db"), blank("x")).unwrap();
    assert!(s
        .rename("db2", "db")
        .unwrap_err()
        .to_string()
        .contains("already in use"));
    s.remove(&a.id).unwrap();
    s.remove(&a.id).unwrap();
    assert!(matches!(s.lookup("db2"), Err(ContainerError::NotFound(_))));
    fs::create_dir(d.path().join("containers/.new-x")).unwrap();
    assert_eq!(s.clean_stale().unwrap(), 1);
}

#[test]
fn concurrent_creates_never_share_a_name() {
    let (_d, s) = store();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let s = s.clone();
            std::thread::spawn(move || s.create(Some("same"), blank("x")).is_ok())
        })
        .collect();
    let ok = threads
        .into_iter()
        .filter(|_| true)
        .map(|t| t.join().unwrap());
    assert_eq!(ok.filter(|b| *b).count(), 1);
}

#[test]
fn inspect_has_dockers_fields_only() {
    let r = ContainerRecord {
        id: "a".repeat(64),
        name: "/x".into(),
        ..Default::default()
    };
    let v = r.inspect();
    for k in [
        "Id",
        "Name",
        "Created",
        "Path",
        "Args",
        "State",
        "Image",
        "Config",
        "HostConfig",
        "NetworkSettings",
        "Mounts",
        "LogPath",
        "RestartCount",
    ] {
        assert!(v.get(k).is_some(), "{k}");
    }
    assert!(v.get("Yurta").is_none());
    let st = &v["State"];
    assert_eq!(st["Status"], "created");
    assert_eq!(st["StartedAt"], "0001-01-01T00:00:00Z");
    for k in [
        "Running",
        "Paused",
        "Restarting",
        "OOMKilled",
        "Dead",
        "Pid",
        "ExitCode",
        "Error",
        "FinishedAt",
    ] {
        assert!(st.get(k).is_some(), "{k}");
    }
    assert_eq!(v["HostConfig"]["LogConfig"]["Type"], "json-file");
    assert_eq!(v["HostConfig"]["RestartPolicy"]["MaximumRetryCount"], 0);
    assert!(v["NetworkSettings"].get("IPAddress").is_some());
}
