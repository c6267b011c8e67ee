//! What `images`, `image inspect` and `history` show, with Docker's field
//! names: the library builds the data, the binary only formats it.

use serde::Serialize;
use serde_json::{json, Value};

use crate::reference::{familiar, Reference};
use crate::spec::ImageConfig;
use crate::store::{Catalog, ImageRecord, Store, StoreError};
use crate::time::parse_rfc3339;

/// `docker image inspect`'s object for one image.
pub fn inspect(store: &Store, catalog: &Catalog, image: &ImageRecord) -> Result<Value, StoreError> {
    let config: ImageConfig = store.read_json(&image.id)?;
    let tags: Vec<String> = catalog
        .tags_of(&image.manifest.digest)
        .iter()
        .map(|t| familiar_tag(t))
        .collect();
    let repo_digests: Vec<String> = image
        .repo_digests
        .iter()
        .map(|d| familiar(d).to_string())
        .collect();
    let mut v = json!({
        "Id": image.id.to_string(),
        "RepoTags": tags,
        "RepoDigests": repo_digests,
        "Parent": "",
        "Comment": config.history.last().and_then(|h| h.comment.clone()).unwrap_or_default(),
        "Created": config.created.clone().unwrap_or_default(),
        "DockerVersion": config.extra.get("docker_version").cloned().unwrap_or(json!("")),
        "Author": config.author.clone().unwrap_or_default(),
        "Config": config.config.clone().map(|c| serde_json::to_value(c).expect("serializes")).unwrap_or(Value::Null),
        "Architecture": image.platform.architecture,
        "Os": image.platform.os,
        "Size": image.size,
        "RootFS": {
            "Type": if config.rootfs.kind.is_empty() { "layers".to_string() } else { config.rootfs.kind.clone() },
            "Layers": image.diff_ids.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
        },
        "Metadata": { "LastTagTime": image.added },
        "Manifest": image.manifest.digest.to_string(),
    });
    if let Some(variant) = &image.platform.variant {
        v["Variant"] = json!(variant);
    }
    Ok(v)
}

/// `name:tag` in Docker's short form.
pub fn familiar_tag(full: &str) -> String {
    match full.parse::<Reference>() {
        Ok(r) => match r.tag {
            Some(t) => format!("{}:{t}", familiar(&r.name)),
            None => familiar(&r.name).to_string(),
        },
        Err(_) => full.to_string(),
    }
}

/// One row of `docker images`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ImageRow {
    pub repository: String,
    pub tag: String,
    pub digest: String,
    pub id: String,
    /// Seconds since the epoch (0 when unknown).
    pub created: i64,
    pub created_at: String,
    pub size: u64,
    pub dangling: bool,
}

/// The rows of `docker images`: one per tag, one `<none>` row per
/// untagged image; newest first.
pub fn rows(catalog: &Catalog) -> Vec<ImageRow> {
    let mut out = Vec::new();
    for image in catalog.images.values().filter(|i| i.listed(catalog)) {
        let tags = catalog.tags_of(&image.manifest.digest);
        let row = |repository: String, tag: String| ImageRow {
            repository,
            tag,
            digest: image
                .repo_digests
                .first()
                .and_then(|d| d.split_once('@'))
                .map_or("<none>".into(), |(_, d)| d.to_string()),
            id: image.id.to_string(),
            created: image
                .created
                .as_deref()
                .and_then(parse_rfc3339)
                .unwrap_or(0),
            created_at: image.created.clone().unwrap_or_default(),
            size: image.size,
            dangling: tags.is_empty(),
        };
        if tags.is_empty() {
            out.push(row("<none>".into(), "<none>".into()));
        }
        for t in &tags {
            let r: Reference = t.parse().expect("catalog tags are valid references");
            out.push(row(
                familiar(&r.name).to_string(),
                r.tag.unwrap_or_default(),
            ));
        }
    }
    out.sort_by(|a, b| {
        b.created
            .cmp(&a.created)
            .then(a.repository.cmp(&b.repository))
            .then(a.tag.cmp(&b.tag))
    });
    out
}

/// A `--filter` of `images`.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `reference=PATTERN` (glob over `name` or `name:tag`).
    Reference(String),
    Dangling(bool),
}

/// Errors of filters.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FilterError {
    #[error("invalid filter {0:?}: expected reference=PATTERN or dangling=true|false")]
    Invalid(String),
}

impl std::str::FromStr for Filter {
    type Err = FilterError;

    fn from_str(s: &str) -> Result<Filter, FilterError> {
        let invalid = || FilterError::Invalid(s.to_string());
        match s.split_once('=').ok_or_else(invalid)? {
            ("reference", p) if !p.is_empty() => Ok(Filter::Reference(p.to_string())),
            ("dangling", "true" | "1") => Ok(Filter::Dangling(true)),
            ("dangling", "false" | "0") => Ok(Filter::Dangling(false)),
            _ => Err(invalid()),
        }
    }
}

impl Filter {
    pub fn matches(&self, row: &ImageRow) -> bool {
        match self {
            Filter::Dangling(d) => row.dangling == *d,
            Filter::Reference(p) => {
                !row.dangling
                    && (glob(p, &row.repository)
                        || glob(p, &format!("{}:{}", row.repository, row.tag)))
            }
        }
    }
}

/// Shell-style `*` and `?` matching (`*` does not cross `/`, as Go's
/// path.Match that Docker uses).
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    fn go(p: &[char], t: &[char]) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some('*') => (0..=t.len())
                .take_while(|&i| i == 0 || t[i - 1] != '/')
                .any(|i| go(&p[1..], &t[i..])),
            Some('?') => !t.is_empty() && t[0] != '/' && go(&p[1..], &t[1..]),
            Some(c) => t.first() == Some(c) && go(&p[1..], &t[1..]),
        }
    }
    go(&p, &t)
}

/// One row of `docker history`, newest first.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HistoryRow {
    /// The image ID on the top row, `<missing>` below, as Docker prints.
    pub id: String,
    pub created: i64,
    pub created_by: String,
    pub size: u64,
    pub comment: String,
}

/// The history of an image: config entries matched with layers, each
/// with its uncompressed size as Docker shows (the stored size in records
/// that predate `diff_sizes`).
pub fn history(store: &Store, image: &ImageRecord) -> Result<Vec<HistoryRow>, StoreError> {
    let config: ImageConfig = store.read_json(&image.id)?;
    let sizes: Vec<u64> = match image.diff_sizes.len() == image.layers.len() {
        true => image.diff_sizes.clone(),
        false => image.layers.iter().map(|l| l.size).collect(),
    };
    let mut layers = sizes.into_iter();
    let mut rows: Vec<HistoryRow> = config
        .history
        .iter()
        .map(|h| HistoryRow {
            id: "<missing>".into(),
            created: h.created.as_deref().and_then(parse_rfc3339).unwrap_or(0),
            created_by: h.created_by.clone().unwrap_or_default(),
            size: if h.empty_layer == Some(true) {
                0
            } else {
                layers.next().unwrap_or(0)
            },
            comment: h.comment.clone().unwrap_or_default(),
        })
        .collect();
    rows.reverse();
    if let Some(top) = rows.first_mut() {
        top.id = image.id.to_string();
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_like_path_match() {
        assert!(glob("busy*", "busybox"));
        assert!(glob("busybox:1.*", "busybox:1.36"));
        assert!(!glob("my*", "myorg/app"));
        assert!(glob("myorg/*", "myorg/app"));
        assert!(glob("b?sybox", "busybox"));
        assert!(!glob("busybox", "busybox2"));
    }

    #[test]
    fn filters_parse() {
        assert_eq!("dangling=true".parse(), Ok(Filter::Dangling(true)));
        assert_eq!("reference=a*".parse(), Ok(Filter::Reference("a*".into())));
        assert_eq!(
            "label=x".parse::<Filter>().unwrap_err().to_string(),
            "invalid filter \"label=x\": expected reference=PATTERN or dangling=true|false"
        );
    }
}
