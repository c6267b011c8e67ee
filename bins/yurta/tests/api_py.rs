//! docker-py drives `yurta system service` (issue 11): PyPI's `docker`
//! 7.x when installed, and Debian's python3-docker (5.0.3), each through
//! the same script (api_common/docker_py.py).

mod api_common;
mod common;

use std::process::Command;

use api_common::Service;
use common::registry::Registry;
use common::world::World;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api_common/docker_py.py");

/// Runs the script with `pythonpath` first on Python's path; None when
/// that docker SDK is not installed.
fn run(pythonpath: Option<&str>) -> Option<()> {
    let mut probe = Command::new("python3");
    probe.args(["-c", "import docker"]);
    if let Some(p) = pythonpath {
        probe.env("PYTHONPATH", p);
    }
    if !probe.output().ok()?.status.success() {
        eprintln!("skipped: no docker SDK for Python on {pythonpath:?}");
        return None;
    }
    let w = World::new()?;
    let reg = Registry::plain();
    let s = Service::start(&w, &[]);
    let mut c = Command::new("python3");
    c.arg(SCRIPT).arg(s.host()).arg(reg.addr());
    if let Some(p) = pythonpath {
        c.env("PYTHONPATH", p);
    }
    let o = c.output().unwrap();
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    eprintln!("{err}");
    assert!(
        o.status.success() && out.trim() == "ok",
        "{out}{err}\n{}",
        s.stderr()
    );
    Some(())
}

#[test]
fn docker_py_from_pypi_or_debian() {
    run(None);
}

#[test]
fn debian_python3_docker() {
    if std::path::Path::new("/usr/lib/python3/dist-packages/docker").exists() {
        run(Some("/usr/lib/python3/dist-packages"));
    }
}
