//! `update`: new resource limits and restart policy, Docker's rules
//! ([`crate::options::update`]). For a running container the limits go to
//! its cgroup first (`yurta-runtime update`), so a refused value (a memory
//! limit below what it uses) changes nothing; then the record, which the
//! next start builds from; then the running bundle's config.json, which
//! the supervisor's restarts use. A new restart policy reaches the running
//! supervisor through `restart-policy` in the container's directory
//! (`PID POLICY`, read at each exit), so it applies at once, as Docker's
//! does — except while a foreground `run` is attached from a start without
//! restarts: that run cleans up after the exit, and the policy applies
//! from the next start.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{bail, Context};
use serde_json::Value;
use yurta_sysutil::{replace_file, Durability};

use super::{reconcile, state, Host, Paths};
use crate::options::limits::host_cpus;
use crate::options::update::{resources, UpdateOptions, Updated};
use crate::record::{HostConfig, RestartPolicy};
use crate::{Engine, OptionError};

/// Refuses what no container could take, before any is looked at, as
/// Docker's CLI does. (A swap limit alone is checked against each
/// container's memory.)
pub fn check(opts: &UpdateOptions) -> Result<(), OptionError> {
    match opts.apply(&mut HostConfig::default(), host_cpus()) {
        Ok(_) | Err(OptionError::SwapWithoutMemory) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Updates one container (a name, ID or ID prefix).
pub fn update(
    host: &Host,
    engine: &Engine,
    container: &str,
    opts: &UpdateOptions,
) -> anyhow::Result<Updated> {
    let rec = reconcile::refresh(host, engine, engine.containers.lookup(container)?);
    let cpus = host_cpus();
    let mut hc = rec.host_config.clone();
    let up = opts.apply(&mut hc, cpus)?;
    let p = host.paths(&rec.id);
    let res = resources(&hc, &up);
    if rec.state.running && up.resources() {
        runtime_update(host, &rec.id, &res)?;
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
    Ok(up)
}

/// `yurta-runtime update --resources - ID` with OCI `linux.resources`.
fn runtime_update(host: &Host, id: &str, res: &Value) -> anyhow::Result<()> {
    let mut child = Command::new(&host.binaries.runtime)
        .arg("--root")
        .arg(host.runtime_root())
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
