//! Docker's volume filters (`volume ls --filter`, `volume prune
//! --filter`, `GET /volumes?filters=`): `dangling`, `name`, `label`,
//! `label!`, `driver`. Every filter given must match.

use crate::volume::{Volume, VolumeError, VolumeStore};

/// One filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolumeFilter {
    /// Unused (true) or used (false) by any container.
    Dangling(bool),
    /// The name contains this.
    Name(String),
    /// `KEY` or `KEY=VALUE` among the labels.
    Label(String),
    /// `label!=`: not among the labels.
    NotLabel(String),
    Driver(String),
}

#[derive(Debug, thiserror::Error)]
pub enum VolumeFilterError {
    #[error("unsupported filter {0:?} (dangling, name, label, driver)")]
    Unsupported(String),
    #[error("invalid filter {0:?}: dangling is true or false")]
    Dangling(String),
}

impl VolumeFilter {
    /// Parses `KEY=VALUE` (or `label!=VALUE`).
    pub fn parse(filter: &str) -> Result<VolumeFilter, VolumeFilterError> {
        if let Some(want) = filter.strip_prefix("label!=") {
            return Ok(VolumeFilter::NotLabel(want.to_string()));
        }
        let (key, value) = filter
            .split_once('=')
            .ok_or_else(|| VolumeFilterError::Unsupported(filter.to_string()))?;
        VolumeFilter::from_pair(key, value)
    }

    /// A key and one value, as the Engine API's `filters` map has them.
    pub fn from_pair(key: &str, value: &str) -> Result<VolumeFilter, VolumeFilterError> {
        let v = value.to_string();
        Ok(match key {
            "dangling" => VolumeFilter::Dangling(match value {
                "true" | "1" => true,
                "false" | "0" => false,
                _ => return Err(VolumeFilterError::Dangling(format!("dangling={value}"))),
            }),
            "name" => VolumeFilter::Name(v),
            "label" => VolumeFilter::Label(v),
            "label!" => VolumeFilter::NotLabel(v),
            "driver" => VolumeFilter::Driver(v),
            _ => return Err(VolumeFilterError::Unsupported(format!("{key}={value}"))),
        })
    }

    /// Whether `v` passes; `dangling` asks the store for the volume's users.
    pub fn matches(&self, v: &Volume, store: &VolumeStore) -> Result<bool, VolumeError> {
        let label = |want: &str| {
            let labels = v.labels.clone().unwrap_or_default();
            match want.split_once('=') {
                Some((k, val)) => labels.get(k).is_some_and(|x| x == val),
                None => labels.contains_key(want),
            }
        };
        Ok(match self {
            VolumeFilter::Dangling(want) => store.users(&v.name)?.is_empty() == *want,
            VolumeFilter::Name(want) => v.name.contains(want.as_str()),
            VolumeFilter::Label(want) => label(want),
            VolumeFilter::NotLabel(want) => !label(want),
            VolumeFilter::Driver(want) => v.driver == *want,
        })
    }

    /// Whether prune accepts it (Docker's prune takes labels only).
    pub fn is_label(&self) -> bool {
        matches!(self, VolumeFilter::Label(_) | VolumeFilter::NotLabel(_))
    }
}

/// The volumes that pass every filter.
pub fn list(store: &VolumeStore, filters: &[VolumeFilter]) -> Result<Vec<Volume>, VolumeError> {
    let mut out = Vec::new();
    for v in store.list()? {
        let mut keep = true;
        for f in filters {
            keep = keep && f.matches(&v, store)?;
        }
        if keep {
            out.push(v);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_as_docker_writes_them() {
        assert_eq!(
            VolumeFilter::parse("label!=a=b").unwrap(),
            VolumeFilter::NotLabel("a=b".into())
        );
        assert_eq!(
            VolumeFilter::parse("dangling=true").unwrap(),
            VolumeFilter::Dangling(true)
        );
        assert!(VolumeFilter::parse("dangling=maybe").is_err());
        assert!(VolumeFilter::parse("color=red").is_err());
        assert!(VolumeFilter::parse("name").is_err());
    }

    #[test]
    fn a_store_lists_what_passes() {
        let root = tempfile::tempdir().unwrap();
        let store = VolumeStore::open_root(root.path()).unwrap();
        for (name, label) in [("va", "x=1"), ("vb", "x=2")] {
            let (k, v) = label.split_once('=').unwrap();
            let req = crate::VolumeCreate {
                name: Some(name.into()),
                labels: [(k.to_string(), v.to_string())].into(),
                ..Default::default()
            };
            store.create(&req).unwrap();
        }
        let f = [VolumeFilter::parse("label=x=2").unwrap()];
        let names: Vec<String> = list(&store, &f)
            .unwrap()
            .into_iter()
            .map(|v| v.name)
            .collect();
        assert_eq!(names, ["vb"]);
        let f = [
            VolumeFilter::parse("dangling=true").unwrap(),
            VolumeFilter::parse("name=v").unwrap(),
        ];
        assert_eq!(list(&store, &f).unwrap().len(), 2);
    }
}
