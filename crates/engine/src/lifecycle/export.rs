//! A container's root filesystem (image plus changes, without its
//! volumes, as Docker's) as a tar stream: `export` and `GET
//! /containers/{id}/export`.
//!
//! The tar is written by a helper (`yurta container export-helper`)
//! started in a mount namespace of its own: a stopped container's overlay
//! is mounted there, so the mount exists only in that namespace and goes
//! with it however the helper ends (kill -9 included) — nothing is ever
//! mounted on the host. A running container's root, already mounted, is
//! read as it is. The caller holds `start.lock` meanwhile (no start or
//! removal under the export), and the helper dies with the thread that
//! started it (`PR_SET_PDEATHSIG`): start it from the thread that waits.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};

use anyhow::Context;
use yurta_error::ErrorKind;

use super::reconcile::{self, StartLock};
use super::{fail, Host, Paths};
use crate::Engine;

/// An export under way: the helper writing the tar to its stdout, and the
/// container's start lock, held until this is dropped.
pub struct Export {
    pub child: Child,
    _held: StartLock,
}

/// Starts exporting `container` (a name, ID or prefix) to `out`.
pub fn export(host: &Host, engine: &Engine, container: &str, out: Stdio) -> anyhow::Result<Export> {
    let id = engine.containers.lookup(container)?.id;
    let p = Paths::new(&host.root, &id);
    let Some(held) = reconcile::lock_start(&p) else {
        return Err(fail(
            ErrorKind::NotFound,
            format!("No such container: {container}"),
        ));
    };
    reconcile::refresh_held(host, engine, &id)?;
    let mut helper = Command::new(&host.binaries.yurta);
    helper
        .arg("--root")
        .arg(&host.root)
        .args(["container", "export-helper", &id])
        .stdin(Stdio::null())
        .stdout(out);
    // SAFETY: between fork and exec only async-signal-safe system calls:
    // unshare(2) and prctl(2).
    unsafe {
        helper.pre_exec(|| {
            if libc::unshare(libc::CLONE_NEWNS) != 0
                || libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = helper.spawn().context("export: start the helper")?;
    Ok(Export { child, _held: held })
}
