//! `/_ping`, `/version`, `/info`, `/system/df` and `/build` (not here).

use std::collections::HashMap;

use hyper::header::HeaderValue;
use hyper::{Method, Response};
use serde_json::json;
use yurta_engine::system;

use crate::body::full;
use crate::request::{blocking, ok, Call, Reply};

/// `OK` (GET) or nothing (HEAD), with the API headers every answer has.
pub(crate) async fn ping(c: Call) -> Reply {
    let mut r = Response::new(match c.parts.method == Method::HEAD {
        true => crate::body::empty(),
        false => full("OK"),
    });
    let h = r.headers_mut();
    h.insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(
        hyper::header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store, must-revalidate"),
    );
    h.insert(hyper::header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(r)
}

pub(crate) async fn version(c: Call) -> Reply {
    let h = &c.state.host;
    ok(&system::server_version(&h.build, &h.runtime_version))
}

pub(crate) async fn info(c: Call) -> Reply {
    let st = c.state.clone();
    let v = blocking(move || Ok(system::info(&st.root, &st.host)?)).await?;
    ok(&v)
}

/// Docker's disk usage, from the engine's one report: the layers' size,
/// image summaries with their containers and shared bytes (so the docker
/// CLI's "reclaimable" is right), the containers with their sizes, the
/// volumes with theirs and their reference counts, the build cache.
pub(crate) async fn df(c: Call) -> Reply {
    let root = c.state.root.clone();
    let v = blocking(move || {
        let report = system::report(&root)?;
        let store = yurta_images::Store::open_root(&root)?;
        let catalog = store.list()?;
        let mut images =
            yurta_images::summary::summaries(&store, &catalog, &[], &report.image_users);
        for image in &mut images {
            let id = image.id.parse::<yurta_images::Digest>().ok();
            let shared = id.and_then(|id| report.sharing.shared.get(&id).copied());
            image.shared_size = shared.map_or(-1, |n| n as i64);
        }
        let now = now();
        let containers: Vec<_> = report
            .containers
            .iter()
            .map(|u| {
                let mut j = yurta_engine::summary::container_summary(&u.record, now);
                j["SizeRw"] = json!(u.size_rw);
                j["SizeRootFs"] = json!(u.size_root_fs);
                j
            })
            .collect();
        let volumes: Vec<_> = report
            .volumes
            .iter()
            .map(|u| {
                let mut j = serde_json::to_value(&u.volume).unwrap_or_default();
                let size = u.size.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
                j["UsageData"] = json!({"Size": size, "RefCount": u.refs});
                j
            })
            .collect();
        Ok(json!({
            "LayersSize": report.sharing.layers_size, "Images": images,
            "Containers": containers, "Volumes": volumes,
            "BuildCache": build_cache(&report, &report.image_users),
            "BuilderSize": report.build_cache().1,
        }))
    })
    .await?;
    ok(&v)
}

/// Docker's `BuildCache` records: each hidden build step image (the bytes
/// only it adds) and each `RUN --mount=type=cache` directory.
fn build_cache(
    report: &system::DiskReport,
    users: &HashMap<yurta_images::Digest, usize>,
) -> Vec<serde_json::Value> {
    let steps = report.sharing.cache.iter().map(|(image, own)| {
        let created = image.created.clone().unwrap_or_else(|| image.added.clone());
        json!({
            "ID": image.id.hex(), "Parent": "", "Type": "regular",
            "Description": "a build step", "InUse": users.contains_key(&image.id),
            "Shared": false, "Size": own, "CreatedAt": created, "LastUsedAt": null,
            "UsageCount": 0,
        })
    });
    let mounts = report.cache_mounts.iter().map(|(name, size)| {
        json!({
            "ID": name, "Parent": "", "Type": "exec.cachemount",
            "Description": "RUN --mount=type=cache", "InUse": false, "Shared": false,
            "Size": size, "CreatedAt": null, "LastUsedAt": null, "UsageCount": 0,
        })
    });
    steps.chain(mounts).collect()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
