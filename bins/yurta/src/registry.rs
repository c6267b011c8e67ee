//! pull, push, login, logout.
//!
//! RESERVED for the registry integration (issue 3): these handlers will
//! call `yurta-registry` once it lands. The store side is ready for them:
//! `Store::blob_writer(digest, size)` (resumable, verified, see
//! `yurta_images::BlobWriter`), `Store::put_manifest`, `Store::add_image`,
//! `Store::tag`, `Store::lease`, and `yurta_images::platform::select` for
//! choosing the entry of an index. Until then they fail clearly.

use anyhow::bail;

use crate::cli::{LoginArgs, LogoutArgs, PullArgs, PushArgs};
use crate::Ctx;

pub fn pull(_ctx: &Ctx, a: PullArgs) -> anyhow::Result<()> {
    bail!("pull {}: not available yet: the registry client is still being written (use load or import)", a.image)
}

pub fn push(_ctx: &Ctx, a: PushArgs) -> anyhow::Result<()> {
    bail!(
        "push {}: not available yet: the registry client is still being written (use save)",
        a.image
    )
}

pub fn login(_ctx: &Ctx, a: LoginArgs) -> anyhow::Result<()> {
    let server = a.server.as_deref().unwrap_or("docker.io");
    bail!("login {server}: not available yet: the registry client is still being written")
}

pub fn logout(_ctx: &Ctx, a: LogoutArgs) -> anyhow::Result<()> {
    let server = a.server.as_deref().unwrap_or("docker.io");
    bail!("logout {server}: not available yet: the registry client is still being written")
}
