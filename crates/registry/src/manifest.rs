//! Manifests, indexes and tags: `/v2/`, `/v2/<name>/manifests/<ref>`,
//! `/v2/<name>/tags/list`.

use oci_spec::image::Digest;
use ureq::http::Method;

use crate::auth::repo_scope;
use crate::client::{header, status_error, Call, CallBody, Client};
use crate::digest::{parse_header_digest, require_sha256, sha256_digest};
use crate::error::{Error, Result};
use crate::reference::{Reference, Repository};

pub const MEDIA_OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const MEDIA_OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const MEDIA_DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const MEDIA_DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

/// Every manifest kind this client accepts, in `Accept` order.
pub const MANIFEST_MEDIA_TYPES: [&str; 4] = [
    MEDIA_OCI_INDEX,
    MEDIA_DOCKER_LIST,
    MEDIA_OCI_MANIFEST,
    MEDIA_DOCKER_MANIFEST,
];

/// Manifests larger than this are refused (the spec suggests 4 MiB).
const MAX_MANIFEST: u64 = 8 << 20;

/// A manifest or index as the registry stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub media_type: String,
    /// sha256 of `bytes`; checked against the reference's digest when the
    /// manifest was fetched by digest.
    pub digest: Digest,
    pub bytes: Vec<u8>,
}

impl Manifest {
    /// An OCI index or Docker manifest list (choose a platform from it).
    pub fn is_index(&self) -> bool {
        self.media_type == MEDIA_OCI_INDEX || self.media_type == MEDIA_DOCKER_LIST
    }
}

/// What `HEAD` on a manifest tells without the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestInfo {
    pub media_type: Option<String>,
    pub digest: Option<Digest>,
    pub size: Option<u64>,
}

impl Client {
    /// `GET /v2/`: the registry is there, speaks v2 and lets us in.
    pub fn ping(&self, registry: &str) -> Result<()> {
        let ep = self.endpoint(registry)?;
        let url = ep.url("/v2/");
        let resp = self.send(&ep, Call::new(Method::GET, url.clone(), vec![]))?;
        match resp.status().as_u16() {
            200 => Ok(()),
            _ => Err(status_error(&Method::GET, &url, resp)),
        }
    }

    /// Fetches a manifest or index by tag or digest.
    pub fn get_manifest(&self, r: &Reference) -> Result<Manifest> {
        if let Some(d) = &r.digest {
            require_sha256(d)?;
        }
        let ep = self.endpoint(&r.repo.registry)?;
        let url = ep.url(&manifest_path(&r.repo, &r.manifest_ref()));
        let call = Call::new(Method::GET, url.clone(), pull_scope(&r.repo))
            .header("Accept", MANIFEST_MEDIA_TYPES.join(", "));
        let mut resp = self.send(&ep, call)?;
        if resp.status() != 200 {
            return Err(status_error(&Method::GET, &url, resp));
        }
        let content_type = header(&resp, "content-type");
        let header_digest = parse_header_digest(header(&resp, "docker-content-digest").as_deref());
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(MAX_MANIFEST)
            .read_to_vec()
            .map_err(|e| crate::client::map_transport(&ep, &Method::GET, &url, e))?;
        let digest = sha256_digest(&bytes);
        let expected = r
            .digest
            .clone()
            .or(header_digest.filter(|d| require_sha256(d).is_ok()));
        if let Some(want) = expected.filter(|want| *want != digest) {
            return Err(Error::DigestMismatch {
                what: "manifest",
                digest: want.to_string(),
                url,
                actual: digest.to_string(),
            });
        }
        let media_type = media_type_of(content_type.as_deref(), &bytes);
        Ok(Manifest {
            media_type,
            digest,
            bytes,
        })
    }

    /// `HEAD` on a manifest: `None` when it does not exist.
    pub fn head_manifest(&self, r: &Reference) -> Result<Option<ManifestInfo>> {
        let ep = self.endpoint(&r.repo.registry)?;
        let url = ep.url(&manifest_path(&r.repo, &r.manifest_ref()));
        let call = Call::new(Method::HEAD, url.clone(), pull_scope(&r.repo))
            .header("Accept", MANIFEST_MEDIA_TYPES.join(", "));
        let resp = self.send(&ep, call)?;
        match resp.status().as_u16() {
            200 => Ok(Some(ManifestInfo {
                media_type: header(&resp, "content-type").map(|c| strip_params(&c)),
                digest: parse_header_digest(header(&resp, "docker-content-digest").as_deref()),
                size: header(&resp, "content-length").and_then(|l| l.parse().ok()),
            })),
            404 => Ok(None),
            _ => Err(status_error(&Method::HEAD, &url, resp)),
        }
    }

    /// `PUT` a manifest under a tag or digest; returns its digest.
    pub fn put_manifest(
        &self,
        repo: &Repository,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<Digest> {
        let ep = self.endpoint(&repo.registry)?;
        let url = ep.url(&manifest_path(repo, reference));
        let call = Call::new(Method::PUT, url.clone(), push_scope(repo))
            .header("Content-Type", media_type)
            .body(CallBody::Bytes(bytes));
        let resp = self.send(&ep, call)?;
        if resp.status() != 201 {
            return Err(status_error(&Method::PUT, &url, resp));
        }
        let digest = sha256_digest(bytes);
        let theirs = parse_header_digest(header(&resp, "docker-content-digest").as_deref());
        if let Some(theirs) = theirs.filter(|t| require_sha256(t).is_ok() && *t != digest) {
            return Err(Error::DigestMismatch {
                what: "pushed manifest",
                digest: digest.to_string(),
                url,
                actual: theirs.to_string(),
            });
        }
        Ok(digest)
    }

    /// All tags of a repository, following `Link: <…>; rel="next"` pages.
    pub fn list_tags(&self, repo: &Repository) -> Result<Vec<String>> {
        #[derive(serde::Deserialize)]
        struct Tags {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let ep = self.endpoint(&repo.registry)?;
        let mut url = ep.url(&format!("/v2/{}/tags/list", repo.name));
        let mut all = Vec::new();
        loop {
            let resp = self.send(&ep, Call::new(Method::GET, url.clone(), pull_scope(repo)))?;
            if resp.status() != 200 {
                return Err(status_error(&Method::GET, &url, resp));
            }
            let next = header(&resp, "link").and_then(|l| next_link(&l));
            let page: Tags = resp
                .into_body()
                .with_config()
                .limit(MAX_MANIFEST)
                .read_json()
                .map_err(|e| Error::Protocol {
                    url: url.clone(),
                    reason: format!("bad tag list: {e}"),
                })?;
            all.extend(page.tags.unwrap_or_default());
            match next {
                Some(n) => url = ep.resolve_location(&n),
                None => return Ok(all),
            }
        }
    }
}

pub(crate) fn manifest_path(repo: &Repository, reference: &str) -> String {
    format!("/v2/{}/manifests/{reference}", repo.name)
}

pub(crate) fn pull_scope(repo: &Repository) -> Vec<String> {
    vec![repo_scope(&repo.name, "pull")]
}

pub(crate) fn push_scope(repo: &Repository) -> Vec<String> {
    vec![repo_scope(&repo.name, "pull,push")]
}

fn strip_params(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_string()
}

/// The Content-Type, unless it is generic; then the document's own
/// `mediaType`, else a guess from its shape. Public for the fuzz targets.
pub fn media_type_of(content_type: Option<&str>, bytes: &[u8]) -> String {
    let ct = content_type.map(strip_params).unwrap_or_default();
    let generic = ct.is_empty() || ct == "application/json" || ct == "text/plain";
    if !generic {
        return ct;
    }
    let v: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_default();
    if let Some(mt) = v.get("mediaType").and_then(|m| m.as_str()) {
        return mt.to_string();
    }
    if v.get("manifests").is_some() {
        MEDIA_OCI_INDEX.to_string()
    } else {
        MEDIA_OCI_MANIFEST.to_string()
    }
}

/// `</v2/x/tags/list?last=a&n=1>; rel="next"` → the URL. Public for the
/// fuzz targets.
pub fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"" || p.trim() == "rel=next");
        let url = url.trim().strip_prefix('<')?.strip_suffix('>')?;
        is_next.then(|| url.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers() {
        assert_eq!(
            next_link(r#"</v2/a/tags/list?last=b&n=2>; rel="next""#).as_deref(),
            Some("/v2/a/tags/list?last=b&n=2")
        );
        assert_eq!(next_link(r#"<http://x/y>; rel="prev""#), None);
    }

    #[test]
    fn media_types() {
        assert_eq!(
            media_type_of(
                Some("application/vnd.oci.image.index.v1+json; charset=utf-8"),
                b""
            ),
            MEDIA_OCI_INDEX
        );
        assert_eq!(
            media_type_of(Some("application/json"), br#"{"mediaType":"x/y"}"#),
            "x/y"
        );
        assert_eq!(media_type_of(None, br#"{"manifests":[]}"#), MEDIA_OCI_INDEX);
        assert_eq!(media_type_of(None, br#"{"layers":[]}"#), MEDIA_OCI_MANIFEST);
    }
}
