//! volume create / ls / inspect / rm / prune, over `yurta_engine::volume`.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use serde_json::json;
use yurta_engine::volume::{Volume, VolumeCreate, VolumeStore};

use crate::{format, Ctx};

#[derive(Subcommand)]
pub enum VolumeCommand {
    /// Create a volume
    Create(CreateArgs),
    /// List volumes
    #[command(alias = "list")]
    Ls(LsArgs),
    /// Display detailed information on one or more volumes
    Inspect(InspectArgs),
    /// Remove one or more volumes (never one in use)
    #[command(alias = "remove")]
    Rm(RmArgs),
    /// Remove unused volumes (anonymous ones unless --all)
    Prune(PruneArgs),
}

#[derive(Args)]
pub struct CreateArgs {
    /// Volume driver (only "local")
    #[arg(short, long, default_value = "local")]
    pub driver: String,
    /// Set metadata for a volume (KEY=VALUE)
    #[arg(long)]
    pub label: Vec<String>,
    /// Driver options: type=tmpfs,device=tmpfs,o=size=100m or type=none,o=bind,device=/path
    #[arg(short, long = "opt")]
    pub opt: Vec<String>,
    /// The name (default: a random 64-hex name)
    pub name: Option<String>,
}

#[derive(Args)]
pub struct LsArgs {
    /// Only display volume names
    #[arg(short, long)]
    pub quiet: bool,
    /// table (default) or json (one object per line)
    #[arg(long)]
    pub format: Option<String>,
    /// dangling=true|false, name=SUBSTRING, label=KEY[=VALUE], driver=local
    #[arg(short, long)]
    pub filter: Vec<String>,
}

#[derive(Args)]
pub struct InspectArgs {
    /// json (default), or a {{.Field}} path
    #[arg(short, long)]
    pub format: Option<String>,
    #[arg(required = true)]
    pub volumes: Vec<String>,
}

#[derive(Args)]
pub struct RmArgs {
    /// Do not fail on volumes that do not exist (in-use volumes are still kept)
    #[arg(short, long)]
    pub force: bool,
    #[arg(required = true)]
    pub volumes: Vec<String>,
}

#[derive(Args)]
pub struct PruneArgs {
    /// Remove all unused volumes, not only anonymous ones
    #[arg(short, long)]
    pub all: bool,
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
    /// label=KEY[=VALUE], label!=KEY[=VALUE]
    #[arg(long)]
    pub filter: Vec<String>,
}

pub fn run(ctx: &Ctx, cmd: VolumeCommand) -> anyhow::Result<()> {
    let store = VolumeStore::open_root(&ctx.root)?;
    match cmd {
        VolumeCommand::Create(a) => create(&store, a),
        VolumeCommand::Ls(a) => list(&store, a),
        VolumeCommand::Inspect(a) => inspect(&store, a),
        VolumeCommand::Rm(a) => remove(&store, a),
        VolumeCommand::Prune(a) => prune(&store, a),
    }
}

fn key_values(list: &[String], what: &str) -> anyhow::Result<BTreeMap<String, String>> {
    list.iter()
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            None if what == "label" && !kv.is_empty() => Ok((kv.clone(), String::new())),
            _ => bail!("invalid {what} {kv:?}: expected KEY=VALUE"),
        })
        .collect()
}

fn create(store: &VolumeStore, a: CreateArgs) -> anyhow::Result<()> {
    let req = VolumeCreate {
        name: a.name,
        driver: Some(a.driver),
        labels: key_values(&a.label, "label")?,
        options: key_values(&a.opt, "option")?,
    };
    println!("{}", store.create(&req)?.name);
    Ok(())
}

/// One `--filter` of ls/prune.
fn matches(v: &Volume, store: &VolumeStore, filter: &str) -> anyhow::Result<bool> {
    let label = |want: &str| {
        let labels = v.labels.clone().unwrap_or_default();
        match want.split_once('=') {
            Some((k, val)) => labels.get(k).is_some_and(|x| x == val),
            None => labels.contains_key(want),
        }
    };
    Ok(match filter.split_once("!=") {
        Some(("label", want)) => !label(want),
        Some(_) => bail!("unsupported filter {filter:?}"),
        None => match filter.split_once('=') {
            Some(("label", want)) => label(want),
            Some(("name", want)) => v.name.contains(want),
            Some(("driver", want)) => v.driver == want,
            Some(("dangling", b)) => {
                let want: bool = b
                    .parse()
                    .with_context(|| format!("invalid filter {filter:?}"))?;
                store.users(&v.name)?.is_empty() == want
            }
            _ => bail!("unsupported filter {filter:?} (dangling, name, label, driver)"),
        },
    })
}

fn list(store: &VolumeStore, a: LsArgs) -> anyhow::Result<()> {
    for f in &a.filter {
        let key = f.split(['=', '!']).next().unwrap_or_default();
        if !matches!(key, "dangling" | "name" | "label" | "driver") {
            bail!("unsupported filter {f:?} (dangling, name, label, driver)");
        }
    }
    let mut vols = Vec::new();
    for v in store.list()? {
        let mut keep = true;
        for f in &a.filter {
            keep &= matches(&v, store, f)?;
        }
        if keep {
            vols.push(v);
        }
    }
    if a.quiet {
        vols.iter().for_each(|v| println!("{}", v.name));
        return Ok(());
    }
    match a.format.as_deref() {
        None | Some("table") => {
            // Docker's tabwriter: minimum width 10, padding 3.
            let w = vols
                .iter()
                .map(|v| v.driver.len())
                .max()
                .unwrap_or(0)
                .max(6)
                + 3;
            let w = w.max(10);
            println!("{:<w$}VOLUME NAME", "DRIVER");
            vols.iter()
                .for_each(|v| println!("{:<w$}{}", v.driver, v.name));
        }
        Some("json") => {
            for v in &vols {
                let labels: Vec<String> = v
                    .labels
                    .iter()
                    .flatten()
                    .map(|(k, val)| format!("{k}={val}"))
                    .collect();
                let row = json!({
                    "Availability": "N/A", "Driver": v.driver, "Group": "N/A",
                    "Labels": labels.join(","), "Links": "N/A", "Mountpoint": v.mountpoint,
                    "Name": v.name, "Scope": v.scope, "Size": "N/A", "Status": "N/A",
                });
                println!("{row}");
            }
        }
        Some(other) => bail!("unsupported --format: {other} (table or json)"),
    }
    Ok(())
}

fn inspect(store: &VolumeStore, a: InspectArgs) -> anyhow::Result<()> {
    let mut out = Vec::new();
    for name in &a.volumes {
        let v = store
            .read(name)
            .with_context(|| format!("inspect {name}"))?;
        out.push(serde_json::to_value(v)?);
    }
    match a.format.as_deref() {
        None | Some("json") => println!("{}", serde_json::to_string_pretty(&out)?),
        Some(template) => {
            for v in &out {
                println!("{}", crate::images::field(v, template)?);
            }
        }
    }
    Ok(())
}

fn remove(store: &VolumeStore, a: RmArgs) -> anyhow::Result<()> {
    // Docker goes on after a failure; each error is one line, the last is
    // the command's.
    let mut last: Option<anyhow::Error> = None;
    for name in &a.volumes {
        match store.remove(name, a.force) {
            Ok(()) => println!("{name}"),
            Err(e) => {
                if let Some(prev) = last.replace(e.into()) {
                    eprintln!("yurta: {prev:#}");
                }
            }
        }
    }
    last.map_or(Ok(()), Err)
}

fn prune(store: &VolumeStore, a: PruneArgs) -> anyhow::Result<()> {
    let what = if a.all {
        "all local volumes not used by at least one container"
    } else {
        "anonymous local volumes not used by at least one container"
    };
    if !a.force {
        print!("WARNING! This will remove {what}.\nAre you sure you want to continue? [y/N] ");
        std::io::stdout().flush()?;
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        if !matches!(line.trim(), "y" | "Y" | "yes") {
            return Ok(());
        }
    }
    for f in &a.filter {
        if !f.starts_with("label=") && !f.starts_with("label!=") {
            bail!("unsupported filter {f:?} (label=, label!=)");
        }
    }
    let filter = |v: &Volume| {
        a.filter
            .iter()
            .all(|f| matches(v, store, f).unwrap_or(false))
    };
    let removed = store.prune(a.all, &filter)?;
    if !removed.is_empty() {
        println!("Deleted Volumes:");
        removed.iter().for_each(|(name, _)| println!("{name}"));
        println!();
    }
    let total: u64 = removed.iter().map(|(_, size)| size).sum();
    println!("Total reclaimed space: {}", format::size(total));
    Ok(())
}
