//! volume create / ls / inspect / rm / prune, over `yurta_engine::volume`.

use std::collections::BTreeMap;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use serde_json::json;
use yurta_engine::system::VolumeFilter;
use yurta_engine::volume::{Volume, VolumeCreate, VolumeStore};

use crate::format::{Format, Row};
use crate::Ctx;

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
    /// table, table TEMPLATE, json, or a Go template (docs/formats.md)
    #[arg(long)]
    pub format: Option<String>,
    /// dangling=true|false, name=SUBSTRING, label=KEY[=VALUE], driver=local
    #[arg(short, long)]
    pub filter: Vec<String>,
}

#[derive(Args)]
pub struct InspectArgs {
    /// A Go template over each volume, or json (default: indented JSON)
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
    let v = store.create(&req)?;
    crate::events::volume("create", &v.name);
    outln!("{}", v.name)?;
    Ok(())
}

/// The `--filter`s of ls/prune (yurta_engine::system::volumes).
fn filters(list: &[String]) -> anyhow::Result<Vec<VolumeFilter>> {
    Ok(list
        .iter()
        .map(|f| VolumeFilter::parse(f))
        .collect::<Result<Vec<_>, _>>()?)
}

fn list(store: &VolumeStore, a: LsArgs) -> anyhow::Result<()> {
    let vols = yurta_engine::system::volumes::list(store, &filters(&a.filter)?)?;
    let f = match a.quiet {
        true => Format::new(Some("{{.Name}}"), ""),
        false => Format::new(a.format.as_deref(), r"table {{.Driver}}\t{{.Name}}"),
    };
    let labels: Vec<BTreeMap<String, String>> = vols
        .iter()
        .map(|v| v.labels.clone().unwrap_or_default())
        .collect();
    let rows: Vec<Row<'_>> = vols
        .iter()
        .zip(&labels)
        .map(|(v, l)| Row::with_labels(volume_context(v, l), l))
        .collect();
    crate::format::list(&f, &rows, &HEADERS)
}

/// Docker's column names of the volume context.
const HEADERS: [(&str, &str); 11] = [
    ("ID", "ID"),
    ("Name", "VOLUME NAME"),
    ("Group", "GROUP"),
    ("Driver", "DRIVER"),
    ("Scope", "SCOPE"),
    ("Availability", "AVAILABILITY"),
    ("Mountpoint", "MOUNTPOINT"),
    ("Labels", "LABELS"),
    ("Links", "LINKS"),
    ("Size", "SIZE"),
    ("Status", "STATUS"),
];

/// Docker's volume context for `--format` (no cluster volumes, no
/// usage data: those are N/A, as `docker volume ls` shows them).
fn volume_context(v: &Volume, labels: &BTreeMap<String, String>) -> serde_json::Value {
    json!({
        "Availability": "N/A", "Driver": v.driver, "Group": "N/A",
        "Labels": crate::format::labels(labels), "Links": "N/A", "Mountpoint": v.mountpoint,
        "Name": v.name, "Scope": v.scope, "Size": "N/A", "Status": "N/A",
    })
}

fn inspect(store: &VolumeStore, a: InspectArgs) -> anyhow::Result<()> {
    let mut out = Vec::new();
    for name in &a.volumes {
        let v = store
            .read(name)
            .with_context(|| format!("inspect {name}"))?;
        out.push(serde_json::to_value(v)?);
    }
    crate::format::inspect(a.format.as_deref(), &out)
}

fn remove(store: &VolumeStore, a: RmArgs) -> anyhow::Result<()> {
    // Docker goes on after a failure; each error is one line, the last is
    // the command's.
    let mut last: Option<anyhow::Error> = None;
    for name in &a.volumes {
        match store.remove(name, a.force) {
            Ok(()) => outln!("{name}").map(|()| crate::events::volume("destroy", name))?,
            Err(e) => {
                if let Some(prev) = last.replace(e.into()) {
                    errln!("yurta: {}", crate::out::OneLine(&prev));
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
    if !a.force && !crate::prune::confirm(&[what])? {
        return Ok(());
    }
    let wanted = filters(&a.filter)?;
    if let Some(f) = a.filter.iter().zip(&wanted).find(|(_, w)| !w.is_label()) {
        bail!("unsupported filter {:?} (label=, label!=)", f.0);
    }
    let filter = |v: &Volume| wanted.iter().all(|f| f.matches(v, store).unwrap_or(false));
    let removed = store.prune(a.all, &filter)?;
    let total: u64 = removed.iter().map(|(_, size)| size).sum();
    let names: Vec<String> = removed.into_iter().map(|(n, _)| n).collect();
    crate::events::volumes_pruned(&names);
    crate::prune::report("Volumes", &names)?;
    crate::prune::total(total)?;
    Ok(())
}
