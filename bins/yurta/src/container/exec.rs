//! `exec`: `yurta-runtime exec` in the running container, with the
//! record's user, environment and working directory as defaults; the
//! command's exit code is ours.

use std::process::Stdio;

use anyhow::{bail, Context};
use yurta_engine::lifecycle::exec::ExecSpec;
use yurta_engine::lifecycle::terminal::start_failure;
use yurta_engine::Engine;

use super::args::ExecArgs;
use super::{exit, reconcile};
use crate::Ctx;

pub fn exec(ctx: &Ctx, a: ExecArgs) -> anyhow::Result<()> {
    let engine = Engine::open(&ctx.root)?;
    let rec = reconcile::refresh(ctx, &engine, engine.containers.lookup(&a.container)?);
    if !rec.state.running || rec.state.paused {
        bail!("container {} is not running", a.container);
    }
    let console = a.tty.then(|| {
        ctx.root
            .join("attach")
            .join(format!("exec-{}", std::process::id()))
    });
    let spec = ExecSpec {
        command: a.command.clone(),
        env: a.env.clone(),
        workdir: a.workdir.clone(),
        user: a.user.clone(),
        detach: a.detach,
        console_socket: console.clone(),
        pid_file: None,
    };
    let mut c = yurta_engine::lifecycle::exec::command(ctx, &rec, &spec)?;
    if !a.interactive || a.tty {
        c.stdin(Stdio::null());
    }
    c.stderr(Stdio::piped());
    let (code, last) = match &console {
        Some(sock) => super::console::run(&mut c, sock, a.interactive && !a.detach)?,
        None => {
            let mut child = c.spawn().context("yurta-runtime exec")?;
            let err = child.stderr.take().map(pass_stderr);
            let code = child.wait()?.code().unwrap_or(125);
            (code, err.and_then(|t| t.join().ok()).flatten())
        }
    };
    finish(code, last.as_deref())
}

/// The runtime's own failure to start the command (`yurta-runtime: exec:
/// …`, exit 126 or 127) becomes Docker's: one `yurta:` line and the code.
fn finish(code: i32, start_failure: Option<&str>) -> anyhow::Result<()> {
    match (code, start_failure) {
        (0, _) => Ok(()),
        (126 | 127, Some(msg)) => Err(super::Exit {
            code: code as u8,
            message: Some(msg.to_string()),
        }
        .into()),
        (n, _) => Err(exit(n)),
    }
}

/// Copies the runtime's stderr (also the command's) to ours as it comes,
/// holding back the last line, which may be the runtime's own failure
/// (returned instead of printed).
pub(super) fn pass_stderr(
    mut from: std::process::ChildStderr,
) -> std::thread::JoinHandle<Option<String>> {
    use std::io::{Read, Write};
    std::thread::spawn(move || {
        let mut held: Vec<u8> = Vec::new();
        let mut buf = [0u8; 8192];
        let mut err = std::io::stderr();
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            held.extend_from_slice(&buf[..n]);
            // Everything before the last line (complete or not) goes out now.
            let body = held.strip_suffix(b"\n").unwrap_or(&held);
            if let Some(i) = body.iter().rposition(|&b| b == b'\n') {
                let rest = held.split_off(i + 1);
                let _ = err.write_all(&held);
                held = rest;
            }
        }
        let failure = start_failure(&held);
        if failure.is_none() {
            let _ = err.write_all(&held);
        }
        failure
    })
}
