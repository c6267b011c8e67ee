//! `ps`: Docker's columns, filters and JSON lines, from records
//! reconciled with their supervisors (a killed supervisor shows as dead).

use anyhow::bail;
use serde_json::json;
use yurta_engine::record::{ContainerRecord, Status};
use yurta_engine::Engine;

use super::args::PsArgs;
use super::state;
use crate::{format, Ctx};

pub fn ps(ctx: &Ctx, a: PsArgs) -> anyhow::Result<()> {
    let engine = Engine::open(&ctx.root)?;
    let (readable, unreadable) = engine.containers.list_checked()?;
    for e in unreadable {
        eprintln!("yurta: warning: skipped an unreadable container record: {e}");
    }
    let mut recs: Vec<ContainerRecord> = readable
        .into_iter()
        .map(|r| state::refresh(ctx, &engine, r))
        .collect();
    recs.sort_by(|a, b| b.created.cmp(&a.created));
    let filters = a
        .filter
        .iter()
        .map(|f| {
            f.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| anyhow::anyhow!("bad filter {f:?}: expected KEY=VALUE"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let has_status = filters.iter().any(|(k, _)| k == "status");
    let mut shown = Vec::new();
    for r in recs {
        if !a.all && !has_status && !r.state.running {
            continue;
        }
        if filters
            .iter()
            .all(|(k, v)| matches(&r, k, v))
            .then_some(())
            .is_none()
        {
            continue;
        }
        for (k, _) in &filters {
            if !["status", "name", "id", "label", "ancestor"].contains(&k.as_str()) {
                bail!("invalid filter {k:?}");
            }
        }
        shown.push(r);
        if a.latest {
            break;
        }
    }
    if a.quiet {
        for r in &shown {
            println!("{}", format::id(&r.id, a.no_trunc));
        }
        return Ok(());
    }
    let rows: Vec<Vec<String>> = shown.iter().map(|r| row(r, a.no_trunc)).collect();
    match a.format.as_deref() {
        None | Some("table") => format::table(
            &[
                "CONTAINER ID",
                "IMAGE",
                "COMMAND",
                "CREATED",
                "STATUS",
                "PORTS",
                "NAMES",
            ],
            &rows,
        ),
        Some("json") | Some("{{json .}}") => {
            for (r, c) in shown.iter().zip(rows) {
                let v = json!({
                    "ID": c[0], "Image": c[1], "Command": c[2], "CreatedAt": r.created,
                    "RunningFor": c[3], "Status": c[4], "State": r.state.status.to_string(),
                    "Ports": c[5], "Names": c[6], "Labels": labels(r),
                });
                println!("{v}");
            }
        }
        Some(f) => bail!("unsupported --format {f:?}: table or json"),
    }
    Ok(())
}

fn labels(r: &ContainerRecord) -> String {
    let l: Vec<String> = r
        .config
        .labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    l.join(",")
}

fn matches(r: &ContainerRecord, k: &str, v: &str) -> bool {
    match k {
        "status" => r.state.status.to_string() == v,
        "name" => r.bare_name().contains(v),
        "id" => r.id.starts_with(v),
        "label" => match v.split_once('=') {
            Some((k, v)) => r.config.labels.get(k).is_some_and(|x| x == v),
            None => r.config.labels.contains_key(v),
        },
        "ancestor" => r.image_name.as_deref() == Some(v) || r.image.contains(v),
        _ => true,
    }
}

fn secs(t: &str) -> i64 {
    yurta_images::time::parse_rfc3339(t).unwrap_or(0)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Docker's STATUS column.
pub fn status_text(r: &ContainerRecord) -> String {
    let s = &r.state;
    match s.status {
        Status::Created => "Created".into(),
        Status::Running => format!("Up {}", format::duration(now() - secs(&s.started_at))),
        Status::Paused => format!(
            "Up {} (Paused)",
            format::duration(now() - secs(&s.started_at))
        ),
        Status::Restarting => "Restarting".into(),
        Status::Removing => "Removal In Progress".into(),
        Status::Exited => format!(
            "Exited ({}) {}",
            s.exit_code,
            format::ago(secs(&s.finished_at))
        ),
        Status::Dead => "Dead".into(),
    }
}

fn row(r: &ContainerRecord, no_trunc: bool) -> Vec<String> {
    let mut cmd = std::iter::once(r.path.clone())
        .chain(r.args.iter().cloned())
        .collect::<Vec<_>>()
        .join(" ");
    if !no_trunc && cmd.chars().count() > 20 {
        cmd = cmd.chars().take(19).collect::<String>() + "…";
    }
    vec![
        format::id(&r.id, no_trunc),
        r.image_name
            .clone()
            .unwrap_or_else(|| format::id(&r.image, false)),
        format!("\"{cmd}\""),
        format::ago(secs(&r.created)),
        status_text(r),
        ports(r),
        r.bare_name().to_string(),
    ]
}

/// `0.0.0.0:8080->80/tcp, 443/tcp`.
pub fn ports(r: &ContainerRecord) -> String {
    let mut out = Vec::new();
    for (key, bindings) in &r.network_settings.ports {
        match bindings {
            Some(b) if !b.is_empty() => {
                for b in b {
                    let ip = if b.host_ip.is_empty() {
                        "0.0.0.0"
                    } else {
                        &b.host_ip
                    };
                    out.push(format!("{ip}:{}->{key}", b.host_port));
                }
            }
            _ => out.push(key.clone()),
        }
    }
    out.join(", ")
}
