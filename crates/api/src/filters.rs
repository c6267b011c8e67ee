//! Docker's `filters` query parameter: a JSON map from a filter's name to
//! its values, as a list (`{"label":["a=b"]}`, Compose v2 and newer
//! clients) or as a set (`{"label":{"a=b":true}}`, docker-compose 1.x and
//! older clients). Values of one name are alternatives; names must all
//! match.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::ApiError;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Filters(pub BTreeMap<String, Vec<String>>);

impl Filters {
    pub fn parse(text: Option<&str>) -> Result<Filters, ApiError> {
        let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
            return Ok(Filters::default());
        };
        let bad = |why: String| ApiError::bad_request(format!("invalid filters {text:?}: {why}"));
        let v: Value = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        let Value::Object(map) = v else {
            return Err(bad("expected a JSON object".into()));
        };
        let mut out = BTreeMap::new();
        for (k, v) in map {
            let values: Vec<String> = match v {
                Value::Array(a) => a
                    .into_iter()
                    .map(|x| match x {
                        Value::String(s) => Ok(s),
                        other => Err(bad(format!("{k}: {other} is not a string"))),
                    })
                    .collect::<Result<_, _>>()?,
                Value::Object(set) => set
                    .into_iter()
                    .filter(|(_, on)| on.as_bool() != Some(false))
                    .map(|(s, _)| s)
                    .collect(),
                Value::String(s) => vec![s],
                other => return Err(bad(format!("{k}: {other} is not a list of strings"))),
            };
            out.insert(k, values);
        }
        Ok(Filters(out))
    }

    pub fn get(&self, key: &str) -> &[String] {
        self.0.get(key).map_or(&[], Vec::as_slice)
    }

    /// Refuses names outside `known` (Docker's "invalid filter 'x'").
    pub fn only(&self, known: &[&str]) -> Result<(), ApiError> {
        match self.0.keys().find(|k| !known.contains(&k.as_str())) {
            Some(k) => Err(ApiError::bad_request(format!("invalid filter '{k}'"))),
            None => Ok(()),
        }
    }

    /// `key=value` strings, one per value (the form the CLI parses).
    pub fn pairs(&self) -> Vec<(String, String)> {
        self.0
            .iter()
            .flat_map(|(k, vs)| vs.iter().map(move |v| (k.clone(), v.clone())))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_encodings_parse_alike() {
        let a = Filters::parse(Some(r#"{"label":["a=b"],"name":["x"]}"#)).unwrap();
        let b = Filters::parse(Some(r#"{"label":{"a=b":true},"name":{"x":true}}"#)).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.get("label"), ["a=b"]);
        assert!(Filters::parse(Some("{")).is_err());
        assert!(Filters::parse(Some("[1]")).is_err());
        assert!(a.only(&["label"]).is_err());
        assert_eq!(Filters::parse(None).unwrap().pairs(), vec![]);
    }
}
