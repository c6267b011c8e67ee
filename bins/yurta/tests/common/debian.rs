//! A real Debian for the tests that need one (a `RUN apt-get install` in
//! a build): scripts/test.sh makes, from Debian's mirror, a
//! `debootstrap --variant=minbase bookworm` tar and downloads the `hello`
//! package into /var/cache/yurta-test; the tests serve that package from
//! a local flat repository (python3's http.server on this machine), so no
//! test traffic leaves it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::files::FileServer;

const CACHE: &str = "/var/cache/yurta-test";

/// The root filesystem's tar.
pub fn rootfs_tar() -> PathBuf {
    let tar = Path::new(CACHE).join("debian-bookworm-minbase.tar");
    assert!(
        tar.exists(),
        "{} is missing: scripts/test.sh makes it (debootstrap)",
        tar.display()
    );
    tar
}

/// A flat apt repository with the cached .debs, served on every address
/// of this machine at `port` while it lives.
pub struct LocalRepo {
    pub port: u16,
    _server: FileServer,
    _dir: tempfile::TempDir,
}

impl LocalRepo {
    pub fn start() -> LocalRepo {
        let debs = Path::new(CACHE).join("debs");
        let dir = tempfile::tempdir().unwrap();
        let mut index = String::new();
        for e in fs::read_dir(&debs)
            .unwrap_or_else(|e| panic!("{}: {e} (scripts/test.sh downloads it)", debs.display()))
            .flatten()
        {
            let name = e.file_name().to_string_lossy().into_owned();
            if !name.ends_with(".deb") {
                continue;
            }
            let data = fs::read(e.path()).unwrap();
            fs::write(dir.path().join(&name), &data).unwrap();
            let control = Command::new("dpkg-deb")
                .arg("-f")
                .arg(e.path())
                .output()
                .unwrap();
            assert!(control.status.success());
            index.push_str(String::from_utf8_lossy(&control.stdout).trim_end());
            index.push_str(&format!(
                "\nFilename: ./{name}\nSize: {}\nSHA256: {}\n\n",
                data.len(),
                yurta_images::Digest::of(&data).hex()
            ));
        }
        assert!(!index.is_empty(), "no .deb in {}", debs.display());
        fs::write(dir.path().join("Packages"), index).unwrap();
        let server = FileServer::every_address(dir.path());
        LocalRepo {
            port: server.port,
            _server: server,
            _dir: dir,
        }
    }
}
