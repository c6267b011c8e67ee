//! `update`: the engine's update (`yurta_engine::lifecycle::update`) for
//! each container named, Docker's output (the names) and errors (one
//! line per container that failed).

use anyhow::bail;
use yurta_engine::lifecycle::update;
use yurta_engine::options::update::UpdateOptions;
use yurta_engine::Engine;

use super::args::UpdateArgs;
use crate::Ctx;

pub fn update(ctx: &Ctx, a: UpdateArgs) -> anyhow::Result<()> {
    let opts = UpdateOptions {
        memory: a.memory.clone(),
        memory_swap: a.memory_swap.clone(),
        cpus: a.cpus.clone(),
        cpu_shares: a.cpu_shares,
        cpuset_cpus: a.cpuset_cpus.clone(),
        pids_limit: a.pids_limit,
        restart: a.restart.clone(),
    };
    update::check(&opts)?;
    let engine = Engine::open(&ctx.root)?;
    let mut failed = Vec::new();
    for q in &a.containers {
        match update::update(ctx, &engine, q, &opts) {
            Ok(_) => outln!("{q}")?,
            Err(e) => failed.push(format!("{q}: {}", crate::out::OneLine(&e))),
        }
    }
    if !failed.is_empty() {
        bail!("{}", failed.join("; "));
    }
    Ok(())
}
