//! network create / ls / inspect / rm / connect / disconnect / prune, over
//! yurta-network.

use std::collections::BTreeMap;

use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::json;
use yurta_engine::lifecycle::connect::{self, ConnectRequest};
use yurta_engine::Engine;
use yurta_network::filter::{passes, NetworkFilter};
use yurta_network::CreateOptions;

use crate::container::networks;
use crate::format::{self, Format, Row};
use crate::Ctx;

#[derive(Subcommand)]
pub enum NetworkCommand {
    /// Create a network
    Create(CreateArgs),
    /// List networks
    #[command(alias = "list")]
    Ls(LsArgs),
    /// Display detailed information on networks
    Inspect(InspectArgs),
    /// Remove networks
    #[command(alias = "remove")]
    Rm(NamesArgs),
    /// Connect a running container to a network
    Connect(ConnectArgs),
    /// Disconnect a container from a network
    Disconnect(ConnectArgs),
    /// Remove unused networks
    Prune(PruneArgs),
}

#[derive(Args)]
pub struct CreateArgs {
    /// bridge (the only driver)
    #[arg(short, long)]
    pub driver: Option<String>,
    #[arg(long)]
    pub subnet: Option<String>,
    #[arg(long)]
    pub gateway: Option<String>,
    /// No access to the outside
    #[arg(long)]
    pub internal: bool,
    #[arg(long)]
    pub label: Vec<String>,
    #[arg(short, long = "opt")]
    pub opt: Vec<String>,
    pub name: String,
}

#[derive(Args)]
pub struct LsArgs {
    #[arg(short, long)]
    pub quiet: bool,
    /// table, table TEMPLATE, json, or a Go template (docs/formats.md)
    #[arg(long)]
    pub format: Option<String>,
    #[arg(long)]
    pub no_trunc: bool,
    /// name=, id=, label=KEY[=VALUE], driver=, type=custom|builtin, dangling=true|false
    #[arg(short, long)]
    pub filter: Vec<String>,
}

#[derive(Args)]
pub struct InspectArgs {
    /// A Go template over each network, or json (default: indented JSON)
    #[arg(short, long)]
    pub format: Option<String>,
    #[arg(required = true)]
    pub names: Vec<String>,
}

#[derive(Args)]
pub struct NamesArgs {
    #[arg(required = true)]
    pub names: Vec<String>,
}

#[derive(Args)]
pub struct ConnectArgs {
    pub network: String,
    pub container: String,
    #[arg(long)]
    pub alias: Vec<String>,
    #[arg(long)]
    pub ip: Option<std::net::Ipv4Addr>,
    /// (disconnect) accepted
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Args)]
pub struct PruneArgs {
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
}

fn kv(items: &[String]) -> BTreeMap<String, String> {
    items
        .iter()
        .map(|s| {
            let (k, v) = s.split_once('=').unwrap_or((s, ""));
            (k.to_string(), v.to_string())
        })
        .collect()
}

pub fn run(ctx: &Ctx, c: NetworkCommand) -> anyhow::Result<()> {
    let nets = networks(ctx)?;
    match c {
        NetworkCommand::Create(a) => {
            let n = nets.create(
                &a.name,
                &CreateOptions {
                    driver: a.driver,
                    subnet: a.subnet,
                    gateway: a.gateway,
                    internal: a.internal,
                    labels: kv(&a.label),
                    options: kv(&a.opt),
                },
            )?;
            crate::events::network("create", &n);
            outln!("{}", n.id)?;
        }
        NetworkCommand::Ls(a) => {
            let filters = a
                .filter
                .iter()
                .map(|f| {
                    let (k, v) = f.split_once('=').unwrap_or((f, ""));
                    NetworkFilter::from_pair(k, v)
                })
                .collect::<Result<Vec<_>, _>>()?;
            nets.ensure_default()?;
            let mut all = nets.list()?;
            all.retain(|n| passes(n, &filters));
            list(&all, &a)?;
        }
        NetworkCommand::Inspect(a) => {
            let mut out = Vec::new();
            for n in &a.names {
                out.push(nets.inspect(n)?.inspect_json());
            }
            format::inspect(a.format.as_deref(), &out)?;
        }
        NetworkCommand::Rm(a) => {
            for n in &a.names {
                let gone = nets.inspect(n).ok();
                nets.remove(n).with_context(|| format!("remove {n}"))?;
                crate::events::network_gone(gone.as_ref());
                outln!("{n}")?;
            }
        }
        NetworkCommand::Prune(a) => {
            let what = "all custom networks not used by at least one container";
            if a.force || crate::prune::confirm(&[what])? {
                let pruned = nets.prune()?;
                crate::events::networks_pruned(&pruned);
                crate::prune::report("Networks", &pruned)?;
            }
        }
        NetworkCommand::Connect(a) => connect(ctx, &a)?,
        NetworkCommand::Disconnect(a) => {
            let engine = Engine::open(&ctx.root)?;
            let rec = engine.containers.lookup(&a.container)?;
            let rec = crate::container::reconcile::refresh(ctx, &engine, rec);
            connect::disconnect(ctx, &engine, &rec, &a.network)?;
        }
    }
    Ok(())
}

/// Docker's column names of the network context.
const HEADERS: [(&str, &str); 9] = [
    ("ID", "NETWORK ID"),
    ("Name", "NAME"),
    ("Driver", "DRIVER"),
    ("Scope", "SCOPE"),
    ("IPv4", "IPV4"),
    ("IPv6", "IPV6"),
    ("Internal", "INTERNAL"),
    ("Labels", "LABELS"),
    ("CreatedAt", "CREATED AT"),
];

fn list(networks: &[yurta_network::Network], a: &LsArgs) -> anyhow::Result<()> {
    let f = match a.quiet {
        true => Format::new(Some("{{.ID}}"), ""),
        false => Format::new(
            a.format.as_deref(),
            r"table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}",
        ),
    };
    let rows: Vec<Row<'_>> = networks
        .iter()
        .map(|n| {
            let data = json!({
                "ID": format::id(&n.id, a.no_trunc),
                "Name": n.name,
                "Driver": n.driver,
                "Scope": "local",
                "IPv4": "true",
                "IPv6": "false",
                "Internal": n.internal.to_string(),
                "Labels": format::labels(&n.labels),
                "CreatedAt": format::go_time(&n.created),
            });
            Row::with_labels(data, &n.labels)
        })
        .collect();
    format::list(&f, &rows, &HEADERS)
}

/// Attaches a running container's namespace to one more network.
fn connect(ctx: &Ctx, a: &ConnectArgs) -> anyhow::Result<()> {
    let engine = Engine::open(&ctx.root)?;
    let rec =
        crate::container::reconcile::refresh(ctx, &engine, engine.containers.lookup(&a.container)?);
    let req = ConnectRequest {
        network: a.network.clone(),
        aliases: a.alias.clone(),
        ip: a.ip,
    };
    connect::connect(ctx, &engine, &rec, &req)
}
