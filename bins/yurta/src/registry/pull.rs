//! `yurta pull`: the engine's pull (`yurta_engine::distribution`) with
//! Docker's progress lines, then the reference on its own line.

use yurta_engine::distribution::{self, PullRequest, Silent};

use super::report::Report;
use crate::cli::{PullArgs, RegistryOpts};
use crate::Ctx;

pub fn pull(ctx: &Ctx, a: PullArgs) -> anyhow::Result<()> {
    let platform = crate::platform::given(a.platform.as_deref())?;
    let client = super::client(&a.registry);
    let report = Report::new(a.quiet);
    let req = PullRequest {
        root: &ctx.root,
        image: &a.image,
        platform: platform.as_ref(),
        client: &client,
    };
    let pulled = distribution::pull(&req, &report)?;
    outln!("{}", pulled.reference)?;
    Ok(())
}

/// `run`/`create --pull`: the image pulled without progress output
/// (stdout belongs to the container).
pub fn pull_quiet(ctx: &Ctx, image: &str, platform: Option<&str>) -> anyhow::Result<()> {
    let platform = crate::platform::given(platform)?;
    let client = super::client(&RegistryOpts {
        tls_verify: None,
        authfile: None,
    });
    let req = PullRequest {
        root: &ctx.root,
        image,
        platform: platform.as_ref(),
        client: &client,
    };
    distribution::pull(&req, &Silent)
        .map_err(|e| anyhow::anyhow!("Unable to find image '{image}' locally; {e}"))?;
    Ok(())
}
