//! `ps`: Docker's container list (filters, `-a`, `-n`/`-l`, `-s`, `-q`,
//! `--format` over Docker's container context: `.ID`, `.Names`, `.Ports`,
//! `.Label "key"`, ...), from records reconciled with their supervisors (a
//! killed supervisor shows as dead).

use std::collections::BTreeMap;

use anyhow::bail;
use serde_json::{json, Value};
use yurta_engine::record::ContainerRecord;
use yurta_engine::summary::{self, command, secs};
use yurta_engine::Engine;

use super::args::PsArgs;
use super::reconcile;
use crate::format::{self, Format, Row};
use crate::Ctx;

const DEFAULT_FORMAT: &str = r"table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";

/// Docker's column names of the container context.
pub const HEADERS: [(&str, &str); 15] = [
    ("ID", "CONTAINER ID"),
    ("Names", "NAMES"),
    ("Image", "IMAGE"),
    ("Command", "COMMAND"),
    ("CreatedAt", "CREATED AT"),
    ("RunningFor", "CREATED"),
    ("Ports", "PORTS"),
    ("State", "STATE"),
    ("Status", "STATUS"),
    ("Size", "SIZE"),
    ("Labels", "LABELS"),
    ("Mounts", "MOUNTS"),
    ("LocalVolumes", "LOCAL VOLUMES"),
    ("Networks", "NETWORKS"),
    ("Platform", "PLATFORM"),
];

use summary::FILTERS;

pub fn ps(ctx: &Ctx, a: PsArgs) -> anyhow::Result<()> {
    let filters = parse_filters(&a.filter)?;
    let engine = Engine::open(&ctx.root)?;
    let (readable, unreadable) = engine.containers.list_checked()?;
    for e in unreadable {
        errln!("yurta: warning: skipped an unreadable container record: {e}");
    }
    let mut recs: Vec<ContainerRecord> = readable
        .into_iter()
        .map(|r| reconcile::refresh(ctx, &engine, r))
        .collect();
    recs.sort_by(|a, b| b.created.cmp(&a.created));
    // `-n`/`-l` show the last created containers whatever their state.
    let last = if a.latest { 1 } else { a.last };
    let all = a.all || last > 0 || filters.iter().any(|(k, _)| k == "status");
    let mut shown: Vec<ContainerRecord> = recs
        .into_iter()
        .filter(|r| all || r.state.running)
        .filter(|r| summary::filters_match(r, &filters))
        .collect();
    if last > 0 {
        shown.truncate(last as usize);
    }
    let format = if a.quiet {
        Format::new(Some("{{.ID}}"), "")
    } else {
        let default = match a.size {
            true => format!(r"{DEFAULT_FORMAT}\t{{{{.Size}}}}"),
            false => DEFAULT_FORMAT.to_string(),
        };
        Format::new(a.format.as_deref(), &default)
    };
    // Sizes and platforms come from the image store: only when shown.
    let size = a.size || (!a.quiet && format.contains(".Size"));
    let platform = !a.quiet && (format.is_json() || format.contains(".Platform"));
    let store = match size || platform {
        true => Some(ctx.store()?),
        false => None,
    };
    let rows: Vec<Row<'_>> = shown
        .iter()
        .map(|r| {
            let mut c = context(
                r,
                !a.no_trunc,
                store
                    .as_ref()
                    .filter(|_| size)
                    .map(|s| summary::container_sizes(&ctx.root, s, r)),
            );
            if let (Some(s), true) = (&store, platform) {
                let p = s.resolve(&r.image).map(|i| i.platform.to_string());
                c["Platform"] = p.map_or(Value::Null, Value::String);
            }
            Row::with_labels(c, &r.config.labels)
        })
        .collect();
    format::list(&format, &rows, &HEADERS)
}

fn parse_filters(filter: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    filter
        .iter()
        .map(|f| {
            let Some((k, v)) = f.split_once('=') else {
                bail!("bad filter {f:?}: expected KEY=VALUE");
            };
            if !FILTERS.contains(&k) {
                bail!("invalid filter {k:?}");
            }
            Ok((k.to_string(), v.to_string()))
        })
        .collect()
}

/// Docker's container context for `--format` (its `ContainerContext`).
pub fn context(r: &ContainerRecord, trunc: bool, size: Option<(u64, u64)>) -> Value {
    let created = secs(&r.created);
    let mut command = command(r);
    if trunc {
        command = format::ellipsis(&command, 20);
    }
    let image = match &r.image_name {
        Some(name) => name.clone(),
        None => format::id(&r.image, !trunc),
    };
    let local = r
        .mounts
        .iter()
        .filter(|m| m.driver.as_deref() == Some("local"));
    json!({
        "ID": format::id(&r.id, !trunc),
        "Image": image,
        "Command": yurta_template::quote(&command),
        "CreatedAt": format::created_at(created),
        "RunningFor": format::ago(created),
        "Ports": ports(r),
        "State": r.state.status.to_string(),
        "Status": status_text(r),
        "Size": size_text(size.unwrap_or_default()),
        "Names": r.bare_name(),
        "Labels": format::labels(&r.config.labels),
        "Mounts": mounts(r, trunc),
        "LocalVolumes": local.count().to_string(),
        "Networks": r.network_settings.networks.keys().cloned().collect::<Vec<_>>().join(","),
        "Platform": Value::Null,
    })
}

fn mounts(r: &ContainerRecord, trunc: bool) -> String {
    let names: Vec<String> = r
        .mounts
        .iter()
        .map(|m| {
            let name = m.name.clone().unwrap_or_else(|| m.source.clone());
            if trunc {
                format::ellipsis(&name, 15)
            } else {
                name
            }
        })
        .collect();
    names.join(",")
}

/// `2B (virtual 21.5MB)`.
fn size_text((rw, rootfs): (u64, u64)) -> String {
    let srw = format::human_size(rw as f64, 3);
    if rootfs > 0 {
        return format!("{srw} (virtual {})", format::human_size(rootfs as f64, 3));
    }
    srw
}

fn join_host_port(ip: &str, port: &str) -> String {
    if ip.contains(':') {
        format!("[{ip}]:{port}")
    } else {
        format!("{ip}:{port}")
    }
}

fn form_group(key: &str, first: u16, last: u16) -> String {
    let (ip, proto) = match key.rsplit_once('/') {
        Some((ip, proto)) => (Some(ip), proto),
        None => (None, key),
    };
    let mut group = first.to_string();
    if first != last {
        group = format!("{group}-{last}");
    }
    if let Some(ip) = ip {
        group = format!("{}->{group}", join_host_port(ip, &group));
    }
    format!("{group}/{proto}")
}

/// Docker's PORTS: `0.0.0.0:8080->80/tcp, 443/tcp`, consecutive ports
/// as ranges (`8000-8002/tcp`).
pub fn ports(r: &ContainerRecord) -> String {
    let mut ports = summary::ports(r);
    ports.sort_by(|a, b| {
        (a.private, &a.ip, a.public, &a.proto).cmp(&(b.private, &b.ip, b.public, &b.proto))
    });
    let mut groups: BTreeMap<String, (u16, u16)> = BTreeMap::new();
    let mut order = Vec::new();
    let (mut result, mut mappings) = (Vec::new(), Vec::new());
    for p in ports {
        let mut key = p.proto.clone();
        if let Some(ip) = &p.ip {
            if p.public != p.private {
                let host = join_host_port(ip, &p.public.to_string());
                mappings.push(format!("{host}->{}/{}", p.private, p.proto));
                continue;
            }
            key = format!("{ip}/{}", p.proto);
        }
        match groups.get_mut(&key) {
            None => {
                groups.insert(key.clone(), (p.private, p.private));
                order.push(key);
            }
            Some(g) if p.private == g.1.wrapping_add(1) => g.1 = p.private,
            Some(g) => {
                result.push(form_group(&key, g.0, g.1));
                *g = (p.private, p.private);
            }
        }
    }
    for key in order {
        let (first, last) = groups[&key];
        result.push(form_group(&key, first, last));
    }
    result.extend(mappings);
    result.join(", ")
}

/// Docker's STATUS column.
pub fn status_text(r: &ContainerRecord) -> String {
    summary::status_text(r, format::now())
}
