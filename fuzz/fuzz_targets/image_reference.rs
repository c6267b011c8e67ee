//! Image references: both parsers (`yurta_images::Reference` for the store,
//! `yurta_registry::Reference` for pulls and pushes) on the same string.
//!
//! Invariants: no panic; each parser's printed form parses back to the same
//! value; and when both accept a reference they mean the same image (same
//! registry, repository path, tag and digest).

#![no_main]

use libfuzzer_sys::fuzz_target;

/// Whether the first component of a familiar name would be read as a
/// registry host: `docker.io/a.b/c` prints as `a.b/c`, which names another
/// registry. Docker's familiar names have the same ambiguity, so the
/// round trip through the familiar form is checked only without it.
fn looks_like_host(familiar: &str) -> bool {
    familiar.split_once('/').is_some_and(|(first, _)| {
        first.contains(['.', ':'])
            || first == "localhost"
            || first.bytes().any(|b| b.is_ascii_uppercase())
    })
}

/// Where the two parsers may disagree on purpose: the store keeps sha256
/// digests only; the registry takes an upper-case first component for a
/// host (Docker's rule, the store refuses upper case) and folds
/// `registry-1.docker.io` (the Hub's API host) into `docker.io`; the store
/// counts the 255-character limit on `domain/path`, the registry on the path.
fn known_difference(s: &str) -> bool {
    let (rest, digest) = s.rsplit_once('@').unwrap_or((s, ""));
    let first = rest.split('/').next().unwrap_or("");
    (!digest.is_empty() && !digest.starts_with("sha256:"))
        || first.bytes().any(|b| b.is_ascii_uppercase())
        || first == "registry-1.docker.io"
        || s.len() > 200
}

fn images_side(s: &str) -> Option<yurta_images::Reference> {
    let r: yurta_images::Reference = s.parse().ok()?;
    let again: yurta_images::Reference = r.to_string().parse().unwrap_or_else(|e| {
        panic!(
            "images: {s:?} printed as {:?}, which does not parse: {e}",
            r.to_string()
        )
    });
    assert_eq!(again, r, "images: {s:?} does not round-trip");
    assert_eq!(format!("{}/{}", r.domain(), r.path()), r.name);
    let familiar = r.familiar_name().to_string();
    if !looks_like_host(&familiar) {
        let back: yurta_images::Reference = familiar.parse().unwrap_or_else(|e| {
            panic!("images: familiar {familiar:?} of {s:?} does not parse: {e}")
        });
        assert_eq!(back.name, r.name, "images: familiar name of {s:?}");
    }
    Some(r.with_default_tag())
}

fn registry_side(s: &str) -> Option<yurta_registry::Reference> {
    let r = yurta_registry::Reference::parse(s).ok()?;
    let printed = r.to_string();
    let again = yurta_registry::Reference::parse(&printed).unwrap_or_else(|e| {
        panic!("registry: {s:?} printed as {printed:?}, which does not parse: {e}")
    });
    assert_eq!(again, r, "registry: {s:?} does not round-trip");
    let familiar = r.familiar();
    if !looks_like_host(&familiar) {
        let back = yurta_registry::Reference::parse(&familiar).unwrap_or_else(|e| {
            panic!("registry: familiar {familiar:?} of {s:?} does not parse: {e}")
        });
        assert_eq!(back, r, "registry: familiar form of {s:?}");
    }
    assert!(!r.manifest_ref().is_empty());
    Some(r)
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let (i, r) = (images_side(s), registry_side(s));
    if known_difference(s) {
        return;
    }
    let (i, r) = match (i, r) {
        (Some(i), Some(r)) => (i, r),
        (i, r) => {
            assert_eq!(
                i.is_some(),
                r.is_some(),
                "{s:?}: only one parser accepts it"
            );
            return;
        }
    };
    let reg_name = format!("{}/{}", r.repo.registry, r.repo.name);
    assert_eq!(
        i.name, reg_name,
        "{s:?}: the two parsers name different repositories"
    );
    assert_eq!(i.tag, r.tag, "{s:?}: different tags");
    assert_eq!(
        i.digest.map(|d| d.to_string()),
        r.digest.map(|d| d.to_string()),
        "{s:?}: different digests"
    );
});
