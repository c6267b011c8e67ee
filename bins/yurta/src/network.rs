//! network create / ls / inspect / rm / connect / disconnect / prune, over
//! yurta-network.

use std::collections::BTreeMap;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use yurta_engine::Engine;
use yurta_network::{AttachRequest, CreateOptions};

use crate::container::networks;
use crate::{format, Ctx};

#[derive(Subcommand)]
pub enum NetworkCommand {
    /// Create a network
    Create(CreateArgs),
    /// List networks
    #[command(alias = "list")]
    Ls(LsArgs),
    /// Display detailed information on networks
    Inspect(NamesArgs),
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
    /// table (default) or json
    #[arg(long)]
    pub format: Option<String>,
    #[arg(long)]
    pub no_trunc: bool,
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
            println!("{}", n.id);
        }
        NetworkCommand::Ls(a) => {
            nets.ensure_default()?;
            let list = nets.list()?;
            if a.quiet {
                list.iter()
                    .for_each(|n| println!("{}", format::id(&n.id, a.no_trunc)));
            } else if a.format.as_deref() == Some("json") {
                for n in &list {
                    println!("{}", n.inspect_json());
                }
            } else {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|n| {
                        vec![
                            format::id(&n.id, a.no_trunc),
                            n.name.clone(),
                            n.driver.clone(),
                            "local".into(),
                        ]
                    })
                    .collect();
                format::table(&["NETWORK ID", "NAME", "DRIVER", "SCOPE"], &rows);
            }
        }
        NetworkCommand::Inspect(a) => {
            let mut out = Vec::new();
            for n in &a.names {
                out.push(nets.inspect(n)?.inspect_json());
            }
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        NetworkCommand::Rm(a) => {
            for n in &a.names {
                nets.remove(n).with_context(|| format!("remove {n}"))?;
                println!("{n}");
            }
        }
        NetworkCommand::Prune(_) => {
            println!("Deleted Networks:");
            for n in nets.prune()? {
                println!("{n}");
            }
        }
        NetworkCommand::Connect(a) => connect(ctx, &nets, &a)?,
        NetworkCommand::Disconnect(a) => {
            let engine = Engine::open(&ctx.root)?;
            let rec = engine.containers.lookup(&a.container)?;
            nets.detach(&a.network, &rec.id)?;
            let name = nets.inspect(&a.network)?.name;
            engine.containers.update(&rec.id, |r| {
                r.network_settings.networks.remove(&name);
            })?;
        }
    }
    Ok(())
}

/// Attaches a running container's namespace to one more network.
fn connect(ctx: &Ctx, nets: &yurta_network::Networks, a: &ConnectArgs) -> anyhow::Result<()> {
    let engine = Engine::open(&ctx.root)?;
    let rec = engine.containers.lookup(&a.container)?;
    let p = crate::container::Paths::new(&ctx.root, &rec.id);
    if !rec.state.running || !p.netns.exists() {
        bail!(
            "container {} is not running on a bridge network",
            a.container
        );
    }
    let mut req = AttachRequest::new(&a.network, &rec.id, &p.netns);
    req.container_name = rec.bare_name();
    req.aliases = a.alias.clone();
    req.ip = a.ip;
    req.hosts_file = Some(p.dir.join("hosts"));
    let ep = nets.attach(&req)?;
    engine.containers.update(&rec.id, |r| {
        r.network_settings.networks.insert(
            ep.network.clone(),
            yurta_engine::record::EndpointSettings {
                aliases: (!a.alias.is_empty()).then(|| a.alias.clone()),
                network_id: ep.network_id.clone(),
                endpoint_id: ep.endpoint_id.clone(),
                gateway: ep.gateway.to_string(),
                ip_address: ep.ip.to_string(),
                ip_prefix_len: ep.prefix.into(),
                mac_address: ep.mac.clone(),
            },
        );
    })?;
    crate::container::refresh_peers(ctx, &rec.id, &p.dir.join("hosts"))
}
