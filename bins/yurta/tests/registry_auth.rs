//! login/logout against an htpasswd registry (the credentials file is 0600
//! and docker-config shaped), and pulls from a TLS registry whose CA is
//! trusted through `YURTA_CERTS_DIR`, not trusted, or not checked
//! (`--tls-verify=false`). Needs docker-registry, skopeo, htpasswd, openssl.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::oci::Layout;
use common::registry::{skopeo_copy, Auth, Certs, Registry};
use common::{Out, Yurta};

fn fill(y: &Yurta, reg: &Registry, name: &str, creds: Option<&str>) {
    let layout = Layout::new(&y.path("layout"));
    let desc = layout.image(&y.rootfs(), "amd64", None);
    layout.name(&desc, "1");
    let creds_args: Vec<String> = creds
        .map(|c| format!("--dest-creds={c}"))
        .into_iter()
        .collect();
    let args: Vec<&str> = creds_args.iter().map(String::as_str).collect();
    skopeo_copy(
        &args,
        &layout.source("1"),
        &format!("docker://{}/{name}", reg.addr()),
    );
}

fn failed(out: &Out, needle: &str) {
    assert_eq!(out.code, 125, "{}{}", out.stdout, out.stderr);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(out.stderr.contains(needle), "{needle:?} in {}", out.stderr);
}

#[test]
fn login_pull_push_logout_with_basic_auth() {
    let reg = Registry::start(Auth::basic("alice", "s3cret"), None);
    let y = Yurta::new();
    fill(&y, &reg, "private/img:1", Some("alice:s3cret"));
    let name = format!("{}/private/img:1", reg.addr());
    let auth = y.path("auth.json");

    failed(&y.run(&["pull", &name]), "HTTP 401");
    let bad = y.run_stdin(
        &["login", "-u", "alice", "--password-stdin", &reg.addr()],
        "wrong\n",
    );
    failed(&bad, "incorrect username or password");
    assert!(!auth.exists());

    let out = y.run_stdin(
        &["login", "-u", "alice", "--password-stdin", &reg.addr()],
        "s3cret\n",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "Login Succeeded\n");
    let mode = std::fs::metadata(&auth).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let file: serde_json::Value = serde_json::from_slice(&std::fs::read(&auth).unwrap()).unwrap();
    assert!(file["auths"][reg.addr()]["auth"].is_string(), "{file}");

    y.run(&["pull", "-q", &name]).ok();
    let copy = format!("{}/private/copy:2", reg.addr());
    y.run(&["push", &name, &copy]).ok();

    let out = y.run(&["logout", &reg.addr()]).ok();
    assert_eq!(
        out.stdout,
        format!("Removing login credentials for {}\n", reg.addr())
    );
    let file: serde_json::Value = serde_json::from_slice(&std::fs::read(&auth).unwrap()).unwrap();
    assert!(file["auths"].get(reg.addr()).is_none(), "{file}");
    let again = y.run(&["logout", &reg.addr()]).ok();
    assert!(again.stdout.starts_with("Not logged in to"));
    failed(&y.run(&["push", &name, &copy]), "HTTP 401");
}

#[test]
fn tls_registry_with_and_without_the_ca() {
    let certs = Certs::make();
    let (crt, key) = (certs.path("server.crt"), certs.path("server.key"));
    let reg = Registry::start(Auth::None, Some((&crt, &key)));
    let y = Yurta::new();
    fill(&y, &reg, "secure/img:1", None);
    let name = format!("{}/secure/img:1", reg.addr());

    let out = y.run(&["pull", &name]);
    failed(&out, "certificate verify failed");
    assert!(out.stderr.contains("--tls-verify=false"), "{}", out.stderr);

    y.run(&["pull", "-q", "--tls-verify=false", &name]).ok();

    let trusted = Yurta::new();
    let ca_dir = trusted.path("certs.d").join(reg.addr());
    std::fs::create_dir_all(&ca_dir).unwrap();
    std::fs::copy(certs.path("ca.crt"), ca_dir.join("ca.crt")).unwrap();
    trusted.run(&["pull", "-q", &name]).ok();
    let pushed = format!("{}/secure/back:1", reg.addr());
    let out = trusted.run(&["push", &name, &pushed]).ok();
    assert!(
        out.stdout.contains("Mounted from secure/img"),
        "{}",
        out.stdout
    );
}

#[test]
fn insecure_registries_from_the_environment() {
    let reg = Registry::plain();
    let y = Yurta::new();
    fill(&y, &reg, "plain/img:1", None);
    let name = format!("{}/plain/img:1", reg.addr());
    let out = y
        .cmd(&["pull", "-q", &name])
        .env(
            "YURTA_INSECURE_REGISTRIES",
            format!("other:1, {}", reg.addr()),
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{name}\n"));
}
