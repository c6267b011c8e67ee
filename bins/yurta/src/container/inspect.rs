//! inspect (containers, falling back to images), port, top.

use std::collections::BTreeSet;
use std::process::Command;

use anyhow::{bail, Context};
use yurta_engine::Engine;

use super::args::{InspectArgs, PortArgs, TopArgs};
use super::{reconcile, state, Paths};
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
    let p = Paths::new(&ctx.root, &rec.id);
    let init = state::init_pid(&p).context("the container's init is gone")?;
    let mut pids = cgroup_pids(&rec.id);
    pids.insert(init);
    pids.extend(descendants(init));
    let args = match a.ps_options.is_empty() {
        true => vec!["-ef".to_string()],
        false => a.ps_options.clone(),
    };
    check_ps_args(&args)?;
    let (titles, procs) = parse_ps(&run_ps(&args, &pids)?, &pids)?;
    let mut text = titles.join("\t") + "\n";
    for p in procs {
        text.push_str(&p.join("\t"));
        text.push('\n');
    }
    out!("{}", yurta_template::tabwriter::align(&text, 20, 3))?;
    Ok(())
}

/// Docker refuses options that would rename the PID column.
fn check_ps_args(args: &[String]) -> anyhow::Result<()> {
    let joined = args.join(" ");
    for (i, _) in joined.match_indices("=PID") {
        let key = joined[..i].rsplit(' ').next().unwrap_or_default();
        if key != "pid" {
            let value = joined[i + 1..].split(' ').next().unwrap_or_default();
            bail!("specifying \"{key}={value}\" is not allowed");
        }
    }
    Ok(())
}

/// `ps ARGS -qPIDS`, or `ps ARGS` where those options refuse `-q`.
fn run_ps(args: &[String], pids: &BTreeSet<i32>) -> anyhow::Result<String> {
    let list: Vec<String> = pids.iter().map(|p| p.to_string()).collect();
    let with_q = Command::new("ps")
        .args(args)
        .arg(format!("-q{}", list.join(",")))
        .output()
        .context("ps")?;
    if with_q.status.success() {
        return Ok(String::from_utf8_lossy(&with_q.stdout).into_owned());
    }
    let out = Command::new("ps").args(args).output().context("ps")?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        bail!(
            "ps {}: {}",
            args.join(" "),
            err.lines().next().unwrap_or("failed")
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

type Table = (Vec<String>, Vec<Vec<String>>);

/// The titles and the container's rows of `ps` output (the daemon's
/// parsePSOutput: the last column takes the rest of the line).
fn parse_ps(output: &str, pids: &BTreeSet<i32>) -> anyhow::Result<Table> {
    let mut lines = output.lines();
    let titles: Vec<String> = lines
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .map(String::from)
        .collect();
    let Some(pid_col) = titles.iter().position(|t| t == "PID") else {
        bail!("Couldn't find PID field in ps output");
    };
    let mut rows = Vec::new();
    let mut in_container = false;
    for line in lines.filter(|l| !l.is_empty()) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let Some(pid) = fields.get(pid_col) else {
            continue;
        };
        if *pid == "-" {
            if in_container {
                rows.push(merge(&fields, titles.len()));
            }
            continue;
        }
        let p: i32 = pid
            .parse()
            .with_context(|| format!("Unexpected pid '{pid}'"))?;
        in_container = pids.contains(&p);
        if in_container {
            rows.push(merge(&fields, titles.len()));
        }
    }
    Ok((titles, rows))
}

fn merge(fields: &[&str], columns: usize) -> Vec<String> {
    let split = columns.saturating_sub(1).min(fields.len());
    let mut row: Vec<String> = fields[..split].iter().map(|f| f.to_string()).collect();
    row.push(fields[split..].join(" "));
    row
}

/// The processes of the container's cgroup (v2, or v1's pids/memory).
fn cgroup_pids(id: &str) -> BTreeSet<i32> {
    ["", "pids/", "memory/", "cpu,cpuacct/"]
        .iter()
        .map(|c| format!("/sys/fs/cgroup/{c}yurta/{id}/cgroup.procs"))
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .flat_map(|t| {
            t.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<i32>>()
        })
        .collect()
}

fn descendants(pid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        let path = format!("/proc/{p}/task/{p}/children");
        for c in std::fs::read_to_string(path)
            .unwrap_or_default()
            .split_whitespace()
        {
            if let Ok(c) = c.parse::<i32>() {
                out.push(c);
                todo.push(c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ps_output_as_the_daemon_parses_it() {
        let out = "UID PID PPID C STIME TTY TIME CMD\nroot 1 0 0 10:00 ? 00:00:00 /sbin/init\nroot 42 1 0 10:00 ? 00:00:00 sleep 1000 now\n";
        let (titles, rows) = parse_ps(out, &BTreeSet::from([42])).unwrap();
        assert_eq!(titles.len(), 8);
        assert_eq!(
            rows,
            vec![vec![
                "root",
                "42",
                "1",
                "0",
                "10:00",
                "?",
                "00:00:00",
                "sleep 1000 now"
            ]]
        );
        assert!(parse_ps("USER COMMAND\n", &BTreeSet::new()).is_err());
        assert!(check_ps_args(&["-o".into(), "pid=PID".into()]).is_ok());
        assert_eq!(
            check_ps_args(&["-o".into(), "user=PID".into()])
                .unwrap_err()
                .to_string(),
            "specifying \"user=PID\" is not allowed"
        );
    }
}
