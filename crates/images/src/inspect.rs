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
/// untagged image; newest first. An image is its ID, as Docker's: a
/// second record of an ID (the same image loaded from an archive whose
/// manifest differs, say) adds its tags, and is no `<none>` row while
/// the ID has a tag elsewhere.
pub fn rows(catalog: &Catalog) -> Vec<ImageRow> {
    let mut out = Vec::new();
    let tagged = tagged_ids(catalog);
    let mut untagged_shown = std::collections::HashSet::new();
    for image in catalog.images.values().filter(|i| i.listed(catalog)) {
        let tags = catalog.tags_of(&image.manifest.digest);
        if tags.is_empty() && (tagged.contains(&image.id) || !untagged_shown.insert(&image.id)) {
            continue;
        }
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
            dangling: !tagged.contains(&image.id),
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

/// The image IDs with a tag on any of their records.
pub fn tagged_ids(catalog: &Catalog) -> std::collections::HashSet<&crate::Digest> {
    catalog
        .images
        .iter()
        .filter(|(d, _)| !catalog.tags_of(d).is_empty())
        .map(|(_, i)| &i.id)
        .collect()
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

    #[test]
    fn an_image_is_its_id_whatever_its_records() {
        use crate::testing::{catalog, image};
        let pulled = image("app", &[("os", 100)], false);
        let mut loaded = pulled.clone();
        loaded.manifest = crate::testing::desc("the archive's manifest of app", 1);
        // The tag moved to the loaded record: the pulled one is no row.
        let c = catalog(&[
            ("", pulled.clone()),
            ("docker.io/library/app:1", loaded.clone()),
        ]);
        let shown: Vec<_> = rows(&c)
            .into_iter()
            .map(|r| (r.repository, r.tag, r.dangling))
            .collect();
        assert_eq!(shown, [("app".to_string(), "1".to_string(), false)]);
        // Both untagged: one <none> row, dangling.
        let c = catalog(&[("", pulled.clone()), ("", loaded.clone())]);
        let shown: Vec<_> = rows(&c)
            .into_iter()
            .map(|r| (r.repository, r.dangling))
            .collect();
        assert_eq!(shown, [("<none>".to_string(), true)]);
        // The API's summaries: one per ID, with every record's tags.
        let c = catalog(&[
            ("docker.io/library/app:1", pulled),
            ("docker.io/library/app:2", loaded),
        ]);
        let dir = tempfile::tempdir().unwrap();
        let store = crate::Store::open_root(dir.path()).unwrap();
        let s = crate::summary::summaries(&store, &c, &[], &Default::default());
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].repo_tags, ["app:1", "app:2"]);
    }
}
