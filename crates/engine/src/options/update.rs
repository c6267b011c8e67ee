//! `update`: new resource limits and restart policy for an existing
//! container, with Docker's rules, over its `HostConfig`. Pure: the caller
//! applies [`resources`] to a running container's cgroup (the runtime's
//! `update`) and saves the record.

use serde_json::{json, Map, Value};

use super::{cpus, parse, OptionError};
use crate::record::HostConfig;

/// The flags of `update`, as typed.
#[derive(Debug, Clone, Default)]
pub struct UpdateOptions {
    pub memory: Option<String>,
    pub memory_swap: Option<String>,
    pub cpus: Option<String>,
    pub cpu_shares: Option<i64>,
    pub cpuset_cpus: Option<String>,
    pub pids_limit: Option<i64>,
    pub restart: Option<String>,
}

/// Which settings an update changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Updated {
    pub memory: bool,
    pub cpu: bool,
    pub pids: bool,
    pub restart: bool,
}

impl Updated {
    /// Whether a running container's cgroup needs the new values.
    pub fn resources(&self) -> bool {
        self.memory || self.cpu || self.pids
    }
}

impl UpdateOptions {
    pub fn is_empty(&self) -> bool {
        self.memory.is_none()
            && self.memory_swap.is_none()
            && self.cpus.is_none()
            && self.cpu_shares.is_none()
            && self.cpuset_cpus.is_none()
            && self.pids_limit.is_none()
            && self.restart.is_none()
    }

    /// Docker's update of `hc` on a host with `host_cpus` CPUs; `hc` is
    /// changed only when every value is valid. As Docker: a zero memory,
    /// `--cpus` or `--cpu-shares` changes nothing; a memory above the swap
    /// limit already set needs a new `--memory-swap`; `--pids-limit` 0 or
    /// -1 lifts the limit; a container removed at exit keeps `no` restarts.
    pub fn apply(&self, hc: &mut HostConfig, host_cpus: usize) -> Result<Updated, OptionError> {
        if self.is_empty() {
            return Err(OptionError::NothingToUpdate);
        }
        let mut new = hc.clone();
        let mut up = Updated {
            memory: self.memory_limits(&mut new)?,
            ..Default::default()
        };
        if let Some(c) = &self.cpus {
            let nano = cpus(c, host_cpus)?;
            if nano != 0 {
                new.nano_cpus = nano;
                up.cpu = true;
            }
        }
        match self.cpu_shares {
            Some(n) if n < 0 => return Err(OptionError::CpuShares(n)),
            Some(n) if n > 0 => {
                new.cpu_shares = n;
                up.cpu = true;
            }
            _ => {}
        }
        if let Some(c) = &self.cpuset_cpus {
            new.cpuset_cpus = parse::cpuset(c)?;
            up.cpu = true;
        }
        if let Some(n) = self.pids_limit {
            new.pids_limit = (n > 0).then_some(n);
            up.pids = true;
        }
        if let Some(r) = &self.restart {
            let policy = parse::restart(r)?;
            if new.auto_remove && policy.name != "no" {
                return Err(OptionError::RestartAutoRemove(r.clone()));
            }
            new.restart_policy = policy;
            up.restart = true;
        }
        *hc = new;
        Ok(up)
    }

    /// `--memory` and `--memory-swap` over `hc`; whether either changed.
    fn memory_limits(&self, hc: &mut HostConfig) -> Result<bool, OptionError> {
        let memory = self.memory.as_deref();
        let mem = memory.map(|m| parse::size("memory", m)).transpose()?;
        let swap = match self.memory_swap.as_deref() {
            Some("-1") => Some(-1),
            Some(s) => Some(parse::size("memory-swap", s)?),
            None => None,
        };
        let mut changed = false;
        if let Some(m) = mem.filter(|m| *m != 0) {
            if m < parse::MIN_MEMORY {
                return Err(OptionError::MemoryTooSmall(
                    memory.unwrap_or_default().into(),
                ));
            }
            if swap.is_none() && hc.memory_swap > 0 && m > hc.memory_swap {
                return Err(OptionError::MemoryAboveSwap {
                    value: memory.unwrap_or_default().into(),
                    swap: hc.memory_swap,
                });
            }
            hc.memory = m;
            changed = true;
        }
        if let Some(s) = swap.filter(|s| *s != 0) {
            if hc.memory == 0 {
                return Err(OptionError::SwapWithoutMemory);
            }
            if s > 0 && s < hc.memory {
                return Err(OptionError::SwapBelowMemory);
            }
            hc.memory_swap = s;
            changed = true;
        }
        Ok(changed)
    }
}

/// OCI `linux.resources` with the settings `up` names, from the updated
/// `hc` (what `yurta-runtime update --resources` takes and the bundle's
/// config.json holds): a lifted limit is -1.
pub fn resources(hc: &HostConfig, up: &Updated) -> Value {
    let mut res = Map::new();
    if up.memory {
        let mut mem = json!({"limit": if hc.memory > 0 { hc.memory } else { -1 }});
        if hc.memory_swap != 0 {
            mem["swap"] = json!(hc.memory_swap);
        }
        res.insert("memory".into(), mem);
    }
    if up.cpu {
        const PERIOD: i64 = 100_000;
        let mut cpu = Map::new();
        if hc.nano_cpus > 0 {
            cpu.insert("quota".into(), json!(hc.nano_cpus * PERIOD / 1_000_000_000));
            cpu.insert("period".into(), json!(PERIOD));
        }
        if hc.cpu_shares > 0 {
            cpu.insert("shares".into(), json!(hc.cpu_shares));
        }
        if !hc.cpuset_cpus.is_empty() {
            cpu.insert("cpus".into(), json!(hc.cpuset_cpus));
        }
        res.insert("cpu".into(), Value::Object(cpu));
    }
    if up.pids {
        res.insert("pids".into(), json!({"limit": hc.pids_limit.unwrap_or(-1)}));
    }
    Value::Object(res)
}

#[cfg(test)]
#[path = "update_tests.rs"]
mod tests;
