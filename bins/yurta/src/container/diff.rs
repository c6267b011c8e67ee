//! `diff`: the container's changes to its image, Docker's `A`/`C`/`D`
//! lines (`yurta_engine::lifecycle::changes`).

use yurta_engine::lifecycle::changes::changes;
use yurta_engine::Engine;

use super::args::DiffArgs;
use super::reconcile;
use crate::Ctx;

pub fn diff(ctx: &Ctx, a: DiffArgs) -> anyhow::Result<()> {
    let engine = Engine::open(&ctx.root)?;
    let rec = reconcile::refresh(ctx, &engine, engine.containers.lookup(&a.container)?);
    for c in changes(&engine, &rec)? {
        outln!("{c}")?;
    }
    Ok(())
}
