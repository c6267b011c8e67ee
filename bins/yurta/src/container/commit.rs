//! `commit`: the engine's (`yurta_engine::lifecycle::commit`, the same as
//! the API's `POST /commit`); prints the new image's ID, as Docker.

use yurta_engine::lifecycle::commit::{self, CommitRequest};

use super::args::CommitArgs;
use crate::Ctx;

pub fn commit(ctx: &Ctx, a: CommitArgs) -> anyhow::Result<()> {
    let req = CommitRequest {
        container: a.container,
        reference: a.reference,
        changes: a.change,
        author: a.author,
        comment: a.message,
        pause: a.pause,
    };
    let image = commit::commit(ctx, &req)?;
    outln!("{}", image.id)?;
    Ok(())
}
