//! `POST /containers/{id}/update`: Docker's `UpdateConfig` (the resource
//! fields and `RestartPolicy`) as the engine's update options, so `docker
//! update` and docker-py's `container.update()` change the same limits and
//! policy as `yurta update`, on a running container at once. Docker's
//! clients send every integer field, so zero means "not given".

use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;
use yurta_engine::lifecycle::update;
use yurta_engine::options::update::UpdateOptions;

use super::{lifecycle_error, open};
use crate::error::ApiError;
use crate::request::{blocking, ok, Call, Reply};

/// The fields of Docker's `UpdateConfig` yurta applies.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct UpdateBody {
    memory: i64,
    memory_swap: i64,
    nano_cpus: i64,
    cpu_shares: i64,
    cpuset_cpus: String,
    pids_limit: Option<i64>,
    restart_policy: Option<Policy>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Policy {
    name: String,
    maximum_retry_count: i64,
}

impl UpdateBody {
    fn options(&self) -> UpdateOptions {
        let given = |n: i64| (n != 0).then(|| n.to_string());
        UpdateOptions {
            memory: given(self.memory),
            memory_swap: given(self.memory_swap),
            cpus: (self.nano_cpus != 0).then(|| format!("{}", self.nano_cpus as f64 / 1e9)),
            cpu_shares: (self.cpu_shares != 0).then_some(self.cpu_shares),
            cpuset_cpus: (!self.cpuset_cpus.is_empty()).then(|| self.cpuset_cpus.clone()),
            pids_limit: self.pids_limit.filter(|&n| n != 0),
            restart: self
                .restart_policy
                .as_ref()
                .filter(|p| !p.name.is_empty())
                .map(|p| match (p.name.as_str(), p.maximum_retry_count) {
                    ("on-failure", n) if n > 0 => format!("on-failure:{n}"),
                    (name, _) => name.to_string(),
                }),
        }
    }
}

pub(crate) async fn update(mut c: Call) -> Reply {
    let body: UpdateBody = c.json().await?;
    let opts = body.options();
    update::check(&opts).map_err(|e| ApiError::of(&e))?;
    let (state, name) = (Arc::clone(&c.state), c.param(0).to_string());
    blocking(move || {
        let engine = open(&state)?;
        update::update(&state.engine, &engine, &name, &opts).map_err(lifecycle_error)
    })
    .await?;
    ok(&json!({ "Warnings": [] }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_is_not_given_and_policies_read_as_flags() {
        let body: UpdateBody = serde_json::from_str(
            r#"{"Memory":67108864,"MemorySwap":0,"NanoCpus":1500000000,"CpuShares":0,
                "CpusetCpus":"","RestartPolicy":{"Name":"on-failure","MaximumRetryCount":2}}"#,
        )
        .unwrap();
        let o = body.options();
        assert_eq!(o.memory.as_deref(), Some("67108864"));
        assert_eq!(o.memory_swap, None);
        assert_eq!(o.cpus.as_deref(), Some("1.5"));
        assert_eq!(o.cpu_shares, None);
        assert_eq!(o.cpuset_cpus, None);
        assert_eq!(o.restart.as_deref(), Some("on-failure:2"));
        let none: UpdateBody = serde_json::from_str("{}").unwrap();
        assert!(none.options().restart.is_none());
    }
}
