//! `yurta push IMAGE [DESTINATION]`: the engine's push
//! (`yurta_engine::distribution`) with Docker's progress lines; `-q`
//! prints the manifest's digest alone.

use yurta_engine::distribution::{self, PushRequest};

use super::report::Report;
use crate::cli::PushArgs;
use crate::Ctx;

pub fn push(ctx: &Ctx, a: PushArgs) -> anyhow::Result<()> {
    let client = super::client(&a.registry);
    let report = Report::new(a.quiet);
    let req = PushRequest {
        root: &ctx.root,
        image: &a.image,
        destination: a.destination.as_deref(),
        client: &client,
    };
    let pushed = distribution::push(&req, &report)?;
    if a.quiet {
        outln!("{}", pushed.digest)?;
    }
    Ok(())
}
