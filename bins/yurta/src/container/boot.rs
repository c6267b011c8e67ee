//! `yurta system boot`: what Docker's daemon does when it starts, for a
//! host without a daemon. After a reboot no supervisor is left; this
//! settles every container's state (`ps` would too) and starts those whose
//! restart policy asks for it: `always`, and `unless-stopped` unless the
//! user stopped it (its stop file, written by `stop`, is still there). Run
//! once at boot by contrib/systemd/yurta-boot.service, as podman's
//! podman-restart.service runs `podman start --all --filter
//! restart-policy=always`.

use yurta_engine::record::{ContainerRecord, Status};
use yurta_engine::Engine;

use super::{reconcile, run, Paths};
use crate::Ctx;

pub fn boot(ctx: &Ctx) -> anyhow::Result<()> {
    let engine = Engine::open(&ctx.root)?;
    let mut failed = 0;
    for rec in engine.containers.list()? {
        let rec = reconcile::refresh(ctx, &engine, rec);
        if !wants_start(ctx, &rec) {
            continue;
        }
        let name = rec.name.trim_start_matches('/').to_string();
        match run::start(ctx, &engine, &rec, None) {
            Ok(_) => outln!("{name}")?,
            Err(e) => {
                errln!("yurta: start {name}: {}", crate::out::OneLine(&e));
                failed += 1;
            }
        }
    }
    if failed > 0 {
        return Err(super::exit(125));
    }
    Ok(())
}

/// An exited container whose policy restarts it at boot.
fn wants_start(ctx: &Ctx, rec: &ContainerRecord) -> bool {
    if rec.state.running || rec.state.status != Status::Exited {
        return false;
    }
    match rec.host_config.restart_policy.name.as_str() {
        "always" => true,
        "unless-stopped" => !Paths::new(&ctx.root, &rec.id).stop.exists(),
        _ => false,
    }
}
