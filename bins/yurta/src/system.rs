//! system df.

use std::collections::HashSet;

use yurta_images::manage;

use crate::cli::DfArgs;
use crate::{format, Ctx};

pub fn df(ctx: &Ctx, a: DfArgs) -> anyhow::Result<()> {
    // No containers exist yet in this store, so no image is active.
    let u = manage::disk_usage_report(
        &ctx.store()?,
        &crate::images::images_in_use(ctx)?
            .into_iter()
            .map(|(d, _)| d)
            .collect::<HashSet<_>>(),
    )?;
    if a.format.as_deref() == Some("json") {
        println!(
            "{}",
            serde_json::json!({"Type": "Images", "TotalCount": u.images, "Active": u.active_images,
            "Size": format::size(u.images_size), "Reclaimable": format::size(u.reclaimable)})
        );
        println!(
            "{}",
            serde_json::json!({"Type": "Layers", "TotalCount": u.layers, "Active": u.layers,
            "Size": format::size(u.layers_size), "Reclaimable": "0B"})
        );
        return Ok(());
    }
    let pct = |part: u64, whole: u64| (part * 100).checked_div(whole).unwrap_or(0);
    let rows = vec![
        vec![
            "Images".into(),
            u.images.to_string(),
            u.active_images.to_string(),
            format::size(u.images_size),
            format!(
                "{} ({}%)",
                format::size(u.reclaimable),
                pct(u.reclaimable, u.images_size)
            ),
        ],
        vec![
            "Layers".into(),
            u.layers.to_string(),
            u.layers.to_string(),
            format::size(u.layers_size),
            "0B (0%)".into(),
        ],
    ];
    format::table(&["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"], &rows);
    Ok(())
}
