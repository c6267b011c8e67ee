//! Files of a running container as tar streams (`docker cp`): the
//! container's side runs in the `yurta container cp-helper` role of the
//! yurta binary, which enters the container's mount namespace and root so
//! that paths, symlinks included, resolve as inside and never escape.

use std::process::Command;

use yurta_error::ErrorKind;

use super::{fail, state, Host, Paths};
use crate::record::ContainerRecord;

/// What the helper does with a path inside the container.
#[derive(Debug, Clone, Copy)]
pub enum ArchiveOp<'a> {
    /// Its stat as JSON on stdout.
    Stat(&'a str),
    /// It as a tar on stdout.
    Pack(&'a str),
    /// A tar from stdin unpacked into it.
    Unpack(&'a str),
}

/// The helper's command for a running container (stdio is the caller's).
pub fn helper(host: &Host, rec: &ContainerRecord, op: ArchiveOp) -> anyhow::Result<Command> {
    let pid = state::init_pid(&Paths::new(&host.root, &rec.id)).filter(|_| rec.state.running);
    let Some(pid) = pid else {
        return Err(fail(
            ErrorKind::Unsupported,
            format!(
                "container {} is not running: copying from or into a stopped container goes through the yurta CLI (yurta cp)",
                rec.bare_name()
            ),
        ));
    };
    let mut c = Command::new(&host.binaries.yurta);
    c.args(["container", "cp-helper", "--pid", &pid.to_string()]);
    match op {
        ArchiveOp::Stat(p) => c.args(["--stat", p]),
        ArchiveOp::Pack(p) => c.args(["--pack", p]),
        ArchiveOp::Unpack(p) => c.args(["--unpack", p]),
    };
    Ok(c)
}
