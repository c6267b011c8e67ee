//! Manifest, index and config JSON (`yurta_images::spec`), platform choice
//! from an index (`yurta_images::platform::select`), and the registry's
//! reading of a fetched manifest (`yurta_registry::media_type_of`) and of
//! its `Link` header (`yurta_registry::next_link`).
//!
//! Invariants: no panic; a document that parses, written and read again,
//! writes the same JSON (nothing lost, unknown fields kept); the chosen
//! index entry runs on the wanted platform; `Probe` agrees with the
//! registry on what is an index when the document says its media type.

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use yurta_images::platform::{select, Platform};
use yurta_images::spec::{ImageConfig, Index, Manifest, Probe};

fn round_trip<T: Serialize + DeserializeOwned>(data: &[u8]) -> Option<T> {
    let doc: T = serde_json::from_slice(data).ok()?;
    let first = serde_json::to_vec(&doc).expect("a parsed document serializes");
    let again: T = serde_json::from_slice(&first).unwrap_or_else(|e| {
        panic!(
            "{} written as {} does not read back: {e}",
            std::any::type_name::<T>(),
            String::from_utf8_lossy(&first)
        )
    });
    let second = serde_json::to_vec(&again).expect("serializes");
    if first != second {
        let (a, b): (Value, Value) = (
            serde_json::from_slice(&first).expect("JSON"),
            serde_json::from_slice(&second).expect("JSON"),
        );
        assert!(
            same_json(&a, &b),
            "{} changes when written twice:\n{a}\n{b}",
            std::any::type_name::<T>()
        );
    }
    Some(doc)
}

/// Equal, but for the last digits of floats: serde_json without its
/// `float_roundtrip` feature reads some floats one ulp off (docs/fuzzing.md).
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            x == y || ((x - y).abs() <= x.abs().max(y.abs()) * 1e-15)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

const WANTED: &[&str] = &[
    "linux/amd64",
    "linux/arm64",
    "linux/arm/v6",
    "linux/e2k",
    "linux/e2k/v4",
    "linux/e2k/v7",
];

fn choose(index: &Index) {
    let mut wanted: Vec<Platform> = WANTED.iter().map(|w| w.parse().expect("valid")).collect();
    // Each entry's own platform is wanted too (the host may be anything).
    wanted.extend(
        index
            .manifests
            .iter()
            .filter_map(|d| d.platform.as_ref()?.platform()),
    );
    for w in &wanted {
        let Ok(best) = select(w, "fuzz", &index.manifests, |d| {
            d.platform.as_ref()?.platform()
        }) else {
            continue;
        };
        let p = best
            .platform
            .as_ref()
            .and_then(|p| p.platform())
            .expect("chosen has a platform");
        assert!(w.rank(&p).is_some(), "chose {p} for {w}");
        // An index may name an os such as "linux/x": it prints ambiguously
        // (and no --platform can ask for it), so no round trip then.
        let parts = [&p.os, &p.architecture]
            .into_iter()
            .chain(p.variant.as_ref());
        if parts.into_iter().any(|c| c.contains('/')) {
            continue;
        }
        let printed = p.to_string();
        if let Ok(again) = printed.parse::<Platform>() {
            assert_eq!(again, p, "platform {printed:?} does not round-trip");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Some(index) = round_trip::<Index>(data) {
        choose(&index);
    }
    let _ = round_trip::<Manifest>(data);
    if let Some(config) = round_trip::<ImageConfig>(data) {
        let _ = config.platform().to_string();
    }
    // serde skips ignored fields without checking their UTF-8, a `Value`
    // does not: compare the two readers on valid JSON only.
    let valid_json = serde_json::from_slice::<serde_json::Value>(data).is_ok();
    if let Ok(probe) = serde_json::from_slice::<Probe>(data) {
        let by_registry = yurta_registry::media_type_of(None, data);
        if probe.media_type.is_some() && valid_json {
            let registry_index = by_registry == yurta_registry::MEDIA_OCI_INDEX
                || by_registry == yurta_registry::MEDIA_DOCKER_LIST;
            assert_eq!(
                probe.is_index(),
                registry_index,
                "index or not: {by_registry}"
            );
        }
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = s.parse::<Platform>();
        let _ = yurta_registry::media_type_of(Some(s), b"{}");
        if let Some(url) = yurta_registry::next_link(s) {
            assert!(s.contains(&url));
        }
    }
});
