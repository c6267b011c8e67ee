//! Checks before anything is made, as root (`common::world`): names longer
//! than allowed, `--cpus` above the host's CPUs, Docker's warning for an
//! image of another platform, and the list verbs' aliases.

mod common;

use common::world::World;

/// One line on stderr naming `value`, exit 125.
fn refused(o: &common::Out, value: &str) {
    assert_eq!(o.code, 125, "{}", o.stderr);
    assert_eq!(o.stderr.lines().count(), 1, "{}", o.stderr);
    assert!(o.stderr.contains(value), "{}", o.stderr);
}

#[test]
fn names_longer_than_allowed_are_refused_and_nothing_is_left() {
    let Some(w) = World::new() else { return };
    let long = |n: usize| "a".repeat(n);
    let o = w.run(&["run", "--name", &long(254), "img", "true"]);
    refused(&o, &long(254));
    assert!(
        o.stderr.contains("is too long: 254 bytes, at most 253"),
        "{}",
        o.stderr
    );
    w.run(&["create", "--name", &long(253), "img", "true"]).ok();
    w.run(&["rm", &long(253)]).ok();
    // A volume is a directory: 245 bytes (NAME_MAX less ".removing-").
    let o = w.run(&["volume", "create", &long(246)]);
    refused(&o, &long(246));
    let o = w.run(&[
        "run",
        "--rm",
        "-v",
        &format!("{}:/d", long(246)),
        "img",
        "true",
    ]);
    refused(&o, &long(246));
    let o = w.run(&[
        "run",
        "--mount",
        &format!("type=volume,source={},target=/d", long(300)),
        "img",
        "true",
    ]);
    refused(&o, &long(300));
    assert_eq!(w.run(&["ps", "-aq"]).ok().stdout, "");
    assert_eq!(w.run(&["volume", "ls", "-q"]).ok().stdout, "");
    w.run(&["volume", "create", &long(245)]).ok();
    w.run(&["volume", "rm", &long(245)]).ok();
    let left: Vec<_> = std::fs::read_dir(w.y.root().join("volumes"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| n != "volumes.lock")
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn cpus_above_the_host_s_count_are_refused() {
    let Some(w) = World::new() else { return };
    let o = w.run(&["run", "--cpus", "999", "img", "true"]);
    refused(&o, "\"999\"");
    assert!(
        o.stderr.contains("Range of CPUs is from 0.01 to ") && o.stderr.contains(" CPUs available"),
        "{}",
        o.stderr
    );
    assert_eq!(w.run(&["ps", "-aq"]).ok().stdout, "");
}

#[test]
fn an_image_of_another_platform_gets_docker_s_warning() {
    let Some(w) = World::new() else { return };
    let tar = w.y.path("rootfs.tar");
    let args = [
        "import",
        "--platform",
        "linux/e2k/v6",
        tar.to_str().unwrap(),
        "e2k-img",
    ];
    w.run(&args).ok();
    let warning = "WARNING: The requested image's platform (linux/e2k/v6) does not match the detected host platform (linux/";
    // (The busybox inside is the host's, so it runs all the same.)
    let o = w.run(&["run", "--rm", "--network", "none", "e2k-img", "true"]);
    assert!(o.stderr.contains(warning), "{}", o.stderr);
    assert!(
        o.stderr.contains("and no specific platform was requested"),
        "{}",
        o.stderr
    );
    let o = w.run(&["create", "--platform", "linux/e2k/v6", "e2k-img", "true"]);
    assert!(!o.stderr.contains("WARNING"), "{}", o.stderr);
    let o = w
        .run(&["run", "--rm", "--network", "none", "img", "true"])
        .ok();
    assert!(!o.stderr.contains("WARNING"), "{}", o.stderr);
    w.run(&["container", "prune", "-f"]).ok();
}

#[test]
fn list_verbs_have_docker_s_aliases() {
    let Some(w) = World::new() else { return };
    w.run(&["create", "--name", "listed", "img", "true"]).ok();
    // (IDs only: a CREATED column may tick between two calls.)
    let ps = w.run(&["ps", "-aq"]).ok().stdout;
    assert_eq!(ps.lines().count(), 1, "{ps}");
    for verb in ["ls", "list", "ps"] {
        assert_eq!(w.run(&["container", verb, "-aq"]).ok().stdout, ps, "{verb}");
    }
    let images = w.run(&["images", "-q"]).ok().stdout;
    assert_eq!(images.lines().count(), 1, "{images}");
    for verb in ["ls", "list"] {
        assert_eq!(w.run(&["image", verb, "-q"]).ok().stdout, images, "{verb}");
    }
    w.run(&["rm", "listed"]).ok();
}
