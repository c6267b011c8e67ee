//! `login` and `logout`: check credentials against a registry the way
//! `docker login` does, and keep them in a docker-config-compatible file.

use std::path::Path;

use ureq::http::Method;

use crate::auth::{basic_header, parse_challenge, AuthCache, Challenge};
use crate::authfile::AuthFile;
use crate::client::{header, map_transport, Client};
use crate::config::Credentials;
use crate::error::{Error, Result};

impl Client {
    /// Checks that `creds` let us into `registry`: `GET /v2/` with basic
    /// auth, or a token request to the bearer realm with them.
    pub fn check_login(&self, registry: &str, creds: &Credentials) -> Result<()> {
        let ep = self.endpoint(registry)?;
        let url = ep.url("/v2/");
        let get = |auth: Option<String>| {
            let mut req = ep.agent.get(&url);
            if let Some(a) = auth {
                req = req.header("Authorization", a);
            }
            req.call()
                .map_err(|e| map_transport(&ep, &Method::GET, &url, e))
        };
        let resp = get(None)?;
        let fail = |reason: String| Error::Login {
            registry: registry.to_string(),
            reason,
        };
        match resp.status().as_u16() {
            200 => return Ok(()),
            401 => {}
            s => return Err(fail(format!("GET {url}: HTTP {s}"))),
        }
        let challenge = header(&resp, "www-authenticate")
            .and_then(|h| parse_challenge(&h))
            .ok_or_else(|| fail(format!("GET {url}: 401 without a usable WWW-Authenticate")))?;
        match challenge {
            Challenge::Basic => match get(Some(basic_header(creds)))?.status().as_u16() {
                200 => Ok(()),
                401 | 403 => Err(fail("incorrect username or password".into())),
                s => Err(fail(format!("GET {url}: HTTP {s}"))),
            },
            bearer => {
                AuthCache::check_token_login(&ep, &bearer, creds).map_err(|e| fail(e.to_string()))
            }
        }
    }
}

/// Verifies the credentials, then stores them for `registry` in the file
/// at `auth_file` (created 0600, written atomically).
pub fn login(client: &Client, registry: &str, creds: &Credentials, auth_file: &Path) -> Result<()> {
    client.check_login(registry, creds)?;
    AuthFile::new(auth_file).store(registry, creds)
}

/// Removes the stored credentials of `registry`; false if there were none.
pub fn logout(auth_file: &Path, registry: &str) -> Result<bool> {
    AuthFile::new(auth_file).remove(registry)
}
