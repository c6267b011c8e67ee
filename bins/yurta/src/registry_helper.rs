//! How `yurta` runs the registry commands: in its sibling `yurta-registry`,
//! which links OpenSSL (libssl and libcrypto cost ~1.3 ms of start-up to
//! every process that loads them; no other command needs them). Nothing
//! here may call into `crate::registry`, or `yurta` would link it again.

use std::os::unix::process::CommandExt;
use std::process::Command;

use anyhow::Context;

use crate::container::Exit;
use crate::{Ctx, RegistryCommand};

/// The helper's file name, next to `yurta`.
pub const HELPER: &str = "yurta-registry";

/// pull, push, login, logout: this process becomes `yurta-registry` with
/// the same command line (already parsed and valid here: `--help` and
/// usage errors never get there), so its output, terminal, exit code and
/// signals are the command's. `run --pull`'s pull: the helper's hidden
/// `__pull-for-run`, waited for; it reports its own error.
pub fn run_in_sibling(ctx: &Ctx, cmd: RegistryCommand) -> anyhow::Result<()> {
    let bin = ctx.binaries.sibling(HELPER);
    let RegistryCommand::PullForRun { image, platform } = cmd else {
        let mut args = std::env::args_os();
        let arg0 = args.next().unwrap_or_else(|| "yurta".into());
        let err = Command::new(&bin).arg0(arg0).args(args).exec();
        return Err(err).with_context(|| format!("run {}", bin.display()));
    };
    let mut c = Command::new(&bin);
    c.arg0("yurta").arg("--root").arg(&ctx.root);
    c.arg("--log-level").arg(crate::progress::log_level());
    c.arg("__pull-for-run");
    if let Some(p) = platform {
        c.arg("--platform").arg(p);
    }
    let status = c
        .arg(image)
        .status()
        .with_context(|| format!("run {}", bin.display()))?;
    if status.success() {
        return Ok(());
    }
    Err(Exit {
        code: crate::ENGINE_ERROR,
        message: None,
    }
    .into())
}
