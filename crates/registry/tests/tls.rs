//! TLS through OpenSSL against a registry whose certificate comes from a
//! CA made in the test: unknown CA fails clearly, the CA in a certs dir
//! (yurta's or docker's) works, and so does turning verification off.

mod common;

use std::fs;
use std::path::Path;

use common::image::image;
use yurta_registry::{BlobFetch, BlobPush, Client, ClientConfig, Digest, PushedBlob, Repository};
use yurta_testutil::certs::Certs;
use yurta_testutil::registry::{Auth, Registry};

fn install_ca(certs: &Certs, dir: &Path, registry: &str) {
    let d = dir.join(registry);
    fs::create_dir_all(&d).unwrap();
    fs::copy(certs.path("ca.crt"), d.join("ca.crt")).unwrap();
}

fn round_trip(c: &Client, registry: &str) {
    let repo = Repository::parse(&format!("{registry}/tls/app")).unwrap();
    let img = image("amd64", None, "tls", 2000);
    let d: Digest = img.layer.digest.parse().unwrap();
    let size = img.layer.bytes.len() as u64;
    let pushed = c.push_blob(
        &repo,
        &d,
        size,
        &mut &img.layer.bytes[..],
        BlobPush::default(),
    );
    assert!(matches!(
        pushed.unwrap(),
        PushedBlob::Uploaded | PushedBlob::Exists
    ));
    let mut out = Vec::new();
    c.get_blob(&repo, &d, &mut out, BlobFetch::default())
        .unwrap();
    assert_eq!(out, img.layer.bytes);
}

#[test]
fn tls_registry_with_a_test_ca() {
    let certs = Certs::make();
    let tls = (certs.path("server.crt"), certs.path("server.key"));
    let reg = Registry::start(Auth::None, Some((&tls.0, &tls.1)));
    let addr = reg.addr();
    let yurta_dir = tempfile::tempdir().unwrap();
    let docker_dir = tempfile::tempdir().unwrap();
    let dirs = vec![
        yurta_dir.path().to_path_buf(),
        docker_dir.path().to_path_buf(),
    ];

    // Unknown CA: a TLS error saying where to put the CA; no http fallback
    // (the http attempt meets a TLS server and is not a registry answer).
    let c = Client::new(ClientConfig::default().certs_dirs(dirs.clone()));
    let e = c.ping(&addr).unwrap_err();
    assert!(e.is_tls(), "{e}");
    let msg = e.to_string();
    let hint = format!("{}/ca.crt", yurta_dir.path().join(&addr).display());
    assert!(
        msg.contains("https://127.0.0.1:") && msg.contains(&hint),
        "{msg}"
    );
    assert!(
        msg.contains("certificate verify failed") && msg.contains("--tls-verify=false"),
        "{msg}"
    );

    // The CA in docker's directory (the fallback) is enough.
    install_ca(&certs, docker_dir.path(), &addr);
    let c = Client::new(ClientConfig::default().certs_dirs(dirs.clone()));
    c.ping(&addr).unwrap();
    round_trip(&c, &addr);

    // --tls-verify=false, globally or for this registry only.
    let c = Client::new(ClientConfig::default().certs_dirs(vec![]).tls_verify(false));
    round_trip(&c, &addr);
    let c = Client::new(
        ClientConfig::default()
            .certs_dirs(vec![])
            .registry_tls_verify(&addr, false),
    );
    c.ping(&addr).unwrap();
}

#[test]
fn ca_in_yurta_certs_dir_with_basic_auth() {
    let certs = Certs::make();
    let tls = (certs.path("server.crt"), certs.path("server.key"));
    let auth = Auth::Basic {
        user: "a".into(),
        pass: "b".into(),
    };
    let reg = Registry::start(auth, Some((&tls.0, &tls.1)));
    let addr = reg.addr();
    let dir = tempfile::tempdir().unwrap();
    install_ca(&certs, dir.path(), &addr);
    let c = Client::new(
        ClientConfig::default()
            .certs_dirs(vec![dir.path().to_path_buf()])
            .credentials(&addr, yurta_registry::Credentials::new("a", "b")),
    );
    round_trip(&c, &addr);
}
