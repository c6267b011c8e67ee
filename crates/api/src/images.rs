//! `/images/...`: list, inspect, history, tag, remove, prune, save (get)
//! and load, over yurta-images.

use std::collections::HashMap;
use std::path::Path;

use bytes::Bytes;
use hyper::{Response, StatusCode};
use serde_json::{json, Value};
use yurta_engine::system::images_in_use;
use yurta_images::manage::{self, Removed};
use yurta_images::summary::{summaries, SummaryFilter};
use yurta_images::{inspect, service, ArchiveFormat, Digest, Store};

use crate::body::{Channel, ChannelReader, ChannelWriter};
use crate::error::ApiError;
use crate::journal;
use crate::request::{blocking, ok, status, Call, Reply};

fn store(root: &Path) -> Result<Store, ApiError> {
    Ok(Store::open_root(root)?)
}

fn user_counts(root: &Path) -> Result<HashMap<Digest, usize>, ApiError> {
    let mut counts = HashMap::new();
    for (id, _) in images_in_use(root)? {
        *counts.entry(id).or_insert(0) += 1;
    }
    Ok(counts)
}

pub(crate) async fn list(c: Call) -> Reply {
    let f = c.filters()?;
    f.only(&["reference", "dangling", "label"])?;
    let filters = f
        .pairs()
        .iter()
        .map(|(k, v)| SummaryFilter::from_pair(k, v))
        .collect::<Result<Vec<_>, _>>()?;
    let root = c.state.root.clone();
    let list = blocking(move || {
        let store = store(&root)?;
        let catalog = store.list()?;
        Ok(summaries(&store, &catalog, &filters, &user_counts(&root)?))
    })
    .await?;
    ok(&list)
}

pub(crate) async fn inspect(c: Call) -> Reply {
    let (root, name) = (c.state.root.clone(), c.param(0).to_string());
    let v = blocking(move || {
        let store = store(&root)?;
        let catalog = store.list()?;
        let image = catalog.find(&name)?;
        Ok(inspect::inspect(&store, &catalog, image)?)
    })
    .await?;
    ok(&v)
}

pub(crate) async fn history(c: Call) -> Reply {
    let (root, name) = (c.state.root.clone(), c.param(0).to_string());
    let v = blocking(move || {
        let store = store(&root)?;
        let image = store.resolve(&name)?;
        let tags: Vec<String> = store
            .catalog()
            .read()?
            .tags_of(&image.manifest.digest)
            .iter()
            .map(|t| inspect::familiar_tag(t))
            .collect();
        let rows = inspect::history(&store, &image)?;
        Ok(rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                json!({
                    "Id": r.id, "Created": r.created, "CreatedBy": r.created_by,
                    "Tags": if i == 0 { json!(tags) } else { Value::Null },
                    "Size": r.size, "Comment": r.comment,
                })
            })
            .collect::<Vec<_>>())
    })
    .await?;
    ok(&v)
}

pub(crate) async fn tag(c: Call) -> Reply {
    let repo = c.q("repo").unwrap_or_default().to_string();
    if repo.is_empty() {
        return Err(ApiError::bad_request(
            "repository name (repo) must have at least one component",
        ));
    }
    let target = match c.q("tag").filter(|t| !t.is_empty()) {
        Some(t) => format!("{repo}:{t}"),
        None => repo,
    };
    let (root, name) = (c.state.root.clone(), c.param(0).to_string());
    blocking(move || {
        let store = store(&root)?;
        let image = store.resolve(&name)?;
        store.tag(&target, &image.manifest.digest)?;
        journal::image(&root, "tag", &image.id.to_string(), &target);
        Ok(())
    })
    .await?;
    status(StatusCode::CREATED)
}

fn removed_json(events: &[Removed]) -> Vec<Value> {
    events
        .iter()
        .map(|e| match e {
            Removed::Untagged(t) => json!({"Untagged": inspect::familiar_tag(t)}),
            Removed::Deleted(d) => json!({"Deleted": d.to_string()}),
        })
        .collect()
}

pub(crate) async fn remove(c: Call) -> Reply {
    let force = c.flag("force")?;
    let (root, name) = (c.state.root.clone(), c.param(0).to_string());
    let v = blocking(move || {
        let store = store(&root)?;
        let users = images_in_use(&root)?;
        let events = match service::remove(&store, &name, force, &users) {
            Err(service::RemoveError::Manage(e)) => return Err(e.into()),
            other => other?,
        };
        for e in &events {
            journal::image_removed(&root, e);
        }
        Ok(removed_json(&events))
    })
    .await?;
    ok(&v)
}

pub(crate) async fn prune(c: Call) -> Reply {
    let f = c.filters()?;
    f.only(&["dangling"])?;
    // dangling=false: every unused image (`image prune -a`).
    let all = f
        .get("dangling")
        .iter()
        .any(|v| matches!(v.as_str(), "false" | "0"));
    let root = c.state.root.clone();
    let v = blocking(move || {
        let in_use = images_in_use(&root)?.into_iter().map(|(d, _)| d).collect();
        let (events, reclaimed) = manage::prune(&store(&root)?, all, &in_use)?;
        for e in &events {
            journal::image_removed(&root, e);
        }
        Ok(json!({"ImagesDeleted": removed_json(&events), "SpaceReclaimed": reclaimed}))
    })
    .await?;
    ok(&v)
}

pub(crate) async fn search(_c: Call) -> Reply {
    Err(ApiError::new(
        StatusCode::NOT_IMPLEMENTED,
        "image search is not supported by yurta (GET /images/search)",
    ))
}

pub(crate) async fn save_one(c: Call) -> Reply {
    let names = vec![c.param(0).to_string()];
    save(c, names).await
}

pub(crate) async fn save_many(c: Call) -> Reply {
    let names = c.q_all("names");
    if names.is_empty() {
        return Err(ApiError::bad_request("no images named: give names=IMAGE"));
    }
    save(c, names).await
}

/// A docker-archive of `names`, streamed as it is written. Names are
/// checked before the answer starts, so a missing image is a 404.
async fn save(c: Call, names: Vec<String>) -> Reply {
    let root = c.state.root.clone();
    let (store, items) = blocking(move || {
        let store = store(&root)?;
        let items = service::save_items(&store.list()?, &names)?;
        Ok((store, items))
    })
    .await?;
    let (tx, body) = Channel::open(8);
    tokio::task::spawn_blocking(move || {
        let w = ChannelWriter { tx: tx.clone() };
        let done = yurta_images::save(
            &store,
            &items,
            ArchiveFormat::DockerArchive,
            w,
            &yurta_images::Silent,
        );
        if let Err(e) = done {
            let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
        }
    });
    let mut r = Response::new(body);
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/x-tar"),
    );
    Ok(r)
}

/// Loads an archive streamed in the request body; Docker's JSON stream of
/// what was loaded.
pub(crate) async fn load(mut c: Call) -> Reply {
    let body = c
        .body
        .take()
        .ok_or_else(|| ApiError::bad_request("no archive in the request body"))?;
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    let root = c.state.root.clone();
    let work = blocking(move || {
        let reader = ChannelReader {
            rx,
            buf: Bytes::new(),
        };
        let loaded = yurta_images::load(&store(&root)?, reader, None, &yurta_images::Silent)?;
        let mut lines = Vec::new();
        for l in loaded {
            if l.tags.is_empty() {
                lines.push(format!("Loaded image ID: {}\n", l.image.id));
            }
            for t in &l.tags {
                let name = inspect::familiar_tag(t);
                journal::emit(&root, "image", "load", &name, &[("name", &name)]);
                lines.push(format!("Loaded image: {name}\n"));
            }
        }
        Ok(lines)
    });
    let pump = crate::body::pump(body, tx);
    let (lines, ()) = tokio::join!(work, pump);
    let text: String = lines?
        .iter()
        .map(|l| json!({ "stream": l }).to_string() + "\n")
        .collect();
    let mut r = Response::new(crate::body::full(text));
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    Ok(r)
}

/// `POST /commit?container=&repo=&tag=&comment=&author=&pause=&changes=`
/// (`docker commit`): the engine's commit, as `yurta commit`; 201 with the
/// new image's ID. A configuration in the body is not merged (`changes`
/// set the image's configuration).
pub(crate) async fn commit(c: Call) -> Reply {
    let Some(container) = c.q("container").filter(|n| !n.is_empty()) else {
        return Err(ApiError::bad_request(
            "commit needs a container (the container parameter)",
        ));
    };
    let reference =
        c.q("repo")
            .filter(|r| !r.is_empty())
            .map(|r| match c.q("tag").filter(|t| !t.is_empty()) {
                Some(tag) => format!("{r}:{tag}"),
                None => r.to_string(),
            });
    let req = yurta_engine::lifecycle::commit::CommitRequest {
        container: container.to_string(),
        reference: reference.clone(),
        changes: c
            .q_all("changes")
            .iter()
            .flat_map(|c| c.lines())
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect(),
        author: c.q("author").filter(|a| !a.is_empty()).map(str::to_string),
        comment: c.q("comment").filter(|m| !m.is_empty()).map(str::to_string),
        pause: c.q("pause").is_none() || c.flag("pause")?,
    };
    let state = c.state.clone();
    let image = blocking(move || {
        let image = yurta_engine::lifecycle::commit::commit(&state.engine, &req)
            .map_err(crate::containers::lifecycle_error)?;
        let named = reference.unwrap_or_default();
        journal::image(&state.root, "commit", &image.id.to_string(), &named);
        Ok(image)
    })
    .await?;
    Ok(crate::request::json(
        StatusCode::CREATED,
        &json!({ "Id": image.id.to_string() }),
    ))
}
