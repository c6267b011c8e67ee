//! `system df`: Docker's disk usage summary over its disk-usage context
//! (`.Type`, `.TotalCount`, `.Active`, `.Size`, `.Reclaimable`) — images,
//! containers, local volumes and the build cache, plus yurta's unpacked
//! layers — and with `-v` Docker's sections per image, container, volume
//! and cache entry. All figures come from the engine's one report
//! (`yurta_engine::system::df::report`), the same as `GET /system/df`.

use serde_json::json;
use yurta_engine::system::DiskReport;
use yurta_images::Digest;

use crate::cli::DfArgs;
use crate::format::{self, Format, Row};
use crate::Ctx;

const HEADERS: [(&str, &str); 5] = [
    ("Type", "TYPE"),
    ("TotalCount", "TOTAL"),
    ("Active", "ACTIVE"),
    ("Size", "SIZE"),
    ("Reclaimable", "RECLAIMABLE"),
];

/// One row of `system df` (Docker's diskUsage*Context: strings).
fn row(kind: &str, total: usize, active: usize, size: u64, reclaimable: u64) -> Row<'static> {
    let r = match (reclaimable * 100).checked_div(size) {
        Some(pct) => format!("{} ({pct}%)", format::size4(reclaimable)),
        None => format::size4(reclaimable),
    };
    Row::new(json!({
        "Type": kind,
        "TotalCount": total.to_string(),
        "Active": active.to_string(),
        "Size": format::size4(size),
        "Reclaimable": r,
    }))
}

pub fn df(ctx: &Ctx, a: DfArgs) -> anyhow::Result<()> {
    let report = yurta_engine::system::report(&ctx.root)?;
    if a.verbose && a.format.is_none() {
        return verbose(ctx, &report);
    }
    let f = Format::new(
        a.format.as_deref(),
        r"table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
    );
    format::list(&f, &summary_rows(&report), &HEADERS)
}

/// Images and layers as the store holds them (compressed blobs, unpacked
/// layers), then Docker's containers, local volumes and build cache.
fn summary_rows(r: &DiskReport) -> Vec<Row<'static>> {
    let u = &r.store;
    let stopped = r.containers.iter().filter(|c| !c.record.state.running);
    let unused = r.volumes.iter().filter(|v| v.refs == 0);
    let (cache_count, cache_size) = r.build_cache();
    vec![
        row(
            "Images",
            u.images,
            u.active_images,
            u.images_size,
            u.reclaimable,
        ),
        row(
            "Layers",
            u.layers,
            u.layers,
            u.layers_size,
            u.layers_reclaimable,
        ),
        row(
            "Containers",
            r.containers.len(),
            r.containers
                .iter()
                .filter(|c| c.record.state.running)
                .count(),
            r.containers.iter().map(|c| c.size_rw).sum(),
            stopped.map(|c| c.size_rw).sum(),
        ),
        row(
            "Local Volumes",
            r.volumes.len(),
            r.volumes.iter().filter(|v| v.refs > 0).count(),
            r.volumes.iter().filter_map(|v| v.size).sum(),
            unused.filter_map(|v| v.size).sum(),
        ),
        row("Build Cache", cache_count, 0, cache_size, cache_size),
    ]
}

/// `system df -v`: Docker's four sections.
fn verbose(ctx: &Ctx, r: &DiskReport) -> anyhow::Result<()> {
    let store = ctx.store()?;
    let catalog = store.list()?;
    outln!("Images space usage:\n")?;
    let images: Vec<Vec<String>> = yurta_images::inspect::rows(&catalog)
        .into_iter()
        .map(|i| {
            let id = i.id.parse::<Digest>().ok();
            let shared = id.as_ref().and_then(|d| r.sharing.shared.get(d)).copied();
            let users = id.as_ref().and_then(|d| r.image_users.get(d)).copied();
            vec![
                i.repository,
                i.tag,
                format::id(&i.id, false),
                format::ago(i.created),
                format::size(i.size),
                format::size(shared.unwrap_or(0)),
                format::size(i.size.saturating_sub(shared.unwrap_or(0))),
                users.unwrap_or(0).to_string(),
            ]
        })
        .collect();
    format::table(
        &[
            "REPOSITORY",
            "TAG",
            "IMAGE ID",
            "CREATED",
            "SIZE",
            "SHARED SIZE",
            "UNIQUE SIZE",
            "CONTAINERS",
        ],
        &images,
    )?;
    outln!("\nContainers space usage:\n")?;
    let containers: Vec<Vec<String>> = r
        .containers
        .iter()
        .map(|c| {
            let v = crate::container::ps_context(&c.record);
            let field = |k: &str| v[k].as_str().unwrap_or_default().to_string();
            vec![
                field("ID"),
                field("Image"),
                field("Command"),
                field("LocalVolumes"),
                format::size(c.size_rw),
                field("RunningFor"),
                field("Status"),
                field("Names"),
            ]
        })
        .collect();
    format::table(
        &[
            "CONTAINER ID",
            "IMAGE",
            "COMMAND",
            "LOCAL VOLUMES",
            "SIZE",
            "CREATED",
            "STATUS",
            "NAMES",
        ],
        &containers,
    )?;
    outln!("\nLocal Volumes space usage:\n")?;
    let volumes: Vec<Vec<String>> = r
        .volumes
        .iter()
        .map(|v| {
            let size = v.size.map_or("N/A".to_string(), format::size);
            vec![v.volume.name.clone(), v.refs.to_string(), size]
        })
        .collect();
    format::table(&["VOLUME NAME", "LINKS", "SIZE"], &volumes)?;
    outln!("\nBuild cache usage: {}\n", format::size(r.build_cache().1))?;
    let mut cache: Vec<Vec<String>> = r
        .sharing
        .cache
        .iter()
        .map(|(image, own)| {
            let created = image.created.as_deref().unwrap_or(&image.added);
            let created = yurta_engine::summary::secs(created);
            let id = format::id(&image.id.to_string(), false);
            vec![
                id,
                "regular".into(),
                format::size(*own),
                format::ago(created),
            ]
        })
        .collect();
    cache.extend(r.cache_mounts.iter().map(|(name, size)| {
        let id = name.chars().take(12).collect();
        vec![
            id,
            "exec.cachemount".into(),
            format::size(*size),
            "N/A".into(),
        ]
    }));
    format::table(&["CACHE ID", "CACHE TYPE", "SIZE", "CREATED"], &cache)?;
    Ok(())
}
