//! `yurta registry serve` on the spec's cases docker-registry 2.8 does
//! not cover and on bad input: out-of-order chunks, resuming a truncated
//! upload, wrong digests, bad names, oversized manifests, the referrers
//! API, tag deletion, read-only mode, a client that stalls its body while
//! others are served, and many requests at once.

mod regsrv;

use std::io::Write;
use std::net::TcpStream;

use regsrv::http::{read_response, request, Resp};
use regsrv::{digest, Server};
use serde_json::json;

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCTETS: (&str, &str) = ("Content-Type", "application/octet-stream");

fn post_blob(addr: &str, repo: &str, blob: &[u8]) -> String {
    let d = digest(blob);
    let r = request(
        addr,
        "POST",
        &format!("/v2/{repo}/blobs/uploads/?digest={d}"),
        &[OCTETS],
        blob,
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    d
}

/// An image manifest over a pushed config and layer (plus `extra` fields).
fn push_image(addr: &str, repo: &str, tag: &str, extra: serde_json::Value) -> (String, Resp) {
    let config = post_blob(addr, repo, br#"{"os":"linux"}"#);
    let layer = post_blob(addr, repo, format!("layer of {tag}").as_bytes());
    let mut m = json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": 14},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer, "size": 3}],
    });
    for (k, v) in extra.as_object().unwrap() {
        m[k] = v.clone();
    }
    let body = serde_json::to_vec(&m).unwrap();
    let r = request(
        addr,
        "PUT",
        &format!("/v2/{repo}/manifests/{tag}"),
        &[("Content-Type", OCI_MANIFEST)],
        &body,
    );
    (digest(&body), r)
}

#[test]
fn chunks_out_of_order_are_refused_and_the_upload_goes_on() {
    let srv = Server::start(&[]);
    let a = srv.addr();
    let blob = b"0123456789abcdef";
    let start = request(&a, "POST", "/v2/s/chunks/blobs/uploads/", &[], b"");
    assert_eq!(start.status, 202);
    let loc = start.header("location").unwrap().to_string();
    assert_eq!(
        request(&a, "PATCH", &loc, &[("Content-Range", "0-7")], &blob[..8]).status,
        202
    );
    let bad = request(
        &a,
        "PATCH",
        &loc,
        &[("Content-Range", "10-15")],
        &blob[10..],
    );
    assert_eq!(
        (bad.status, bad.error_code().as_deref()),
        (416, Some("RANGE_INVALID"))
    );
    assert_eq!(bad.header("range"), Some("0-7"));
    let lying = request(&a, "PATCH", &loc, &[("Content-Range", "8-9")], &blob[8..]);
    assert_eq!(lying.status, 416, "a length that is not the range's");
    assert_eq!(
        request(&a, "PATCH", &loc, &[("Content-Range", "8-15")], &blob[8..]).status,
        202
    );
    let done = request(
        &a,
        "PUT",
        &format!("{loc}?digest={}", digest(blob)),
        &[],
        b"",
    );
    assert_eq!(done.status, 201);
    let got = request(
        &a,
        "GET",
        &format!("/v2/s/chunks/blobs/{}", digest(blob)),
        &[],
        b"",
    );
    assert_eq!(got.body, blob);
}

#[test]
fn a_truncated_upload_resumes_from_its_status() {
    let srv = Server::start(&[]);
    let a = srv.addr();
    let blob: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let loc = request(&a, "POST", "/v2/s/resume/blobs/uploads/", &[], b"")
        .header("location")
        .unwrap()
        .to_string();
    // The client dies after half of its chunk.
    let mut s = TcpStream::connect(&a).unwrap();
    let head = format!(
        "PATCH {loc} HTTP/1.1\r\nHost: {a}\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
        blob.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(&blob[..100_000]).unwrap();
    drop(s);
    // Its bytes are kept (once the server noticed); the status says how many.
    let mut have = 0;
    let noticed = yurta_testutil::process::poll_until(
        std::time::Duration::from_secs(30),
        std::time::Duration::from_millis(50),
        || {
            let st = request(&a, "GET", &loc, &[], b"");
            have = st.header("range").unwrap()[2..].parse::<usize>().unwrap() + 1;
            st.status == 204 && have == 100_000
        },
    );
    assert!(noticed, "the status says {have} bytes");
    let range = format!("{have}-{}", blob.len() - 1);
    let rest = request(
        &a,
        "PATCH",
        &loc,
        &[("Content-Range", &range), OCTETS],
        &blob[have..],
    );
    assert_eq!(rest.status, 202);
    let d = digest(&blob);
    assert_eq!(
        request(&a, "PUT", &format!("{loc}?digest={d}"), &[], b"").status,
        201
    );
    let ranged = request(
        &a,
        "GET",
        &format!("/v2/s/resume/blobs/{d}"),
        &[("Range", "bytes=199990-")],
        b"",
    );
    assert_eq!(ranged.status, 206);
    assert_eq!(ranged.body, &blob[199_990..]);
}

#[test]
fn nothing_unverified_is_stored() {
    let srv = Server::start(&[]);
    let a = srv.addr();
    let claimed = digest(b"what the client claims");
    let r = request(
        &a,
        "POST",
        &format!("/v2/s/bad/blobs/uploads/?digest={claimed}"),
        &[OCTETS],
        b"other bytes",
    );
    assert_eq!(
        (r.status, r.error_code().as_deref()),
        (400, Some("DIGEST_INVALID"))
    );
    let head = request(
        &a,
        "HEAD",
        &format!("/v2/s/bad/blobs/{}", digest(b"other bytes")),
        &[],
        b"",
    );
    assert_eq!(head.status, 404);
    let blobs = walk(&srv.storage().join("blobs"));
    assert!(blobs.is_empty(), "{blobs:?}");
    let sha512 = format!("sha512:{}", "a".repeat(128));
    let r = request(
        &a,
        "POST",
        &format!("/v2/s/bad/blobs/uploads/?digest={sha512}"),
        &[OCTETS],
        b"x",
    );
    assert_eq!(r.error_code().as_deref(), Some("DIGEST_INVALID"));
    let (_, missing) = {
        let body = serde_json::to_vec(&json!({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"digest": claimed, "size": 1, "mediaType": "x"}, "layers": [],
        }))
        .unwrap();
        (
            (),
            request(
                &a,
                "PUT",
                "/v2/s/bad/manifests/1",
                &[("Content-Type", OCI_MANIFEST)],
                &body,
            ),
        )
    };
    assert_eq!(
        missing.error_code().as_deref(),
        Some("MANIFEST_BLOB_UNKNOWN")
    );
    assert!(String::from_utf8_lossy(&missing.body).contains(&claimed));
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn bad_names_and_huge_manifests_are_refused_cleanly() {
    let srv = Server::start(&[]);
    let a = srv.addr();
    for name in ["Upper/case", "a/../b", "a/./b", "-lead", "a%2Fb"] {
        let r = request(&a, "GET", &format!("/v2/{name}/tags/list"), &[], b"");
        assert_eq!(
            (r.status, r.error_code().as_deref()),
            (400, Some("NAME_INVALID")),
            "{name}"
        );
    }
    let huge = vec![b' '; 10_000_000];
    let r = request(
        &a,
        "PUT",
        "/v2/s/huge/manifests/1",
        &[("Content-Type", OCI_MANIFEST)],
        &huge,
    );
    assert_eq!(
        (r.status, r.error_code().as_deref()),
        (400, Some("MANIFEST_INVALID"))
    );
    // Also when the client does not say how big (chunked).
    let mut s = TcpStream::connect(&a).unwrap();
    let head = format!("PUT /v2/s/huge/manifests/2 HTTP/1.1\r\nHost: {a}\r\nConnection: close\r\nContent-Type: {OCI_MANIFEST}\r\nTransfer-Encoding: chunked\r\n\r\n");
    s.write_all(head.as_bytes()).unwrap();
    for _ in 0..10 {
        let chunk = vec![b' '; 1 << 20];
        let sent = s
            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .and_then(|()| s.write_all(&chunk))
            .and_then(|()| s.write_all(b"\r\n"));
        if sent.is_err() {
            break;
        }
    }
    let _ = s.write_all(b"0\r\n\r\n");
    let r = read_response(&mut s, false);
    assert_eq!(r.error_code().as_deref(), Some("MANIFEST_INVALID"));
    assert_eq!(request(&a, "GET", "/v2/", &[], b"").status, 200);
}

#[test]
fn referrers_are_listed_by_subject_and_filtered_by_artifact_type() {
    let srv = Server::start(&[]);
    let a = srv.addr();
    let (image, r) = push_image(&a, "s/ref", "1", json!({}));
    assert_eq!(r.status, 201);
    assert_eq!(r.header("oci-subject"), None);
    let size = request(&a, "GET", "/v2/s/ref/manifests/1", &[], b"")
        .body
        .len();
    let subject = json!({"mediaType": OCI_MANIFEST, "digest": image, "size": size});
    let (sbom, r) = push_image(
        &a,
        "s/ref",
        &digest(b"placeholder").replace(':', "-"),
        json!({
            "artifactType": "application/spdx+json", "subject": subject, "annotations": {"made-by": "test"},
        }),
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("oci-subject"), Some(image.as_str()));

    let list = request(&a, "GET", &format!("/v2/s/ref/referrers/{image}"), &[], b"");
    assert_eq!(list.status, 200);
    assert_eq!(
        list.header("content-type"),
        Some("application/vnd.oci.image.index.v1+json")
    );
    let v = list.json();
    assert_eq!(v["manifests"].as_array().unwrap().len(), 1);
    assert_eq!(v["manifests"][0]["digest"], sbom.as_str());
    assert_eq!(v["manifests"][0]["artifactType"], "application/spdx+json");
    assert_eq!(v["manifests"][0]["annotations"]["made-by"], "test");

    let filtered = request(
        &a,
        "GET",
        &format!("/v2/s/ref/referrers/{image}?artifactType=application/other"),
        &[],
        b"",
    );
    assert_eq!(filtered.header("oci-filters-applied"), Some("artifactType"));
    assert_eq!(filtered.json()["manifests"], json!([]));
    let kept = request(
        &a,
        "GET",
        &format!("/v2/s/ref/referrers/{image}?artifactType=application%2Fspdx%2Bjson"),
        &[],
        b"",
    );
    assert_eq!(kept.json()["manifests"].as_array().unwrap().len(), 1);

    assert_eq!(
        request(
            &a,
            "DELETE",
            &format!("/v2/s/ref/manifests/{sbom}"),
            &[],
            b""
        )
        .status,
        202
    );
    let after = request(&a, "GET", &format!("/v2/s/ref/referrers/{image}"), &[], b"");
    assert_eq!(after.json()["manifests"], json!([]));
}

#[test]
fn deleting_a_tag_keeps_the_manifest() {
    let srv = Server::start(&[]);
    let a = srv.addr();
    let (d, _) = push_image(&a, "s/tags", "old", json!({}));
    assert_eq!(
        request(&a, "DELETE", "/v2/s/tags/manifests/old", &[], b"").status,
        202
    );
    assert_eq!(
        request(&a, "GET", "/v2/s/tags/manifests/old", &[], b"").status,
        404
    );
    assert_eq!(
        request(&a, "GET", &format!("/v2/s/tags/manifests/{d}"), &[], b"").status,
        200
    );
    assert_eq!(
        request(&a, "GET", "/v2/s/tags/tags/list", &[], b"").json()["tags"],
        json!([])
    );
}

#[test]
fn read_only_serves_pulls_and_refuses_pushes() {
    let dir = tempfile::tempdir().unwrap();
    let storage = dir.path().join("data");
    let d = {
        let rw = Server::start_in(tempfile::tempdir().unwrap(), &storage, &[]);
        push_image(&rw.addr(), "s/ro", "1", json!({})).0
    };
    let ro = Server::start_in(dir, &storage, &["--read-only"]);
    let a = ro.addr();
    assert_eq!(
        request(&a, "GET", &format!("/v2/s/ro/manifests/{d}"), &[], b"").status,
        200
    );
    let r = request(&a, "POST", "/v2/s/ro/blobs/uploads/", &[], b"");
    assert_eq!(
        (r.status, r.error_code().as_deref()),
        (405, Some("UNSUPPORTED"))
    );
    assert_eq!(
        request(&a, "DELETE", &format!("/v2/s/ro/manifests/{d}"), &[], b"").status,
        405
    );
}

#[test]
fn a_stalled_body_is_cut_off_while_others_are_served() {
    let mut srv = Server::start(&["--body-idle-timeout", "1"]);
    let a = srv.addr();
    let loc = request(&a, "POST", "/v2/s/stall/blobs/uploads/", &[], b"")
        .header("location")
        .unwrap()
        .to_string();
    let mut stalled = TcpStream::connect(&a).unwrap();
    let head = format!("PATCH {loc} HTTP/1.1\r\nHost: {a}\r\nContent-Length: 1000\r\n\r\n");
    stalled.write_all(head.as_bytes()).unwrap();
    stalled.write_all(&[7u8; 10]).unwrap();
    // Others are served while it stalls.
    for _ in 0..20 {
        assert_eq!(request(&a, "GET", "/v2/", &[], b"").status, 200);
    }
    post_blob(&a, "s/other", b"served meanwhile");
    // The stalled client gets its answer and the connection is closed.
    stalled
        .set_read_timeout(Some(std::time::Duration::from_secs(120)))
        .unwrap();
    let r = read_response(&mut stalled, false);
    assert_eq!(r.status, 408);
    let status = request(&a, "GET", &loc, &[], b"");
    assert_eq!(status.header("range"), Some("0-9"));
    assert!(srv.alive());
}

#[test]
fn a_thousand_requests_at_once_are_all_answered() {
    let srv = Server::start(&[]);
    let a = srv.addr();
    let d = post_blob(&a, "s/many", b"small blob");
    let path = format!("/v2/s/many/blobs/{d}");
    let threads: Vec<_> = (0..1000)
        .map(|_| {
            let (a, path) = (a.clone(), path.clone());
            std::thread::spawn(move || request(&a, "GET", &path, &[], b"").status)
        })
        .collect();
    let ok = threads
        .into_iter()
        .map(|t| t.join().unwrap())
        .filter(|s| *s == 200)
        .count();
    assert_eq!(ok, 1000);
}

#[test]
fn the_same_blob_pushed_at_once_by_many_clients_is_stored_once_intact() {
    let srv = Server::start(&[]);
    let a = srv.addr();
    let blob: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 253) as u8).collect();
    let d = digest(&blob);
    let blob = std::sync::Arc::new(blob);
    let pushers: Vec<_> = (0..8)
        .map(|i| {
            let (a, blob, d) = (a.clone(), blob.clone(), d.clone());
            std::thread::spawn(move || {
                let repo = format!("s/same{}", i % 2);
                let start = request(&a, "POST", &format!("/v2/{repo}/blobs/uploads/"), &[], b"");
                let loc = start.header("location").unwrap().to_string();
                let half = blob.len() / 2;
                let range = format!("0-{}", half - 1);
                let r = request(
                    &a,
                    "PATCH",
                    &loc,
                    &[("Content-Range", &range), OCTETS],
                    &blob[..half],
                );
                assert_eq!(r.status, 202);
                request(
                    &a,
                    "PUT",
                    &format!("{loc}?digest={d}"),
                    &[OCTETS],
                    &blob[half..],
                )
                .status
            })
        })
        .collect();
    for p in pushers {
        assert_eq!(p.join().unwrap(), 201);
    }
    for repo in ["s/same0", "s/same1"] {
        let got = request(&a, "GET", &format!("/v2/{repo}/blobs/{d}"), &[], b"");
        assert_eq!(digest(&got.body), d);
    }
    let stored = walk(&srv.storage().join("blobs"));
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert!(walk(&srv.storage().join("uploads")).is_empty());
    assert!(walk(&srv.storage().join("tmp")).is_empty());
}

#[test]
fn docker_schema2_manifests_and_lists_keep_their_media_types() {
    let srv = Server::start(&[]);
    let a = srv.addr();
    let config = post_blob(&a, "s/docker", br#"{"os":"linux"}"#);
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": config, "size": 14},
        "layers": [],
    }))
    .unwrap();
    let v2 = "application/vnd.docker.distribution.manifest.v2+json";
    let r = request(
        &a,
        "PUT",
        "/v2/s/docker/manifests/amd64",
        &[("Content-Type", v2)],
        &manifest,
    );
    assert_eq!(r.status, 201);
    let list = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
        "manifests": [{"mediaType": v2, "digest": digest(&manifest), "size": manifest.len(),
                       "platform": {"architecture": "e2k", "os": "linux", "variant": "v5"}}],
    }))
    .unwrap();
    let list_type = "application/vnd.docker.distribution.manifest.list.v2+json";
    let r = request(
        &a,
        "PUT",
        "/v2/s/docker/manifests/1",
        &[("Content-Type", list_type)],
        &list,
    );
    assert_eq!(r.status, 201);
    let head = request(&a, "HEAD", "/v2/s/docker/manifests/1", &[], b"");
    assert_eq!(head.header("content-type"), Some(list_type));
    assert_eq!(
        head.header("content-length"),
        Some(list.len().to_string().as_str())
    );
    let got = request(&a, "GET", "/v2/s/docker/manifests/amd64", &[], b"");
    assert_eq!(got.header("content-type"), Some(v2));
    assert_eq!(got.body, manifest);
    // A list naming a manifest the repository lacks is refused.
    let orphan = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": list_type,
        "manifests": [{"mediaType": v2, "digest": digest(b"none"), "size": 4}],
    }))
    .unwrap();
    let r = request(
        &a,
        "PUT",
        "/v2/s/docker/manifests/2",
        &[("Content-Type", list_type)],
        &orphan,
    );
    assert_eq!(r.error_code().as_deref(), Some("MANIFEST_BLOB_UNKNOWN"));
    let schema1 = br#"{"schemaVersion":1,"name":"s/docker","tag":"old","fsLayers":[]}"#;
    let r = request(&a, "PUT", "/v2/s/docker/manifests/old", &[], schema1);
    assert_eq!(r.error_code().as_deref(), Some("MANIFEST_INVALID"));
}
