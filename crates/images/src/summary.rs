//! Docker's image summary (`GET /images/json`): one object per image with
//! all its tags, filtered as `docker images --filter` filters (one filter
//! name's values are alternatives, different names must all match).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::inspect::{familiar_tag, rows, Filter, FilterError, ImageRow};
use crate::reference::familiar;
use crate::spec::ImageConfig;
use crate::store::{Catalog, Store};
use crate::Digest;

/// One image, as the Engine API lists it.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct ImageSummary {
    pub id: String,
    pub parent_id: String,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    /// Seconds since the epoch.
    pub created: i64,
    pub size: u64,
    /// Not computed: -1, as Docker without `shared-size`.
    pub shared_size: i64,
    pub virtual_size: u64,
    pub labels: BTreeMap<String, String>,
    /// Containers using it (-1: not counted).
    pub containers: i64,
}

/// A filter of the Engine API's image list.
#[derive(Debug, Clone, PartialEq)]
pub enum SummaryFilter {
    /// `reference` and `dangling`, as `docker images --filter`.
    Row(Filter),
    /// `label=KEY` or `label=KEY=VALUE`.
    Label(String),
}

impl SummaryFilter {
    /// A filter name and one value (`reference`, `dangling`, `label`).
    pub fn from_pair(key: &str, value: &str) -> Result<SummaryFilter, FilterError> {
        match key {
            "label" if !value.is_empty() => Ok(SummaryFilter::Label(value.to_string())),
            _ => format!("{key}={value}").parse().map(SummaryFilter::Row),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            SummaryFilter::Row(Filter::Reference(_)) => "reference",
            SummaryFilter::Row(Filter::Dangling(_)) => "dangling",
            SummaryFilter::Label(_) => "label",
        }
    }

    fn matches(&self, rows: &[&ImageRow], labels: &BTreeMap<String, String>) -> bool {
        match self {
            SummaryFilter::Row(f) => rows.iter().any(|r| f.matches(r)),
            SummaryFilter::Label(want) => match want.split_once('=') {
                Some((k, v)) => labels.get(k).is_some_and(|x| x == v),
                None => labels.contains_key(want),
            },
        }
    }
}

/// The images of `catalog` that pass `filters`, newest first; `users`
/// counts the containers of each image ID.
pub fn summaries(
    store: &Store,
    catalog: &Catalog,
    filters: &[SummaryFilter],
    users: &HashMap<Digest, usize>,
) -> Vec<ImageSummary> {
    let all = rows(catalog);
    let mut out: Vec<ImageSummary> = Vec::new();
    // One summary per image ID, with the tags and digests of all its
    // records (see `inspect::rows`).
    let mut by_id: BTreeMap<&Digest, Vec<&crate::ImageRecord>> = BTreeMap::new();
    for image in catalog.images.values().filter(|i| i.listed(catalog)) {
        by_id.entry(&image.id).or_default().push(image);
    }
    for records in by_id.values() {
        let image = records[0];
        let id = image.id.to_string();
        let mine: Vec<&ImageRow> = all.iter().filter(|r| r.id == id).collect();
        let labels = labels(store, &image.id);
        let mut by_name: BTreeMap<&str, bool> = BTreeMap::new();
        for f in filters {
            *by_name.entry(f.name()).or_default() |= f.matches(&mine, &labels);
        }
        if by_name.values().any(|ok| !ok) {
            continue;
        }
        out.push(ImageSummary {
            id,
            parent_id: String::new(),
            repo_tags: records
                .iter()
                .flat_map(|r| catalog.tags_of(&r.manifest.digest))
                .map(|t| familiar_tag(&t))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect(),
            repo_digests: records
                .iter()
                .flat_map(|r| &r.repo_digests)
                .map(|d| familiar(d).to_string())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect(),
            created: mine.first().map_or(0, |r| r.created),
            size: image.size,
            shared_size: -1,
            virtual_size: image.size,
            labels,
            containers: users.get(&image.id).map_or(0, |n| *n as i64),
        });
    }
    out.sort_by(|a, b| b.created.cmp(&a.created).then(a.id.cmp(&b.id)));
    out
}

/// The image configuration's labels (none when it cannot be read).
fn labels(store: &Store, id: &Digest) -> BTreeMap<String, String> {
    store
        .read_json::<ImageConfig>(id)
        .ok()
        .and_then(|c| c.config)
        .and_then(|c| c.labels)
        .map(|m| m.into_iter().collect())
        .unwrap_or_default()
}
