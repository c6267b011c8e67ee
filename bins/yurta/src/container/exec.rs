//! `exec`: `yurta-runtime exec` in the running container, with the
//! record's user, environment and working directory as defaults; the
//! command's exit code is ours.

use std::process::{Command, Stdio};

use anyhow::{bail, Context};
use yurta_engine::Engine;

use super::args::ExecArgs;
use super::{exit, runtime_root, sibling, state};
use crate::Ctx;

pub fn exec(ctx: &Ctx, a: ExecArgs) -> anyhow::Result<()> {
    let engine = Engine::open(&ctx.root)?;
    let rec = state::refresh(ctx, &engine, engine.containers.lookup(&a.container)?);
    if !rec.state.running || rec.state.paused {
        bail!("container {} is not running", a.container);
    }
    if a.tty {
        bail!("exec -t is not supported yet (no terminal for exec sessions)");
    }
    let mut c = Command::new(sibling("yurta-runtime")?);
    c.arg("--root").arg(runtime_root(ctx)).arg("exec");
    for e in rec.config.env.iter().chain(&a.env) {
        c.args(["--env", e]);
    }
    if let Some(w) = a
        .workdir
        .as_deref()
        .or(Some(rec.config.working_dir.as_str()))
        .filter(|w| !w.is_empty())
    {
        c.args(["--cwd", w]);
    }
    let user = a.user.as_deref().unwrap_or(rec.config.user.as_str());
    if !user.is_empty() {
        let rootfs = rec
            .yurta
            .rootfs
            .clone()
            .context("the container's root filesystem is not mounted")?;
        let u = yurta_engine::user::resolve_in_rootfs(&rootfs, user)
            .with_context(|| format!("exec -u {user:?}"))?;
        c.args(["--user", &format!("{}:{}", u.uid, u.gid)]);
        for g in &u.additional_gids {
            c.args(["--additional-gids", &g.to_string()]);
        }
        if !rec
            .config
            .env
            .iter()
            .chain(&a.env)
            .any(|e| e.starts_with("HOME="))
        {
            c.args(["--env", &format!("HOME={}", u.home)]);
        }
    }
    if a.detach {
        c.arg("--detach");
    }
    c.arg(&rec.id).args(&a.command);
    if !a.interactive {
        c.stdin(Stdio::null());
    }
    let status = c.status().context("yurta-runtime exec")?;
    match status.code() {
        Some(0) => Ok(()),
        Some(n) => Err(exit(n)),
        None => Err(exit(125)),
    }
}
