//! Reading a pushed manifest for what the registry must check and index:
//! the blobs and manifests it names, its subject, and its descriptor for
//! the referrers API. OCI image manifests and indexes, Docker schema 2
//! manifests and manifest lists; schema 1 is refused.

use serde_json::{json, Value};

use crate::errors::{ApiError, Code};
use crate::names::Digest;
use crate::storage::ManifestInfo;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

/// The largest manifest accepted (distribution's limit).
pub const MAX_MANIFEST: usize = 4 << 20;

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::detail(Code::ManifestInvalid, detail.into())
}

fn digest_at(v: &Value, what: &str) -> Result<Digest, ApiError> {
    let s = v["digest"]
        .as_str()
        .ok_or_else(|| invalid(format!("{what} has no digest")))?;
    Digest::parse(s).map_err(|_| invalid(format!("{what} has an invalid digest {s:?}")))
}

/// Reads manifest `data` (digest `digest`), sent with `content_type`.
pub fn parse(data: &[u8], content_type: &str, digest: &Digest) -> Result<ManifestInfo, ApiError> {
    let v: Value = serde_json::from_slice(data).map_err(|e| invalid(format!("not JSON: {e}")))?;
    if !v.is_object() {
        return Err(invalid("not a JSON object"));
    }
    if v["schemaVersion"].as_i64() == Some(1) {
        return Err(invalid("schema 1 manifests are not supported"));
    }
    let media_type = match v["mediaType"].as_str() {
        Some(t) => t.to_string(),
        None if !content_type.is_empty() && content_type != "application/json" => {
            content_type.to_string()
        }
        None if v.get("manifests").is_some() => OCI_INDEX.to_string(),
        None => OCI_MANIFEST.to_string(),
    };
    let mut info = ManifestInfo {
        media_type: media_type.clone(),
        ..Default::default()
    };
    match media_type.as_str() {
        OCI_MANIFEST | DOCKER_MANIFEST => image_manifest(&v, &mut info)?,
        OCI_INDEX | DOCKER_LIST => index(&v, &mut info)?,
        other => return Err(invalid(format!("unsupported media type {other:?}"))),
    }
    if let Some(subject) = v.get("subject").filter(|s| !s.is_null()) {
        info.subject = Some(digest_at(subject, "subject")?);
        info.referrer = Some(referrer_descriptor(&v, &media_type, digest, data.len()));
    }
    Ok(info)
}

fn image_manifest(v: &Value, info: &mut ManifestInfo) -> Result<(), ApiError> {
    let config = v.get("config").ok_or_else(|| invalid("no config"))?;
    info.blobs.push(digest_at(config, "config")?);
    let layers = v["layers"].as_array().ok_or_else(|| invalid("no layers"))?;
    for layer in layers {
        // Foreign layers live elsewhere (their urls); not in this registry.
        let foreign = layer["urls"].as_array().is_some_and(|u| !u.is_empty());
        if !foreign {
            info.blobs.push(digest_at(layer, "a layer")?);
        }
    }
    Ok(())
}

fn index(v: &Value, info: &mut ManifestInfo) -> Result<(), ApiError> {
    let entries = v["manifests"]
        .as_array()
        .ok_or_else(|| invalid("no manifests"))?;
    for m in entries {
        info.manifests.push(digest_at(m, "an entry")?);
    }
    Ok(())
}

/// The manifest as the referrers API lists it: its artifactType (or its
/// config's media type) and annotations.
fn referrer_descriptor(v: &Value, media_type: &str, digest: &Digest, size: usize) -> Value {
    let mut d = json!({
        "mediaType": media_type,
        "digest": digest.to_string(),
        "size": size,
    });
    let artifact = v["artifactType"]
        .as_str()
        .or_else(|| v["config"]["mediaType"].as_str());
    if let Some(a) = artifact {
        d["artifactType"] = json!(a);
    }
    if let Some(a) = v.get("annotations").filter(|a| a.is_object()) {
        d["annotations"] = a.clone();
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(n: u8) -> String {
        format!("sha256:{}", hex::encode([n; 32]))
    }

    #[test]
    fn an_image_manifest_names_config_and_layers_but_not_foreign_ones() {
        let m = json!({
            "schemaVersion": 2, "mediaType": DOCKER_MANIFEST,
            "config": {"digest": d(1)},
            "layers": [{"digest": d(2)}, {"digest": d(3), "urls": ["https://x"]}],
        });
        let info = parse(m.to_string().as_bytes(), "", &Digest::of(b"")).unwrap();
        assert_eq!(info.media_type, DOCKER_MANIFEST);
        let blobs: Vec<String> = info.blobs.iter().map(|d| d.to_string()).collect();
        assert_eq!(blobs, [d(1), d(2)]);
        assert!(info.subject.is_none());
    }

    #[test]
    fn a_subject_makes_a_referrer_descriptor() {
        let m = json!({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "artifactType": "application/x-sbom",
            "config": {"digest": d(1), "mediaType": "application/vnd.oci.empty.v1+json"},
            "layers": [], "subject": {"digest": d(9)},
            "annotations": {"a": "b"},
        });
        let own = Digest::of(b"x");
        let info = parse(m.to_string().as_bytes(), OCI_MANIFEST, &own).unwrap();
        assert_eq!(info.subject.unwrap().to_string(), d(9));
        let r = info.referrer.unwrap();
        assert_eq!(r["artifactType"], "application/x-sbom");
        assert_eq!(r["digest"], own.to_string());
        assert_eq!(r["annotations"]["a"], "b");
    }

    #[test]
    fn bad_manifests_are_invalid() {
        for bad in [
            "not json".to_string(),
            "[]".into(),
            json!({"schemaVersion": 1, "fsLayers": []}).to_string(),
            json!({"mediaType": OCI_MANIFEST, "layers": []}).to_string(),
            json!({"mediaType": OCI_INDEX, "manifests": [{"digest": "sha256:zz"}]}).to_string(),
            json!({"mediaType": "text/plain"}).to_string(),
        ] {
            let e = parse(bad.as_bytes(), "", &Digest::of(b"")).unwrap_err();
            assert_eq!(e.code, Code::ManifestInvalid, "{bad}");
        }
    }
}
