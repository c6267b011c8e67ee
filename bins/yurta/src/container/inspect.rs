//! inspect (containers, falling back to images), port, top.

use anyhow::{bail, Context};
use yurta_engine::Engine;

use super::args::{InspectArgs, PortArgs, TopArgs};
use super::{state, Paths};
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
                out.push(state::refresh(ctx, &engine, rec).inspect());
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
    match a.format.as_deref() {
        None | Some("json") => println!("{}", serde_json::to_string_pretty(&out)?),
        Some(t) => {
            for v in &out {
                println!("{}", crate::images::field(v, t)?);
            }
        }
    }
    Ok(())
}

pub fn port(ctx: &Ctx, a: PortArgs) -> anyhow::Result<()> {
    let engine = Engine::open(&ctx.root)?;
    let rec = state::refresh(ctx, &engine, engine.containers.lookup(&a.container)?);
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
                Some(_) => println!("{ip}:{}", b.host_port),
                None => println!("{key} -> {ip}:{}", b.host_port),
            }
        }
    }
    if let (Some(w), false) = (want, found) {
        bail!("No public port '{w}' published for {}", a.container);
    }
    Ok(())
}

/// `top`: the processes of the container's cgroup (its pids from the
/// runtime's `ps`, shown by the host's `ps`).
pub fn top(ctx: &Ctx, a: TopArgs) -> anyhow::Result<()> {
    let engine = Engine::open(&ctx.root)?;
    let rec = state::refresh(ctx, &engine, engine.containers.lookup(&a.container)?);
    if !rec.state.running {
        bail!("container {} is not running", a.container);
    }
    let p = Paths::new(&ctx.root, &rec.id);
    let init = state::init_pid(&p).context("the container's init is gone")?;
    let mut pids = vec![init.to_string()];
    pids.extend(descendants(init));
    let out = std::process::Command::new("ps")
        .args([
            "-o",
            "uid,pid,ppid,c,stime,tty,time,cmd",
            "-p",
            &pids.join(","),
        ])
        .output()
        .context("ps")?;
    print!("{}", String::from_utf8_lossy(&out.stdout));
    Ok(())
}

fn descendants(pid: i32) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        let path = format!("/proc/{p}/task/{p}/children");
        for c in std::fs::read_to_string(path)
            .unwrap_or_default()
            .split_whitespace()
        {
            if let Ok(c) = c.parse::<i32>() {
                out.push(c.to_string());
                todo.push(c);
            }
        }
    }
    out
}
