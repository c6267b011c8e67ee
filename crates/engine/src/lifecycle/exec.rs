//! `exec`: a `yurta-runtime exec` command in a running container, with
//! the record's user, environment and working directory as defaults. The
//! front ends run it with their own stdio (the CLI's terminal, the API's
//! hijacked connection) and take its exit code as the command's.

use std::path::PathBuf;
use std::process::Command;

use anyhow::Context;
use yurta_error::ErrorKind;

use super::{events, fail, Host};
use crate::record::ContainerRecord;

/// What to run and how (Docker's `ExecConfig`).
#[derive(Debug, Clone, Default)]
pub struct ExecSpec {
    pub command: Vec<String>,
    /// Added to the container's environment.
    pub env: Vec<String>,
    /// Default: the container's working directory.
    pub workdir: Option<String>,
    /// `user[:group]` as in the container's /etc/passwd; default: the
    /// container's user.
    pub user: Option<String>,
    /// The runtime returns once the process runs.
    pub detach: bool,
    /// With a terminal: where the runtime sends its master (SCM_RIGHTS).
    pub console_socket: Option<PathBuf>,
    /// Where the runtime writes the process's pid (to kill it later).
    pub pid_file: Option<PathBuf>,
}

/// The runtime command for `spec` in `rec` (not started; stdio is the
/// caller's). Records the `exec_start` event.
pub fn command(host: &Host, rec: &ContainerRecord, spec: &ExecSpec) -> anyhow::Result<Command> {
    if spec.command.is_empty() {
        return Err(fail(ErrorKind::Invalid, "exec needs a command"));
    }
    if !rec.state.running || rec.state.paused {
        return Err(fail(
            ErrorKind::Conflict,
            format!("container {} is not running", rec.bare_name()),
        ));
    }
    let mut c = Command::new(&host.binaries.runtime);
    c.arg("--root").arg(host.runtime_root()).arg("exec");
    for e in rec.config.env.iter().chain(&spec.env) {
        c.args(["--env", e]);
    }
    if let Some(w) = spec
        .workdir
        .as_deref()
        .or(Some(rec.config.working_dir.as_str()))
        .filter(|w| !w.is_empty())
    {
        c.args(["--cwd", w]);
    }
    let user = spec.user.as_deref().unwrap_or(rec.config.user.as_str());
    let groups = &rec.host_config.group_add;
    if !user.is_empty() || !groups.is_empty() {
        let rootfs = rec
            .yurta
            .rootfs
            .clone()
            .context("the container's root filesystem is not mounted")?;
        let mut u = crate::user::resolve_in_rootfs(&rootfs, user)
            .with_context(|| format!("exec -u {user:?}"))?;
        // The container's --group-add, as its process has them.
        crate::user::add_groups_in_rootfs(&rootfs, &mut u, groups).context("exec: --group-add")?;
        c.args(["--user", &format!("{}:{}", u.uid, u.gid)]);
        for g in &u.additional_gids {
            c.args(["--additional-gids", &g.to_string()]);
        }
        let home_set = rec
            .config
            .env
            .iter()
            .chain(&spec.env)
            .any(|e| e.starts_with("HOME="));
        if !home_set {
            c.args(["--env", &format!("HOME={}", u.home)]);
        }
    }
    if spec.detach {
        c.arg("--detach");
    }
    if let Some(f) = &spec.pid_file {
        c.arg("--pid-file").arg(f);
    }
    if let Some(sock) = &spec.console_socket {
        c.arg("--tty").arg("--console-socket").arg(sock);
        // A terminal program needs to know the terminal (Docker's xterm).
        let term_set = rec
            .config
            .env
            .iter()
            .chain(&spec.env)
            .any(|e| e.starts_with("TERM="));
        if !term_set {
            c.args(["--env", "TERM=xterm"]);
        }
    }
    c.arg(&rec.id).args(&spec.command);
    events::exec_started(&host.root, rec, &spec.command);
    Ok(c)
}
