//! Docker's network filters (`network ls --filter`, `GET /networks?
//! filters=`): `name` (a part of the name), `id` (a prefix), `label`
//! (`KEY` or `KEY=VALUE`), `driver`, `type` (`custom` or `builtin`),
//! `dangling` (no container attached). Values of one name are
//! alternatives; different names must all match.

use crate::record::Network;

/// One filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkFilter {
    Name(String),
    Id(String),
    Label(String),
    Driver(String),
    /// true: user-defined (`custom`), false: the default (`builtin`).
    Custom(bool),
    Dangling(bool),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FilterError {
    #[error("invalid filter '{0}'")]
    Unknown(String),
    #[error("invalid filter '{key}={value}'")]
    Value { key: String, value: String },
}

impl yurta_error::Kinded for FilterError {
    fn kind(&self) -> yurta_error::ErrorKind {
        yurta_error::ErrorKind::Invalid
    }
}

impl NetworkFilter {
    pub fn from_pair(key: &str, value: &str) -> Result<NetworkFilter, FilterError> {
        let bad = || FilterError::Value {
            key: key.to_string(),
            value: value.to_string(),
        };
        let v = value.to_string();
        Ok(match key {
            "name" => NetworkFilter::Name(v),
            "id" => NetworkFilter::Id(v),
            "label" => NetworkFilter::Label(v),
            "driver" => NetworkFilter::Driver(v),
            "type" => match value {
                "custom" => NetworkFilter::Custom(true),
                "builtin" => NetworkFilter::Custom(false),
                _ => return Err(bad()),
            },
            "dangling" => match value {
                "true" | "1" => NetworkFilter::Dangling(true),
                "false" | "0" => NetworkFilter::Dangling(false),
                _ => return Err(bad()),
            },
            _ => return Err(FilterError::Unknown(key.to_string())),
        })
    }

    fn key(&self) -> u8 {
        match self {
            NetworkFilter::Name(_) => 0,
            NetworkFilter::Id(_) => 1,
            NetworkFilter::Label(_) => 2,
            NetworkFilter::Driver(_) => 3,
            NetworkFilter::Custom(_) => 4,
            NetworkFilter::Dangling(_) => 5,
        }
    }

    pub fn matches(&self, n: &Network) -> bool {
        match self {
            NetworkFilter::Name(s) => n.name.contains(s.as_str()),
            NetworkFilter::Id(s) => n.id.starts_with(s.as_str()),
            NetworkFilter::Label(want) => match want.split_once('=') {
                Some((k, v)) => n.labels.get(k).is_some_and(|x| x == v),
                None => n.labels.contains_key(want),
            },
            NetworkFilter::Driver(d) => n.driver == *d,
            NetworkFilter::Custom(c) => n.is_default != *c,
            NetworkFilter::Dangling(d) => n.endpoints.is_empty() == *d,
        }
    }
}

/// Whether `n` passes `filters` (one per name must match).
pub fn passes(n: &Network, filters: &[NetworkFilter]) -> bool {
    let mut keys: Vec<u8> = filters.iter().map(NetworkFilter::key).collect();
    keys.dedup();
    keys.sort_unstable();
    keys.dedup();
    keys.iter().all(|k| {
        filters
            .iter()
            .filter(|f| f.key() == *k)
            .any(|f| f.matches(n))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_and_refuse_unknown_names() {
        assert_eq!(
            NetworkFilter::from_pair("type", "custom"),
            Ok(NetworkFilter::Custom(true))
        );
        assert!(NetworkFilter::from_pair("type", "x").is_err());
        assert_eq!(
            NetworkFilter::from_pair("colour", "x"),
            Err(FilterError::Unknown("colour".into()))
        );
    }
}
