//! `yurta registry serve` with logins and TLS: htpasswd users over Basic
//! and over the bearer-token flow (the server's own `/token`), per-
//! repository rules from the config file, and HTTPS through OpenSSL —
//! with skopeo, yurta's own client and raw requests. Needs skopeo,
//! htpasswd (apache2-utils), openssl and a static /bin/busybox.

mod common;
mod regsrv;

use std::process::Command;

use common::oci::Layout;
use common::registry::Certs;
use common::{sh, Yurta};
use regsrv::http::request;
use regsrv::Server;

/// A config file with an htpasswd of alice and bob (password `pw-NAME`),
/// the auth `scheme` and `rules` (TOML), in `dir`.
fn config(dir: &std::path::Path, scheme: &str, rules: &str) -> String {
    let mut users = Vec::new();
    for user in ["alice", "bob"] {
        let line = sh("htpasswd", &["-Bbn", user, &format!("pw-{user}")])
            .ok()
            .stdout;
        users.push(line.trim().to_string());
    }
    let htpasswd = dir.join("htpasswd");
    std::fs::write(&htpasswd, users.join("\n")).unwrap();
    let path = dir.join("registry.toml");
    let text = format!(
        "[auth]\nhtpasswd = {:?}\nscheme = \"{scheme}\"\n{rules}",
        htpasswd
    );
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

fn basic(user: &str) -> String {
    regsrv::basic_auth(user, &format!("pw-{user}"))
}

/// A busybox image in an OCI layout, tag 1.
fn layout(y: &Yurta) -> String {
    let layout = Layout::new(&y.path("layout"));
    let desc = layout.image(&y.rootfs(), "amd64", None);
    layout.name(&desc, "1");
    layout.source("1")
}

fn skopeo(args: &[&str]) -> common::Out {
    let mut all = vec![
        "--insecure-policy",
        "copy",
        "--quiet",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
    ];
    all.extend_from_slice(args);
    sh("skopeo", &all)
}

const RULES: &str = r#"
[[access]]
repositories = ["alice/*"]
users = ["alice"]
actions = ["pull", "push", "delete"]
[[access]]
repositories = ["*"]
users = ["*"]
actions = ["pull"]
[[access]]
repositories = ["public/*"]
users = ["anonymous"]
actions = ["pull"]
"#;

#[test]
fn basic_auth_with_per_repository_rules() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "basic", RULES);
    let srv = Server::start(&["--config", &cfg]);
    let a = srv.addr();
    let anon = request(&a, "GET", "/v2/", &[], b"");
    assert_eq!(
        (anon.status, anon.error_code().as_deref()),
        (401, Some("UNAUTHORIZED"))
    );
    assert!(anon
        .header("www-authenticate")
        .unwrap()
        .starts_with("Basic realm="));
    let wrong = regsrv::basic_auth("alice", "nope");
    assert_eq!(regsrv::basic_auth("bob", "wrong"), "Basic Ym9iOndyb25n");
    assert_eq!(
        request(&a, "GET", "/v2/", &[("Authorization", &wrong)], b"").status,
        401
    );
    assert_eq!(
        request(
            &a,
            "GET",
            "/v2/",
            &[("Authorization", &basic("alice"))],
            b""
        )
        .status,
        200
    );

    let y = Yurta::new();
    let src = layout(&y);
    let dest = format!("docker://{a}/alice/app:1");
    skopeo(&["--dest-creds=alice:pw-alice", &src, &dest]).ok();
    let denied = skopeo(&[
        "--dest-creds=bob:pw-bob",
        &src,
        &format!("docker://{a}/alice/bob:1"),
    ]);
    assert_ne!(denied.code, 0, "bob pushed into alice/");
    let bob_push = request(
        &a,
        "POST",
        "/v2/alice/x/blobs/uploads/",
        &[("Authorization", &basic("bob"))],
        b"",
    );
    assert_eq!(
        (bob_push.status, bob_push.error_code().as_deref()),
        (403, Some("DENIED"))
    );
    let bob_pull = request(
        &a,
        "GET",
        "/v2/alice/app/manifests/1",
        &[("Authorization", &basic("bob"))],
        b"",
    );
    assert_eq!(bob_pull.status, 200);
    assert_eq!(
        request(&a, "GET", "/v2/alice/app/manifests/1", &[], b"").status,
        401
    );
}

#[test]
fn the_bearer_token_flow_as_docker_and_podman_use_it() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "token", RULES);
    let srv = Server::start(&["--config", &cfg]);
    let a = srv.addr();
    let r = request(&a, "GET", "/v2/alice/app/manifests/1", &[], b"");
    assert_eq!(r.status, 401);
    let challenge = r.header("www-authenticate").unwrap();
    assert_eq!(
        challenge,
        format!("Bearer realm=\"http://{a}/token\",service=\"yurta-registry\",scope=\"repository:alice/app:pull\"")
    );

    // skopeo and yurta follow the challenge with their credentials.
    let y = Yurta::new();
    let src = layout(&y);
    skopeo(&[
        "--dest-creds=alice:pw-alice",
        &src,
        &format!("docker://{a}/alice/app:1"),
    ])
    .ok();
    let name = format!("{a}/alice/app:1");
    y.run_stdin(&["login", "-u", "bob", "--password-stdin", &a], "pw-bob\n")
        .ok();
    y.run(&["pull", "-q", &name]).ok();
    let out = y.run(&["push", &name, &format!("{a}/alice/stolen:1")]);
    assert_eq!(out.code, 125, "bob pushed into alice/: {}", out.stdout);

    // A token carries only what the rules grant.
    let bad = request(
        &a,
        "GET",
        "/token?service=yurta-registry&scope=repository:alice/app:pull",
        &[("Authorization", "Basic Ym9iOndyb25n")],
        b"",
    );
    assert_eq!(bad.status, 401);
    let t = request(
        &a,
        "GET",
        "/token?service=yurta-registry&scope=repository:alice/app:pull,push",
        &[("Authorization", &basic("bob"))],
        b"",
    );
    assert_eq!(t.status, 200);
    let bearer = format!("Bearer {}", t.json()["token"].as_str().unwrap());
    assert_eq!(
        request(
            &a,
            "GET",
            "/v2/alice/app/manifests/1",
            &[("Authorization", &bearer)],
            b""
        )
        .status,
        200
    );
    let push = request(
        &a,
        "POST",
        "/v2/alice/app/blobs/uploads/",
        &[("Authorization", &bearer)],
        b"",
    );
    assert_eq!(push.status, 401);
    assert!(push
        .header("www-authenticate")
        .unwrap()
        .ends_with("scope=\"repository:alice/app:pull,push\""));

    // The catalog takes its own scope, given to users who logged in.
    let t = request(
        &a,
        "GET",
        "/token?scope=registry:catalog:*",
        &[("Authorization", &basic("alice"))],
        b"",
    );
    let bearer = format!("Bearer {}", t.json()["token"].as_str().unwrap());
    let catalog = request(
        &a,
        "GET",
        "/v2/_catalog",
        &[("Authorization", &bearer)],
        b"",
    );
    assert_eq!(
        catalog.json()["repositories"],
        serde_json::json!(["alice/app"])
    );
    let anon = request(&a, "GET", "/token?scope=registry:catalog:*", &[], b"");
    let bearer = format!("Bearer {}", anon.json()["token"].as_str().unwrap());
    let r = request(
        &a,
        "GET",
        "/v2/_catalog",
        &[("Authorization", &bearer)],
        b"",
    );
    assert_eq!(r.status, 401);
    assert!(r
        .header("www-authenticate")
        .unwrap()
        .contains("scope=\"registry:catalog:*\""));

    // Anonymous clients get tokens for what anonymous may do.
    skopeo(&[
        "--dest-creds=alice:pw-alice",
        &src,
        &format!("docker://{a}/alice/public-not:1"),
    ])
    .ok();
    let anon = request(&a, "GET", "/token?scope=repository:public/x:pull", &[], b"");
    let bearer = format!("Bearer {}", anon.json()["token"].as_str().unwrap());
    let r = request(
        &a,
        "GET",
        "/v2/public/x/tags/list",
        &[("Authorization", &bearer)],
        b"",
    );
    assert_eq!(
        (r.status, r.error_code().as_deref()),
        (404, Some("NAME_UNKNOWN"))
    );
    let r = request(
        &a,
        "GET",
        "/v2/alice/app/tags/list",
        &[("Authorization", &bearer)],
        b"",
    );
    assert_eq!(r.status, 401);
}

#[test]
fn podman_logs_in_pushes_and_pulls_with_tokens() {
    if common::podman::skipped() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "token", RULES);
    let srv = Server::start(&["--config", &cfg]);
    let a = srv.addr();
    let y = Yurta::new();
    let tarball = y.path("rootfs.tar");
    common::tar_of(&y.rootfs(), &tarball);
    let local = format!("localhost/yurta-regsrv-{}:1", std::process::id());
    let _cleanup = common::podman::PodmanImage(local.clone());
    sh(
        "podman",
        &["import", "-q", tarball.to_str().unwrap(), &local],
    )
    .ok();
    let authfile = y.path("podman-auth.json");
    let authfile = authfile.to_str().unwrap();
    let tls = "--tls-verify=false";
    let denied = sh(
        "podman",
        &[
            "login",
            tls,
            "--authfile",
            authfile,
            "-u",
            "alice",
            "-p",
            "wrong",
            &a,
        ],
    );
    assert_ne!(denied.code, 0);
    sh(
        "podman",
        &[
            "login",
            tls,
            "--authfile",
            authfile,
            "-u",
            "alice",
            "-p",
            "pw-alice",
            &a,
        ],
    )
    .ok();
    let remote = format!("{a}/alice/podman:1");
    sh(
        "podman",
        &[
            "push",
            "-q",
            tls,
            "--authfile",
            authfile,
            &local,
            &format!("docker://{remote}"),
        ],
    )
    .ok();
    let pulled = remote.clone();
    let _pulled = common::podman::PodmanImage(pulled.clone());
    sh("podman", &["rmi", "-f", &local]).ok();
    sh(
        "podman",
        &["pull", "-q", tls, "--authfile", authfile, &pulled],
    )
    .ok();
    y.run_stdin(
        &["login", "-u", "alice", "--password-stdin", &a],
        "pw-alice\n",
    )
    .ok();
    y.run(&["pull", "-q", &remote]).ok();
}

#[test]
fn https_with_openssl() {
    let certs = Certs::make();
    let (crt, key) = (certs.path("server.crt"), certs.path("server.key"));
    let srv = Server::start(&[
        "--tls-cert",
        crt.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    let a = srv.addr();
    let out = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert"])
        .arg(certs.path("ca.crt"))
        .arg(format!("https://{a}/v2/"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "200",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let y = Yurta::new();
    let cert_dir = y.path("skopeo-certs");
    std::fs::create_dir_all(&cert_dir).unwrap();
    std::fs::copy(certs.path("ca.crt"), cert_dir.join("ca.crt")).unwrap();
    let src = layout(&y);
    sh(
        "skopeo",
        &[
            "--insecure-policy",
            "copy",
            "--quiet",
            "--dest-cert-dir",
            cert_dir.to_str().unwrap(),
            &src,
            &format!("docker://{a}/secure/img:1"),
        ],
    )
    .ok();

    let name = format!("{a}/secure/img:1");
    let failed = y.run(&["pull", &name]);
    assert!(
        failed.stderr.contains("certificate verify failed"),
        "{}",
        failed.stderr
    );
    let ca_dir = y.path("certs.d").join(&a);
    std::fs::create_dir_all(&ca_dir).unwrap();
    std::fs::copy(certs.path("ca.crt"), ca_dir.join("ca.crt")).unwrap();
    y.run(&["pull", "-q", &name]).ok();
}
