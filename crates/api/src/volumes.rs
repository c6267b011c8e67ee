//! `/volumes/...`: list, create, inspect, remove, prune, over the
//! engine's volume store.

use std::collections::BTreeMap;

use hyper::StatusCode;
use serde::Deserialize;
use serde_json::json;
use yurta_engine::system::volumes::{self as filters, VolumeFilter};
use yurta_engine::{VolumeCreate, VolumeStore};

use crate::error::ApiError;
use crate::journal;
use crate::request::{blocking, json, ok, status, Call, Reply};

fn store(root: &std::path::Path) -> Result<VolumeStore, ApiError> {
    Ok(VolumeStore::open_root(root)?)
}

fn parse_filters(c: &Call, known: &[&str]) -> Result<Vec<VolumeFilter>, ApiError> {
    let f = c.filters()?;
    f.only(known)?;
    Ok(f.pairs()
        .iter()
        .filter(|(k, _)| k != "all")
        .map(|(k, v)| VolumeFilter::from_pair(k, v))
        .collect::<Result<Vec<_>, _>>()?)
}

pub(crate) async fn list(c: Call) -> Reply {
    let f = parse_filters(&c, &["dangling", "name", "label", "label!", "driver"])?;
    let root = c.state.root.clone();
    let vols = blocking(move || Ok(filters::list(&store(&root)?, &f)?)).await?;
    ok(&json!({"Volumes": vols, "Warnings": null}))
}

/// Docker's `VolumeCreateBody`.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct CreateBody {
    name: String,
    driver: String,
    driver_opts: Option<BTreeMap<String, String>>,
    labels: Option<BTreeMap<String, String>>,
}

pub(crate) async fn create(mut c: Call) -> Reply {
    let b: CreateBody = c.json().await?;
    let req = VolumeCreate {
        name: (!b.name.is_empty()).then_some(b.name),
        driver: (!b.driver.is_empty()).then_some(b.driver),
        labels: b.labels.unwrap_or_default(),
        options: b.driver_opts.unwrap_or_default(),
    };
    let root = c.state.root.clone();
    let v = blocking(move || {
        let v = store(&root)?.create(&req)?;
        journal::volume(&root, "create", &v.name);
        Ok(v)
    })
    .await?;
    Ok(json(StatusCode::CREATED, &v))
}

pub(crate) async fn inspect(c: Call) -> Reply {
    let (root, name) = (c.state.root.clone(), c.param(0).to_string());
    let v = blocking(move || Ok(store(&root)?.read(&name)?)).await?;
    ok(&v)
}

pub(crate) async fn remove(c: Call) -> Reply {
    let force = c.flag("force")?;
    let (root, name) = (c.state.root.clone(), c.param(0).to_string());
    blocking(move || {
        store(&root)?.remove(&name, force)?;
        journal::volume(&root, "destroy", &name);
        Ok(())
    })
    .await?;
    status(StatusCode::NO_CONTENT)
}

/// Unused volumes; API 1.41 prunes named ones too (Docker's behaviour
/// before API 1.42), `all=false` keeps them.
pub(crate) async fn prune(c: Call) -> Reply {
    let filters = parse_filters(&c, &["label", "label!", "all"])?;
    let all = !c
        .filters()?
        .get("all")
        .iter()
        .any(|v| matches!(v.as_str(), "false" | "0"));
    let root = c.state.root.clone();
    let (names, reclaimed) = blocking(move || {
        let store = store(&root)?;
        let keep = |v: &yurta_engine::Volume| {
            filters
                .iter()
                .all(|f| f.matches(v, &store).unwrap_or(false))
        };
        let removed = store.prune(all, &keep)?;
        let total: u64 = removed.iter().map(|(_, size)| size).sum();
        let names: Vec<String> = removed.into_iter().map(|(n, _)| n).collect();
        for n in &names {
            journal::volume(&root, "destroy", n);
        }
        Ok((names, total))
    })
    .await?;
    ok(&json!({"VolumesDeleted": names, "SpaceReclaimed": reclaimed}))
}
