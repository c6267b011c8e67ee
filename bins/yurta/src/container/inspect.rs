//! inspect (containers, falling back to images), port, top.

use anyhow::bail;
use yurta_engine::Engine;

use super::args::{InspectArgs, PortArgs, TopArgs};
use super::reconcile;
use crate::Ctx;

pub fn inspect(ctx: &Ctx, a: InspectArgs, images_too: bool) -> anyhow::Result<()> {
    let engine = Engine::open(&ctx.root)?;
    let want_images = images_too && a.kind.as_deref() != Some("container");
    let want_containers = a.kind.as_deref() != Some("image");
    let catalog = if want_images {
        Some(engine.images.list()?)
    } else {
        None
    };
    let mut out = Vec::new();
    for name in &a.names {
        if want_containers {
            if let Ok(rec) = engine.containers.lookup(name) {
                out.push(reconcile::refresh(ctx, &engine, rec).inspect());
                continue;
            }
        }
        let image = catalog.as_ref().and_then(|c| c.find(name).ok());
        match (image, &catalog) {
            (Some(img), Some(c)) => {
                out.push(yurta_images::inspect::inspect(&engine.images, c, img)?)
            }
            _ if want_images => bail!("No such object: {name}"),
            _ => bail!("No such container: {name}"),
        }
    }
    crate::format::inspect(a.format.as_deref(), &out)
}

pub fn port(ctx: &Ctx, a: PortArgs) -> anyhow::Result<()> {
    let engine = Engine::open(&ctx.root)?;
    let rec = reconcile::refresh(ctx, &engine, engine.containers.lookup(&a.container)?);
    let want = a.port.as_deref().map(|p| {
        if p.contains('/') {
            p.to_string()
        } else {
            format!("{p}/tcp")
        }
    });
    let mut found = false;
    for (key, bindings) in &rec.network_settings.ports {
        if want.as_ref().is_some_and(|w| w != key) {
            continue;
        }
        for b in bindings.iter().flatten() {
            found = true;
            let ip = if b.host_ip.is_empty() {
                "0.0.0.0"
            } else {
                &b.host_ip
            };
            match &want {
                Some(_) => outln!("{ip}:{}", b.host_port)?,
                None => outln!("{key} -> {ip}:{}", b.host_port)?,
            }
        }
    }
    if let (Some(w), false) = (want, found) {
        bail!("No public port '{w}' published for {}", a.container);
    }
    Ok(())
}

/// `top`: the container's processes (its cgroup's, and its init's
/// descendants), as the host's `ps` shows them with the given options
/// (`-ef` by default), in Docker's columns.
pub fn top(ctx: &Ctx, a: TopArgs) -> anyhow::Result<()> {
    let engine = Engine::open(&ctx.root)?;
    let rec = reconcile::refresh(ctx, &engine, engine.containers.lookup(&a.container)?);
    if !rec.state.running {
        bail!("container {} is not running", a.container);
    }
    let (titles, procs) = yurta_engine::lifecycle::top::top(ctx, &rec, &a.ps_options)?;
    let mut text = titles.join("\t") + "\n";
    for p in procs {
        text.push_str(&p.join("\t"));
        text.push('\n');
    }
    out!("{}", yurta_template::tabwriter::align(&text, 20, 3))?;
    Ok(())
}
