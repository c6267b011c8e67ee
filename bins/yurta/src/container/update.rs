//! `update`: new resource limits and restart policy, Docker's rules
//! (`yurta_engine::options::update`). For a running container the limits
//! go to its cgroup first (`yurta-runtime update`), so a refused value
//! (a memory limit below what it uses) changes nothing; then the record,
//! which the next start builds from; then the running bundle's
//! config.json, which the supervisor's restarts use. A new restart policy
//! reaches the running supervisor through `restart-policy` in the
//! container's directory (`PID POLICY`, read at each exit), so it applies
//! at once, as Docker's does — except while a foreground `run` is attached
//! from a start without restarts: that run cleans up after the exit, and
//! the policy applies from the next start.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{bail, Context};
use serde_json::Value;
use yurta_engine::options::limits::host_cpus;
use yurta_engine::options::update::{resources, UpdateOptions, Updated};
use yurta_engine::record::{HostConfig, RestartPolicy};
use yurta_engine::Engine;
use yurta_sysutil::{replace_file, Durability};

use super::args::UpdateArgs;
use super::{reconcile, runtime_root, state, Paths};
use crate::Ctx;

pub fn update(ctx: &Ctx, a: UpdateArgs) -> anyhow::Result<()> {
    let opts = UpdateOptions {
        memory: a.memory.clone(),
        memory_swap: a.memory_swap.clone(),
        cpus: a.cpus.clone(),
        cpu_shares: a.cpu_shares,
        cpuset_cpus: a.cpuset_cpus.clone(),
        pids_limit: a.pids_limit,
        restart: a.restart.clone(),
    };
    // Refused before any container is looked at, as Docker's CLI does.
    // (A swap limit alone is checked against each container's memory.)
    opts.apply(&mut HostConfig::default(), host_cpus())
        .or_else(|e| match e {
            yurta_engine::OptionError::SwapWithoutMemory => Ok(Updated::default()),
            e => Err(e),
        })?;
    let engine = Engine::open(&ctx.root)?;
    let mut failed = Vec::new();
    for q in &a.containers {
        match update_one(ctx, &engine, q, &opts) {
            Ok(()) => outln!("{q}")?,
            Err(e) => failed.push(format!("{q}: {}", crate::out::OneLine(&e))),
        }
    }
    if !failed.is_empty() {
        bail!("{}", failed.join("; "));
    }
    Ok(())
}

fn update_one(ctx: &Ctx, engine: &Engine, q: &str, opts: &UpdateOptions) -> anyhow::Result<()> {
    let rec = reconcile::refresh(ctx, engine, engine.containers.lookup(q)?);
    let cpus = host_cpus();
    let mut hc = rec.host_config.clone();
    let up = opts.apply(&mut hc, cpus)?;
    let p = Paths::new(&ctx.root, &rec.id);
    let res = resources(&hc, &up);
    if rec.state.running && up.resources() {
        runtime_update(ctx, &rec.id, &res)?;
        yurta_fault::point("update.applied");
    }
    engine.containers.update(&rec.id, |r| {
        // Again over the record as it is now; validated above.
        let _ = opts.apply(&mut r.host_config, cpus);
    })?;
    yurta_fault::point("update.recorded");
    if rec.state.running {
        running_bundle(&p, &res)?;
        if up.restart {
            tell_supervisor(&p, &hc.restart_policy)?;
        }
    }
    Ok(())
}

/// `yurta-runtime update --resources - ID` with OCI `linux.resources`.
fn runtime_update(ctx: &Ctx, id: &str, res: &Value) -> anyhow::Result<()> {
    let mut child = Command::new(ctx.binaries.runtime.clone())
        .arg("--root")
        .arg(runtime_root(ctx))
        .args(["update", "--resources", "-", id])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("yurta-runtime")?;
    let json = serde_json::to_vec(res)?;
    child.stdin.take().context("stdin")?.write_all(&json)?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        bail!("{}", err.trim().trim_start_matches("yurta-runtime: "));
    }
    Ok(())
}

/// The running bundle's config.json gets the new limits, which the
/// supervisor's restarts create the cgroup with.
fn running_bundle(p: &Paths, res: &Value) -> anyhow::Result<()> {
    let path = p.dir.join("config.json");
    let Ok(text) = std::fs::read(&path) else {
        return Ok(()); // no bundle: the next start writes one
    };
    let mut spec: Value =
        serde_json::from_slice(&text).with_context(|| format!("parse {}", path.display()))?;
    let Value::Object(new) = res else {
        return Ok(());
    };
    let current = &mut spec["linux"]["resources"];
    for (k, v) in new {
        current[k] = v.clone();
    }
    write(&path, &serde_json::to_vec_pretty(&spec)?)
}

/// `restart-policy` for the running supervisor: `PID POLICY`, its pid so
/// that a later supervisor does not take it for its own.
fn tell_supervisor(p: &Paths, policy: &RestartPolicy) -> anyhow::Result<()> {
    if !state::supervisor_alive(p) {
        return Ok(());
    }
    let pid = std::fs::read_to_string(&p.supervisor_pid).unwrap_or_default();
    let name = match policy.name.as_str() {
        "on-failure" if policy.maximum_retry_count > 0 => {
            format!("on-failure:{}", policy.maximum_retry_count)
        }
        "" => "no".to_string(),
        n => n.to_string(),
    };
    write(
        &p.dir.join("restart-policy"),
        format!("{} {name}\n", pid.trim()).as_bytes(),
    )
}

fn write(path: &Path, data: &[u8]) -> anyhow::Result<()> {
    replace_file(path, data, 0o644, Durability::Unsynced)
        .with_context(|| format!("write {}", path.display()))
}
