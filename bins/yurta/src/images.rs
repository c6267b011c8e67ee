//! images / image ls, image inspect, rmi / image rm, tag, history, image prune.

use std::collections::HashSet;
use std::io::{BufRead, Write};

use anyhow::{bail, Context};
use serde_json::json;
use yurta_images::inspect::{self, Filter};
use yurta_images::manage::{self, Removed};
use yurta_images::Digest;

use crate::cli::{HistoryArgs, InspectArgs, ListArgs, PruneArgs, RmArgs, TagArgs};
use crate::{format, Ctx};

pub fn list(ctx: &Ctx, a: ListArgs) -> anyhow::Result<()> {
    let filters = a
        .filter
        .iter()
        .map(|f| f.parse::<Filter>())
        .collect::<Result<Vec<_>, _>>()?;
    let mut rows = inspect::rows(&ctx.store()?.list()?);
    rows.retain(|r| filters.iter().all(|f| f.matches(r)));
    if let Some(r) = &a.reference {
        let pattern = Filter::Reference(r.clone());
        rows.retain(|row| pattern.matches(row));
    }
    if a.quiet {
        let mut seen = HashSet::new();
        for r in rows.iter().filter(|r| seen.insert(r.id.clone())) {
            println!("{}", format::id(&r.id, a.no_trunc));
        }
        return Ok(());
    }
    match a.format.as_deref() {
        Some("json") => rows
            .iter()
            .for_each(|r| println!("{}", row_json(r, a.no_trunc))),
        None | Some("table") => {
            let table: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    let mut cells = vec![r.repository.clone(), r.tag.clone()];
                    if a.digests {
                        cells.push(r.digest.clone());
                    }
                    cells.extend([
                        format::id(&r.id, a.no_trunc),
                        format::ago(r.created),
                        format::size(r.size),
                    ]);
                    cells
                })
                .collect();
            let mut header = vec!["REPOSITORY", "TAG"];
            if a.digests {
                header.push("DIGEST");
            }
            header.extend(["IMAGE ID", "CREATED", "SIZE"]);
            format::table(&header, &table);
        }
        Some(other) => bail!("unsupported --format: {other} (table or json)"),
    }
    Ok(())
}

fn row_json(r: &inspect::ImageRow, no_trunc: bool) -> serde_json::Value {
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
        "VirtualSize": format::size(r.size),
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
    match a.format.as_deref() {
        None | Some("json") => println!("{}", serde_json::to_string_pretty(&out)?),
        Some(template) => {
            for v in &out {
                println!("{}", field(v, template)?);
            }
        }
    }
    Ok(())
}

/// The `{{.A.B}}` subset of Go templates: one field path.
pub(crate) fn field(v: &serde_json::Value, template: &str) -> anyhow::Result<String> {
    let path = template
        .trim()
        .strip_prefix("{{")
        .and_then(|t| t.strip_suffix("}}"))
        .map(str::trim)
        .filter(|t| t.starts_with('.'))
        .with_context(|| {
            format!("unsupported --format {template:?}: only {{{{.Field.Path}}}} or json")
        })?;
    let mut cur = v;
    for key in path.split('.').filter(|k| !k.is_empty()) {
        cur = cur
            .get(key)
            .with_context(|| format!("--format {template:?}: no field {key}"))?;
    }
    Ok(match cur {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

pub fn remove(ctx: &Ctx, a: RmArgs) -> anyhow::Result<()> {
    let store = ctx.store()?;
    // Docker goes on after a failure and reports each one; the last is the
    // command's error (one line each).
    let mut last = None;
    let users = images_in_use(ctx)?;
    for name in &a.images {
        if let Some(user) = blocking_user(&store, name, &users) {
            let err = anyhow::anyhow!(
                "unable to delete {name}: container {user} is using it (remove the container first)"
            );
            if let Some(prev) = last.replace(err) {
                eprintln!("yurta: {prev:#}");
            }
            continue;
        }
        match manage::remove(&store, name, a.force) {
            Ok(events) => print_removed(&events),
            Err(e) => {
                if let Some(prev) =
                    last.replace(anyhow::Error::new(e).context(format!("rmi {name}")))
                {
                    eprintln!("yurta: {prev:#}");
                }
            }
        }
    }
    last.map_or(Ok(()), Err)
}

fn print_removed(events: &[Removed]) {
    for e in events {
        match e {
            Removed::Untagged(t) => println!("Untagged: {}", inspect::familiar_tag(t)),
            Removed::Deleted(d) => println!("Deleted: {d}"),
        }
    }
}

pub fn tag(ctx: &Ctx, a: TagArgs) -> anyhow::Result<()> {
    let store = ctx.store()?;
    let image = store
        .resolve(&a.source)
        .with_context(|| format!("tag {}", a.source))?;
    store
        .tag(&a.target, &image.manifest.digest)
        .with_context(|| format!("tag {}", a.target))?;
    Ok(())
}

pub fn history(ctx: &Ctx, a: HistoryArgs) -> anyhow::Result<()> {
    let store = ctx.store()?;
    let image = store
        .resolve(&a.image)
        .with_context(|| format!("history {}", a.image))?;
    let rows = inspect::history(&store, &image)?;
    if a.quiet {
        rows.iter()
            .for_each(|r| println!("{}", format::id(&r.id, a.no_trunc)));
        return Ok(());
    }
    if a.format.as_deref() == Some("json") {
        for r in &rows {
            let v = json!({"ID": r.id, "CreatedAt": format::created_at(r.created), "CreatedSince": format::ago(r.created),
                "CreatedBy": r.created_by, "Size": format::size(r.size), "Comment": r.comment});
            println!("{v}");
        }
        return Ok(());
    }
    let cut = |s: &str| {
        if a.no_trunc || s.chars().count() <= 45 {
            s.to_string()
        } else {
            format!("{}…", s.chars().take(44).collect::<String>())
        }
    };
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let id = if r.id.starts_with('<') {
                r.id.clone()
            } else {
                format::id(&r.id, a.no_trunc)
            };
            let (created, size) = if a.human {
                (format::ago(r.created), format::size(r.size))
            } else {
                (format::created_at(r.created), r.size.to_string())
            };
            vec![id, created, cut(&r.created_by), size, r.comment.clone()]
        })
        .collect();
    format::table(
        &["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"],
        &table,
    );
    Ok(())
}

pub fn prune(ctx: &Ctx, a: PruneArgs) -> anyhow::Result<()> {
    if !a.force && !confirm(a.all)? {
        return Ok(());
    }
    // No containers exist yet in this store, so no image is in use.
    let in_use: HashSet<Digest> = images_in_use(ctx)?.into_iter().map(|(d, _)| d).collect();
    let (events, reclaimed) = manage::prune(&ctx.store()?, a.all, &in_use)?;
    if !events.is_empty() {
        println!("Deleted Images:");
        for e in &events {
            match e {
                Removed::Untagged(t) => println!("untagged: {}", inspect::familiar_tag(t)),
                Removed::Deleted(d) => println!("deleted: {d}"),
            }
        }
        println!();
    }
    println!("Total reclaimed space: {}", format::size(reclaimed));
    Ok(())
}

fn confirm(all: bool) -> anyhow::Result<bool> {
    let what = if all {
        "all images without at least one container associated to them"
    } else {
        "all dangling images"
    };
    print!("WARNING! This will remove {what}.\nAre you sure you want to continue? [y/N] ");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes"))
}

/// Image IDs that containers use, each with one container naming it.
pub fn images_in_use(ctx: &Ctx) -> anyhow::Result<Vec<(Digest, String)>> {
    let engine = yurta_engine::Engine::open(&ctx.root)?;
    Ok(engine
        .list()?
        .into_iter()
        .filter_map(|r| {
            let id = r.image.parse::<Digest>().ok()?;
            let short = r.id.get(..12).unwrap_or(&r.id).to_string();
            Some((id, format!("{short} ({})", r.name.trim_start_matches('/'))))
        })
        .collect())
}

/// The container that keeps `rmi QUERY` from deleting an image: removing one
/// of several tags only untags (allowed, as Docker), removing the last tag or
/// the ID would delete an image a container uses (refused, even with -f).
fn blocking_user(
    store: &yurta_images::Store,
    query: &str,
    users: &[(Digest, String)],
) -> Option<String> {
    let image = store.resolve(query).ok()?;
    let (_, user) = users.iter().find(|(id, _)| *id == image.id)?;
    let tags = store.catalog().read().ok()?.tags_of(&image.manifest.digest);
    let tag = query
        .parse::<yurta_images::Reference>()
        .ok()
        .filter(|r| r.digest.is_none())
        .and_then(|r| r.with_default_tag().tagged());
    let only_untags = tags.len() > 1 && tag.is_some_and(|t| tags.contains(&t));
    (!only_untags).then(|| user.clone())
}
