//! `/_ping`, `/version`, `/info`, `/system/df` and `/build` (not here).

use std::collections::HashMap;

use hyper::header::HeaderValue;
use hyper::{Method, Response};
use serde_json::json;
use yurta_engine::system;

use crate::body::full;
use crate::error::ApiError;
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

/// Docker's disk usage: layers' size, image summaries with their
/// containers, volumes with their reference counts, the containers.
pub(crate) async fn df(c: Call) -> Reply {
    let root = c.state.root.clone();
    let v = blocking(move || {
        let usage = system::df::disk_usage(&root)?;
        let users = system::images_in_use(&root)?;
        let mut counts = HashMap::new();
        for (id, _) in &users {
            *counts.entry(id.clone()).or_insert(0) += 1;
        }
        let store = yurta_images::Store::open_root(&root)?;
        let catalog = store.list()?;
        let images = yurta_images::summary::summaries(&store, &catalog, &[], &counts);
        let vols = yurta_engine::VolumeStore::open_root(&root)?;
        let mut volumes = Vec::new();
        for v in vols.list()? {
            let refs = vols.users(&v.name)?.len();
            let size = match v.mounts_device() {
                true => -1,
                false => {
                    let bytes = yurta_images::manage::disk_usage(&vols.data_dir(&v.name));
                    i64::try_from(bytes).unwrap_or(i64::MAX)
                }
            };
            let mut j = serde_json::to_value(&v).unwrap_or_default();
            j["UsageData"] = json!({"Size": size, "RefCount": refs});
            volumes.push(j);
        }
        let containers = containers(&root)?;
        Ok(json!({
            "LayersSize": usage.layers_size, "Images": images, "Containers": containers,
            "Volumes": volumes, "BuildCache": [],
        }))
    })
    .await?;
    ok(&v)
}

/// Container summaries for `system df` (the container list proper comes
/// with the container routes).
fn containers(root: &std::path::Path) -> Result<Vec<serde_json::Value>, ApiError> {
    let engine = yurta_engine::Engine::open(root).map_err(|e| ApiError::internal(e.to_string()))?;
    let list = engine
        .list()
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(list
        .iter()
        .map(|r| {
            json!({
                "Id": r.id, "Names": [format!("/{}", r.bare_name())],
                "Image": r.image_name.clone().unwrap_or_else(|| r.image.clone()),
                "ImageID": r.image, "Command": r.path, "Created": 0,
                "State": r.state.status, "Status": "", "SizeRw": 0, "SizeRootFs": 0,
                "Labels": r.config.labels, "Mounts": [],
            })
        })
        .collect())
}
