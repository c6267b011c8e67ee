//! A real Debian root filesystem for the tests that need one (a `RUN
//! apt-get install` in a build): `debootstrap --variant=minbase` of
//! bookworm from Debian's mirror, made once per machine and kept as a tar
//! under /var/cache/yurta-test (about 30 s and 200 MiB; scripts/test.sh
//! installs debootstrap). `YURTA_TEST_DEBIAN_MIRROR` names another mirror.

use std::fs;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::process::Command;

const CACHE: &str = "/var/cache/yurta-test";
const SUITE: &str = "bookworm";

/// The tar of the root filesystem, made first if the cache lacks it.
pub fn rootfs_tar() -> PathBuf {
    let dir = PathBuf::from(CACHE);
    fs::create_dir_all(&dir).unwrap();
    let tar = dir.join(format!("debian-{SUITE}-minbase.tar"));
    // One maker at a time (two test binaries may want it at once).
    let lock = fs::File::create(dir.join("debian.lock")).unwrap();
    // SAFETY: flock on a descriptor we hold open for the whole function.
    assert_eq!(unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) }, 0);
    if tar.exists() {
        return tar;
    }
    let mirror = std::env::var("YURTA_TEST_DEBIAN_MIRROR")
        .unwrap_or_else(|_| "http://deb.debian.org/debian".to_string());
    let work = dir.join(format!("debian-{SUITE}.partial"));
    let _ = fs::remove_dir_all(&work);
    let o = Command::new("debootstrap")
        .args(["--variant=minbase", SUITE])
        .arg(&work)
        .arg(&mirror)
        .output()
        .expect("debootstrap (apt-get install debootstrap)");
    assert!(
        o.status.success(),
        "debootstrap {SUITE} from {mirror}:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let partial = dir.join(format!("debian-{SUITE}-minbase.tar.partial"));
    let o = Command::new("tar")
        .arg("-C")
        .arg(&work)
        .args(["--numeric-owner", "-cf"])
        .arg(&partial)
        .arg(".")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    fs::rename(&partial, &tar).unwrap();
    let _ = fs::remove_dir_all(&work);
    tar
}
