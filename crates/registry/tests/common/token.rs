//! A token server for the registry's `auth: token:` mode: JWTs signed
//! (RS256) with the `openssl` CLI by a key whose self-signed certificate is
//! the registry's `rootcertbundle`, sent in `x5c`.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::json;
use tempfile::TempDir;
use yurta_testutil::certs::{openssl, self_signed};

use super::stub::{Stub, StubRequest, StubResponse};

pub const SERVICE: &str = "yurta-test-registry";
pub const ISSUER: &str = "yurta-test-issuer";

pub struct Issuer {
    dir: TempDir,
    x5c: String,
}

impl Issuer {
    pub fn new() -> Issuer {
        let dir = tempfile::tempdir().unwrap();
        self_signed(dir.path(), "tok", "/CN=yurta token issuer");
        let der = openssl(dir.path(), &["x509", "-in", "tok.crt", "-outform", "DER"]);
        Issuer {
            x5c: STANDARD.encode(der),
            dir,
        }
    }

    pub fn cert(&self) -> PathBuf {
        self.dir.path().join("tok.crt")
    }

    /// A token granting every action asked for in `scopes`.
    pub fn sign(&self, subject: &str, scopes: &[String]) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let access: Vec<_> = scopes
            .iter()
            .filter_map(|s| {
                let mut p = s.splitn(3, ':');
                let (kind, name, actions) = (p.next()?, p.next()?, p.next()?);
                Some(json!({"type": kind, "name": name, "actions": actions.split(',').collect::<Vec<_>>()}))
            })
            .collect();
        let header = json!({"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]});
        let claims = json!({
            "iss": ISSUER, "sub": subject, "aud": SERVICE,
            "exp": now + 300, "nbf": now - 10, "iat": now,
            "jti": format!("{now}-{}", scopes.len()), "access": access,
        });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let sig = self.rs256(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    fn rs256(&self, data: &[u8]) -> Vec<u8> {
        let mut child = Command::new("openssl")
            .current_dir(self.dir.path())
            .args(["dgst", "-sha256", "-sign", "tok.key"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(data).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        out.stdout
    }
}

/// Serves `/token`: requires basic auth `user:pass`, grants what is asked.
pub fn token_server(issuer: Arc<Issuer>, user: &str, pass: &str) -> Stub {
    let expected = format!("Basic {}", STANDARD.encode(format!("{user}:{pass}")));
    Stub::start(move |req: &StubRequest, _| {
        if req.header("authorization") != Some(expected.as_str()) {
            return StubResponse::new(401, r#"{"details":"bad credentials"}"#);
        }
        if req.query("service") != vec![SERVICE.to_string()] {
            return StubResponse::new(400, "wrong service");
        }
        let token = issuer.sign(user_of(req), &req.query("scope"));
        let body = json!({"token": token, "expires_in": 300}).to_string();
        StubResponse::new(200, body).header("Content-Type", "application/json")
    })
}

fn user_of(_req: &StubRequest) -> &'static str {
    "tester"
}
