//! The prune verbs' shared parts — Docker's confirmation prompt and its
//! "Deleted …" / "Total reclaimed space" report — and `system prune`,
//! which frees space in the order that works on a full disk: containers
//! first (their writable layers), then networks and volumes, images last
//! (their catalog is the only file the prunes write).

use std::collections::HashSet;
use std::io::{BufRead, Write};

use clap::Args;
use yurta_images::{manage, Digest};

use crate::{format, Ctx};

/// `system prune`'s flags (Docker's).
#[derive(Args)]
pub struct SystemPruneArgs {
    /// Remove all unused images, not only dangling ones
    #[arg(short, long)]
    pub all: bool,
    /// Prune anonymous volumes too
    #[arg(long)]
    pub volumes: bool,
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
}

/// Docker's prompt: `WARNING! This will remove:` and the lines, then
/// `Are you sure you want to continue? [y/N]`; true on `y`/`yes`.
pub fn confirm(what: &[&str]) -> anyhow::Result<bool> {
    match what {
        [one] => out!("WARNING! This will remove {one}.\n")?,
        many => {
            outln!("WARNING! This will remove:")?;
            for w in many {
                outln!("  - {w}")?;
            }
            outln!()?;
        }
    }
    out!("Are you sure you want to continue? [y/N] ")?;
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes"))
}

/// `Deleted THINGS:`, one line each, and an empty line; nothing when
/// nothing was deleted (Docker's).
pub fn report(title: &str, names: &[String]) -> Result<(), crate::out::StdoutError> {
    if names.is_empty() {
        return Ok(());
    }
    outln!("Deleted {title}:")?;
    for n in names {
        outln!("{n}")?;
    }
    outln!()
}

pub fn total(bytes: u64) -> Result<(), crate::out::StdoutError> {
    outln!("Total reclaimed space: {}", format::size(bytes))
}

/// `system prune [-a] [--volumes] [-f]`.
pub fn system(ctx: &Ctx, a: SystemPruneArgs) -> anyhow::Result<()> {
    let images = if a.all {
        "all images without at least one container associated to them"
    } else {
        "all dangling images"
    };
    let mut what = vec![
        "all stopped containers",
        "all networks not used by at least one container",
    ];
    if a.volumes {
        what.push("all anonymous volumes not used by at least one container");
    }
    what.push(images);
    what.push("all build cache");
    if !a.force && !confirm(&what)? {
        return Ok(());
    }
    let mut errors = Vec::new();
    let mut reclaimed = 0;
    let (containers, bytes) = crate::container::prune_stopped(ctx, &mut errors)?;
    reclaimed += bytes;
    report("Containers", &containers)?;
    match crate::container::networks(ctx).and_then(|n| Ok(n.prune()?)) {
        Ok(networks) => report("Networks", &networks)?,
        Err(e) => errors.push(format!("networks: {}", crate::out::OneLine(&e))),
    }
    if a.volumes {
        let store = yurta_engine::VolumeStore::open_root(&ctx.root)?;
        match store.prune(false, &|_| true) {
            Ok(removed) => {
                reclaimed += removed.iter().map(|(_, size)| size).sum::<u64>();
                let names: Vec<String> = removed.into_iter().map(|(n, _)| n).collect();
                report("Volumes", &names)?;
            }
            Err(e) => errors.push(format!("volumes: {e}")),
        }
    }
    let in_use: HashSet<Digest> = crate::images::images_in_use(ctx)?
        .into_iter()
        .map(|(d, _)| d)
        .collect();
    match manage::prune(&ctx.store()?, a.all, &in_use) {
        Ok((events, bytes)) => {
            reclaimed += bytes;
            crate::images::report_pruned(&events)?;
        }
        Err(e) => errors.push(format!("images: {e}")),
    }
    match yurta_engine::build::prune(ctx) {
        Ok((ids, bytes)) => {
            reclaimed += bytes;
            report("build cache objects", &ids)?;
        }
        Err(e) => errors.push(format!("build cache: {}", crate::out::OneLine(&e))),
    }
    total(reclaimed)?;
    anyhow::ensure!(errors.is_empty(), "{}", errors.join("; "));
    Ok(())
}

/// `builder prune`: the build cache (its index and its untagged step
/// images no container uses).
pub fn builder(ctx: &Ctx, a: BuilderPruneArgs) -> anyhow::Result<()> {
    if !a.force && !confirm(&["all build cache"])? {
        return Ok(());
    }
    let (ids, bytes) = yurta_engine::build::prune(ctx)?;
    report("build cache objects", &ids)?;
    Ok(total(bytes)?)
}

#[derive(clap::Args)]
pub struct BuilderPruneArgs {
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
}
