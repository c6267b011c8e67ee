//! Authentication against real registries: htpasswd basic auth, and token
//! auth with a test token server; login/logout and the credentials file.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::sync::Arc;

use common::image::{image, Image, OCI_MANIFEST};
use common::token::{token_server, Issuer, ISSUER, SERVICE};
use yurta_registry::{
    login, logout, AuthFile, BlobFetch, BlobPush, Client, ClientConfig, Credentials, Digest, Error,
    PushedBlob, Reference, Repository,
};
use yurta_testutil::process::run;
use yurta_testutil::registry::{Auth, Registry};

fn config() -> ClientConfig {
    ClientConfig::default().certs_dirs(vec![])
}

fn push_image(c: &Client, repo: &Repository, img: &Image, tag: &str) {
    for b in [&img.layer, &img.config] {
        let d: Digest = b.digest.parse().unwrap();
        let size = b.bytes.len() as u64;
        c.push_blob(repo, &d, size, &mut &b.bytes[..], BlobPush::default())
            .unwrap();
    }
    c.put_manifest(repo, tag, OCI_MANIFEST, &img.manifest.bytes)
        .unwrap();
}

fn pull_layer(c: &Client, repo: &Repository, img: &Image) -> Vec<u8> {
    let mut out = Vec::new();
    let d: Digest = img.layer.digest.parse().unwrap();
    c.get_blob(repo, &d, &mut out, BlobFetch::default())
        .unwrap();
    out
}

#[test]
fn basic_auth_login_push_pull_logout() {
    let reg = Registry::start(
        Auth::Basic {
            user: "user".into(),
            pass: "pass".into(),
        },
        None,
    );
    let addr = reg.addr();
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("containers/auth.json");

    let anon = Client::new(config());
    let e = anon.ping(&addr).unwrap_err();
    assert!(
        e.is_unauthorized() && e.to_string().contains("log in"),
        "{e}"
    );

    let wrong = Credentials::new("user", "nope");
    let e = login(&anon, &addr, &wrong, &file).unwrap_err();
    assert!(matches!(e, Error::Login { .. }), "{e}");
    assert!(
        e.to_string().contains("incorrect username or password"),
        "{e}"
    );
    assert!(!file.exists(), "failed login wrote the file");

    login(&anon, &addr, &Credentials::new("user", "pass"), &file).unwrap();
    let mode = fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    let c = Client::new(config().auth_file(&file));
    let repo = Repository::parse(&format!("{addr}/private/app")).unwrap();
    let img = image("amd64", None, "secret", 1000);
    push_image(&c, &repo, &img, "1");
    assert_eq!(pull_layer(&c, &repo, &img), img.layer.bytes);

    // skopeo reads our file: it is docker-config compatible.
    let raw = run(Command::new("skopeo").args([
        "inspect",
        "--raw",
        "--tls-verify=false",
        "--authfile",
        file.to_str().unwrap(),
        &format!("docker://{addr}/private/app:1"),
    ]));
    assert_eq!(raw, img.manifest.bytes);

    assert!(logout(&file, &addr).unwrap());
    assert!(!logout(&file, &addr).unwrap());
    assert_eq!(AuthFile::new(&file).get(&addr).unwrap(), None);
    let after = Client::new(config().auth_file(&file));
    let r = Reference::parse(&format!("{addr}/private/app:1")).unwrap();
    assert!(after.get_manifest(&r).unwrap_err().is_unauthorized());
}

#[test]
fn direct_credentials_win_over_the_file() {
    let reg = Registry::start(
        Auth::Basic {
            user: "u".into(),
            pass: "p".into(),
        },
        None,
    );
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("auth.json");
    AuthFile::new(&file)
        .store(&reg.addr(), &Credentials::new("u", "stale"))
        .unwrap();
    let c = Client::new(config().auth_file(&file));
    assert!(c.ping(&reg.addr()).unwrap_err().is_unauthorized());
    let c = Client::new(
        config()
            .auth_file(&file)
            .credentials(&reg.addr(), Credentials::new("u", "p")),
    );
    c.ping(&reg.addr()).unwrap();
}

fn token_registry() -> (Registry, common::stub::Stub) {
    let issuer = Arc::new(Issuer::new());
    let tokens = token_server(issuer.clone(), "tok", "secret");
    let reg = Registry::start(
        Auth::Token {
            realm: tokens.url("/token"),
            service: SERVICE.into(),
            issuer: ISSUER.into(),
            cert: issuer.cert(),
        },
        None,
    );
    (reg, tokens)
}

#[test]
fn bearer_tokens_from_a_token_server() {
    let (reg, tokens) = token_registry();
    let addr = reg.addr();
    let repo = Repository::parse(&format!("{addr}/team/a")).unwrap();
    let img = image("e2k", Some("v6"), "bearer", 5000);

    let anon = Client::new(config());
    let r = Reference::parse(&format!("{addr}/team/a:1")).unwrap();
    let e = anon.get_manifest(&r).unwrap_err();
    assert!(matches!(e, Error::Token { .. }), "{e}");
    assert!(
        e.to_string().contains("/token") && e.to_string().contains("401"),
        "{e}"
    );

    let c = Client::new(config().credentials(&addr, Credentials::new("tok", "secret")));
    push_image(&c, &repo, &img, "1");
    let before = tokens.requests().len();
    for _ in 0..3 {
        assert_eq!(c.get_manifest(&r).unwrap().bytes, img.manifest.bytes);
    }
    assert_eq!(pull_layer(&c, &repo, &img), img.layer.bytes);
    assert_eq!(c.list_tags(&repo).unwrap(), vec!["1"]);
    // One token for the pull scope, reused by every pull request.
    assert_eq!(
        tokens.requests().len() - before,
        1,
        "{:?}",
        tokens.requests()
    );

    // A mount asks for push on the target and pull on the source.
    let b = Repository::parse(&format!("{addr}/team/b")).unwrap();
    let d: Digest = img.layer.digest.parse().unwrap();
    let opts = BlobPush {
        mount_from: Some("team/a"),
        ..Default::default()
    };
    let got = c.push_blob(&b, &d, 0, &mut std::io::empty(), opts).unwrap();
    assert_eq!(got, PushedBlob::Mounted);
    let last = tokens.requests().pop().unwrap();
    let scopes = last.query("scope");
    assert!(
        scopes.contains(&"repository:team/b:pull,push".to_string()),
        "{scopes:?}"
    );
    assert!(
        scopes.contains(&"repository:team/a:pull".to_string()),
        "{scopes:?}"
    );
}

#[test]
fn login_with_bearer_checks_the_token_server() {
    let (reg, _tokens) = token_registry();
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("auth.json");
    let c = Client::new(config());
    let e = login(&c, &reg.addr(), &Credentials::new("tok", "bad"), &file).unwrap_err();
    assert!(
        matches!(e, Error::Login { .. }) && e.to_string().contains("401"),
        "{e}"
    );
    login(&c, &reg.addr(), &Credentials::new("tok", "secret"), &file).unwrap();
    let stored = AuthFile::new(&file).get(&reg.addr()).unwrap().unwrap();
    assert_eq!(stored.username, "tok");
    let c = Client::new(config().auth_file(&file));
    c.ping(&reg.addr()).unwrap();
}
