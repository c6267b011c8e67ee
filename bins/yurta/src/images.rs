//! images / image ls, image inspect, rmi / image rm, tag, history, image prune.

use std::collections::{BTreeMap, HashSet};

use anyhow::Context;
use serde_json::json;
use yurta_images::inspect::{self, Filter};
use yurta_images::manage::{self, Removed};
use yurta_images::service::RemoveError;
use yurta_images::Digest;

use crate::cli::{HistoryArgs, InspectArgs, ListArgs, PruneArgs, RmArgs, TagArgs};
use crate::format::{self, Format, Row};
use crate::Ctx;

const IMAGES_FORMAT: &str = r"table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}";
const IMAGES_DIGEST_FORMAT: &str = r"table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}";

/// Docker's column names of the image context.
const IMAGE_HEADERS: [(&str, &str); 11] = [
    ("ID", "IMAGE ID"),
    ("Repository", "REPOSITORY"),
    ("Tag", "TAG"),
    ("Digest", "DIGEST"),
    ("CreatedSince", "CREATED"),
    ("CreatedAt", "CREATED AT"),
    ("Size", "SIZE"),
    ("Containers", "CONTAINERS"),
    ("VirtualSize", "SIZE"),
    ("SharedSize", "SHARED SIZE"),
    ("UniqueSize", "UNIQUE SIZE"),
];

pub fn list(ctx: &Ctx, a: ListArgs) -> anyhow::Result<()> {
    let filters = a
        .filter
        .iter()
        .map(|f| f.parse::<Filter>())
        .collect::<Result<Vec<_>, _>>()?;
    let store = ctx.store()?;
    let catalog = store.list()?;
    let mut rows = inspect::rows(&catalog);
    rows.retain(|r| filters.iter().all(|f| f.matches(r)));
    if let Some(r) = &a.reference {
        let pattern = Filter::Reference(r.clone());
        rows.retain(|row| pattern.matches(row));
    }
    if a.quiet {
        let mut seen = HashSet::new();
        for r in rows.iter().filter(|r| seen.insert(r.id.clone())) {
            outln!("{}", format::id(&r.id, a.no_trunc))?;
        }
        return Ok(());
    }
    let default = if a.digests {
        IMAGES_DIGEST_FORMAT
    } else {
        IMAGES_FORMAT
    };
    let mut f = Format::new(a.format.as_deref(), default);
    if a.digests && f.is_table() && !f.contains("{{.Digest}}") {
        f.push(r"\t{{.Digest}}");
    }
    // `.Label "key"` (yurta's; Docker's image list has no labels) reads
    // each image's configuration, so only when the format asks for it.
    let labels: Vec<BTreeMap<String, String>> = rows
        .iter()
        .map(|r| match f.contains(".Label") {
            true => image_labels(&store, &catalog, &r.id),
            false => BTreeMap::new(),
        })
        .collect();
    let rows: Vec<Row<'_>> = rows
        .iter()
        .zip(&labels)
        .map(|(r, l)| Row::with_labels(image_context(r, a.no_trunc), l))
        .collect();
    format::list(&f, &rows, &IMAGE_HEADERS)
}

fn image_labels(
    store: &yurta_images::Store,
    catalog: &yurta_images::store::Catalog,
    id: &str,
) -> BTreeMap<String, String> {
    let Some(v) = catalog
        .find(id)
        .ok()
        .and_then(|img| inspect::inspect(store, catalog, img).ok())
    else {
        return BTreeMap::new();
    };
    v["Config"]["Labels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// Docker's image context for `--format`.
fn image_context(r: &inspect::ImageRow, no_trunc: bool) -> serde_json::Value {
    json!({
        "Containers": "N/A",
        "CreatedAt": format::created_at(r.created),
        "CreatedSince": format::ago(r.created),
        "Digest": r.digest,
        "ID": format::id(&r.id, no_trunc),
        "Repository": r.repository,
        "SharedSize": "N/A",
        "Size": format::size(r.size),
        "Tag": r.tag,
        "UniqueSize": "N/A",
        "VirtualSize": format::size4(r.size),
    })
}

pub fn inspect(ctx: &Ctx, a: InspectArgs) -> anyhow::Result<()> {
    let store = ctx.store()?;
    let catalog = store.list()?;
    let mut out = Vec::new();
    for name in &a.images {
        let image = catalog
            .find(name)
            .with_context(|| format!("inspect {name}"))?;
        out.push(inspect::inspect(&store, &catalog, image)?);
    }
    format::inspect(a.format.as_deref(), &out)
}

pub fn remove(ctx: &Ctx, a: RmArgs) -> anyhow::Result<()> {
    let store = ctx.store()?;
    // Docker goes on after a failure and reports each one; the last is the
    // command's error (one line each).
    let mut last = None;
    let users = images_in_use(ctx)?;
    for name in &a.images {
        match yurta_images::service::remove(&store, name, a.force, &users) {
            Ok(events) => print_removed(&events)?,
            Err(e) => {
                let err = match e {
                    e @ RemoveError::InUse { .. } => anyhow::Error::new(e),
                    e => anyhow::Error::new(e).context(format!("rmi {name}")),
                };
                if let Some(prev) = last.replace(err) {
                    errln!("yurta: {}", crate::out::OneLine(&prev));
                }
            }
        }
    }
    last.map_or(Ok(()), Err)
}

fn print_removed(events: &[Removed]) -> Result<(), crate::out::StdoutError> {
    for e in events {
        crate::events::image_removed(e);
        match e {
            Removed::Untagged(t) => outln!("Untagged: {}", inspect::familiar_tag(t))?,
            Removed::Deleted(d) => outln!("Deleted: {d}")?,
        }
    }
    Ok(())
}

pub fn tag(ctx: &Ctx, a: TagArgs) -> anyhow::Result<()> {
    let store = ctx.store()?;
    let image = store
        .resolve(&a.source)
        .with_context(|| format!("tag {}", a.source))?;
    store
        .tag(&a.target, &image.manifest.digest)
        .with_context(|| format!("tag {}", a.target))?;
    crate::events::image("tag", &image.id.to_string(), &a.target);
    Ok(())
}

const HISTORY_HEADERS: [(&str, &str); 6] = [
    ("ID", "IMAGE"),
    ("CreatedSince", "CREATED"),
    ("CreatedAt", "CREATED AT"),
    ("CreatedBy", "CREATED BY"),
    ("Size", "SIZE"),
    ("Comment", "COMMENT"),
];

pub fn history(ctx: &Ctx, a: HistoryArgs) -> anyhow::Result<()> {
    let store = ctx.store()?;
    let image = store
        .resolve(&a.image)
        .with_context(|| format!("history {}", a.image))?;
    let rows = inspect::history(&store, &image)?;
    let default = if a.human {
        r"table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
    } else {
        r"table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
    };
    let f = match a.quiet {
        true => Format::new(Some("{{.ID}}"), ""),
        false => Format::new(a.format.as_deref(), default),
    };
    let rows: Vec<Row<'_>> = rows
        .iter()
        .map(|r| Row::new(history_context(r, a.human, !a.no_trunc)))
        .collect();
    format::list(&f, &rows, &HISTORY_HEADERS)
}

/// Docker's history context for `--format`.
fn history_context(r: &inspect::HistoryRow, human: bool, trunc: bool) -> serde_json::Value {
    let created_at = yurta_images::time::format_rfc3339(r.created, 0);
    let created_by = r.created_by.replace('\t', " ");
    json!({
        "ID": if r.id.starts_with('<') { r.id.clone() } else { format::id(&r.id, !trunc) },
        "CreatedAt": created_at,
        "CreatedSince": if human { format::ago(r.created) } else { created_at.clone() },
        "CreatedBy": if trunc { format::ellipsis(&created_by, 45) } else { created_by },
        "Size": if human { format::size(r.size) } else { r.size.to_string() },
        "Comment": r.comment,
    })
}

pub fn prune(ctx: &Ctx, a: PruneArgs) -> anyhow::Result<()> {
    let what = if a.all {
        "all images without at least one container associated to them"
    } else {
        "all dangling images"
    };
    if !a.force && !crate::prune::confirm(&[what])? {
        return Ok(());
    }
    let in_use: HashSet<Digest> = images_in_use(ctx)?.into_iter().map(|(d, _)| d).collect();
    let (events, reclaimed) = manage::prune(&ctx.store()?, a.all, &in_use)?;
    report_pruned(&events)?;
    crate::prune::total(reclaimed)?;
    Ok(())
}

/// `Deleted Images:` with Docker's `untagged:`/`deleted:` lines.
pub fn report_pruned(events: &[Removed]) -> Result<(), crate::out::StdoutError> {
    if events.is_empty() {
        return Ok(());
    }
    outln!("Deleted Images:")?;
    for e in events {
        crate::events::image_removed(e);
        match e {
            Removed::Untagged(t) => outln!("untagged: {}", inspect::familiar_tag(t))?,
            Removed::Deleted(d) => outln!("deleted: {d}")?,
        }
    }
    outln!()
}

/// Image IDs that containers use, each with one container naming it.
pub fn images_in_use(ctx: &Ctx) -> anyhow::Result<Vec<(Digest, String)>> {
    Ok(yurta_engine::system::images_in_use(&ctx.root)?)
}
