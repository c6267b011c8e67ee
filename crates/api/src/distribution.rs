//! Registries through the service: `POST /images/create` (pull),
//! `POST /images/{name}/push` and `POST /auth`, over the engine's
//! `distribution` (the same pull and push as the CLI's). Progress is
//! Docker's JSON message stream; credentials come with each request
//! (`X-Registry-Auth`, as the docker CLI and docker-py send them) or from
//! the service user's credentials file. An error before the first message
//! is the answer's status (so `docker run` of an unknown image sees 404);
//! one after it is an `error` message in the stream, as Docker's.

use base64::Engine as _;
use bytes::Bytes;
use hyper::{Response, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use yurta_engine::distribution::{
    self, progress_bar, ClientOptions, DistributionError, Progress, PullRequest, PushRequest,
};
use yurta_images::Platform;
use yurta_registry::{Credentials, Reference};

use crate::body::Channel;
use crate::error::ApiError;
use crate::request::{blocking, ok, Call, Reply};

/// `POST /images/create?fromImage=NAME&tag=TAG&platform=P`.
pub(crate) async fn pull(c: Call) -> Reply {
    if let Some(src) = c.q("fromSrc") {
        return match src {
            "-" => import(c, None).await,
            url if yurta_engine::fetch::is_url(url) => {
                let url = url.to_string();
                import(c, Some(url)).await
            }
            other => Err(ApiError::bad_request(format!(
                "fromSrc {other:?}: give - (a tar in the request body) or an http(s) URL"
            ))),
        };
    }
    let from = c
        .q("fromImage")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad_request("fromImage is required"))?;
    let image = with_tag(from, c.q("tag").unwrap_or(""));
    let platform = match c.q("platform").filter(|p| !p.is_empty()) {
        Some(p) => Some(
            p.parse::<Platform>()
                .map_err(|e| ApiError::bad_request(e.to_string()))?,
        ),
        None => None,
    };
    let opts = client_options(&c, &registry_of(&image)?)?;
    let root = c.state.root.clone();
    stream(move |progress| {
        let client = distribution::client(&opts);
        let req = PullRequest {
            root: &root,
            image: &image,
            platform: platform.as_ref(),
            client: &client,
        };
        distribution::pull(&req, progress).map(|_| None)
    })
    .await
}

/// `POST /images/create?fromSrc=-&repo=NAME&tag=TAG&changes=…&message=…`
/// (`docker import`): the body, or the download of `url` when fromSrc is
/// one, is a root filesystem tar (plain, gzip or zstd) that becomes a
/// one-layer image, as `yurta import` makes it; answers Docker's
/// `{"status": "sha256:…"}`.
async fn import(mut c: Call, url: Option<String>) -> Reply {
    let tag = c.q("tag").unwrap_or("");
    let reference = c
        .q("repo")
        .filter(|r| !r.is_empty())
        .map(|r| with_tag(r, tag));
    let platform = match c.q("platform").filter(|p| !p.is_empty()) {
        Some(p) => Some(
            p.parse::<Platform>()
                .map_err(|e| ApiError::bad_request(e.to_string()))?,
        ),
        None => None,
    };
    let opts = yurta_images::ImportOptions {
        platform,
        changes: c
            .q_all("changes")
            .into_iter()
            .filter(|x| !x.is_empty())
            .collect(),
        message: c.q("message").filter(|m| !m.is_empty()).map(str::to_string),
        reference: reference.clone(),
    };
    let root = c.state.root.clone();
    if let Some(url) = url {
        let image = blocking(move || {
            let body = yurta_engine::fetch::get(&url)?;
            let source = yurta_images::ImportSource::Tar {
                name: url.clone(),
                reader: body,
            };
            let image = yurta_images::import(
                &yurta_images::Store::open_root(&root)?,
                source,
                &opts,
                &yurta_images::Silent,
            )?;
            crate::journal::image(&root, "import", &image.id.to_string(), &url);
            Ok(image)
        })
        .await?;
        return ok(&json!({ "status": image.id.to_string() }));
    }
    let body = c
        .body
        .take()
        .ok_or_else(|| ApiError::bad_request("no root filesystem tar in the request body"))?;
    let (tx, rx) = mpsc::channel::<std::io::Result<Bytes>>(8);
    let work = blocking(move || {
        let store = yurta_images::Store::open_root(&root)?;
        let reader = crate::body::ChannelReader {
            rx,
            buf: Bytes::new(),
        };
        let source = yurta_images::ImportSource::Tar {
            name: "-".into(),
            reader: Box::new(reader),
        };
        let image = yurta_images::import(&store, source, &opts, &yurta_images::Silent)?;
        let name = reference.unwrap_or_default();
        crate::journal::image(&root, "import", &image.id.to_string(), &name);
        Ok(image)
    });
    let pump = crate::body::pump(body, tx);
    let (image, ()) = tokio::join!(work, pump);
    ok(&json!({ "status": image?.id.to_string() }))
}

/// `POST /images/{name}/push?tag=TAG`: pushes `name[:tag]` to the
/// registry its name says; Docker's `aux` message carries the digest.
pub(crate) async fn push(c: Call) -> Reply {
    let name = c.param(0).to_string();
    let image = with_tag(&name, c.q("tag").unwrap_or(""));
    let opts = client_options(&c, &registry_of(&image)?)?;
    let root = c.state.root.clone();
    stream(move |progress| {
        let client = distribution::client(&opts);
        let req = PushRequest {
            root: &root,
            image: &image,
            destination: None,
            client: &client,
        };
        let pushed = distribution::push(&req, progress)?;
        Ok(Some(json!({
            "progressDetail": {},
            "aux": { "Tag": pushed.tag, "Digest": pushed.digest, "Size": pushed.size },
        })))
    })
    .await
}

/// `GET /distribution/{name}/json`: the registry's descriptor of `name`
/// and the platforms it serves, without pulling (docker-py's
/// `images.get_registry_data`); credentials as for a pull.
pub(crate) async fn inspect(c: Call) -> Reply {
    let image = c.param(0).to_string();
    let opts = client_options(&c, &registry_of(&image)?)?;
    let found = blocking(move || {
        let client = distribution::client(&opts);
        Ok(distribution::remote::inspect(&client, &image)?)
    })
    .await?;
    ok(&found)
}

/// `POST /auth`: checks credentials against a registry, as `docker login`
/// through a daemon does; nothing is stored (the client keeps them).
pub(crate) async fn auth(mut c: Call) -> Reply {
    let config: AuthConfig = c.json().await?;
    let registry = distribution::settings::registry_name(config.serveraddress.as_deref())
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let creds = config
        .credentials()
        .ok_or_else(|| ApiError::bad_request("a username and a password are needed"))?;
    blocking(move || {
        let client = distribution::client(&ClientOptions::default());
        client
            .check_login(&registry, &creds)
            .map_err(|e| ApiError::new(StatusCode::UNAUTHORIZED, e.to_string()))
    })
    .await?;
    ok(&json!({ "Status": "Login Succeeded", "IdentityToken": "" }))
}

/// The registry part of an image reference (`docker.io` by default).
fn registry_of(image: &str) -> Result<String, ApiError> {
    Ok(Reference::parse(image)
        .map_err(|e| ApiError::bad_request(format!("invalid reference format: {e}")))?
        .repo
        .registry)
}

/// `name` with Docker's `tag` parameter: a tag, or a digest; none keeps
/// what the name has (`latest` when it has nothing).
fn with_tag(name: &str, tag: &str) -> String {
    match tag {
        "" => name.to_string(),
        t if t.contains(':') => format!("{name}@{t}"),
        t => format!("{name}:{t}"),
    }
}

/// Docker's auth config, in `X-Registry-Auth` (base64url JSON) and the
/// body of `/auth`.
#[derive(Debug, Default, Deserialize)]
struct AuthConfig {
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    /// base64 `user:password`, as in a docker config file.
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    serveraddress: Option<String>,
}

impl AuthConfig {
    fn credentials(&self) -> Option<Credentials> {
        let user = self.username.as_deref().unwrap_or("");
        let pass = self.password.as_deref().unwrap_or("");
        if !user.is_empty() && !pass.is_empty() {
            return Some(Credentials::new(user, pass));
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(self.auth.as_deref()?.trim())
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (u, p) = text.split_once(':')?;
        (!u.is_empty() && !p.is_empty()).then(|| Credentials::new(u, p))
    }
}

/// The `X-Registry-Auth` header's credentials (any of base64's
/// alphabets, padded or not), for `registry`; none when absent or empty.
fn client_options(c: &Call, registry: &str) -> Result<ClientOptions, ApiError> {
    let header = c
        .parts
        .headers
        .get("x-registry-auth")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or("");
    let mut opts = ClientOptions::default();
    if header.is_empty() {
        return Ok(opts);
    }
    let bad = || ApiError::bad_request("X-Registry-Auth: not base64-encoded JSON");
    let unpadded = header.trim_end_matches('=');
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(unpadded)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(unpadded))
        .map_err(|_| bad())?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(opts);
    }
    let config: AuthConfig = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    opts.credentials = config.credentials().map(|c| (registry.to_string(), c));
    Ok(opts)
}

/// One message of the stream, or the work's failure.
enum Message {
    Line(Bytes),
    Failed(DistributionError),
}

/// Runs `work` on the blocking pool with a [`JsonProgress`]; answers with
/// its stream once the first message comes, or with its error's status
/// when it fails before saying anything. `work` may return one last
/// message (push's `aux`).
async fn stream<F>(work: F) -> Reply
where
    F: FnOnce(&dyn Progress) -> Result<Option<Value>, DistributionError> + Send + 'static,
{
    let (tx, mut rx) = mpsc::channel::<Message>(64);
    tokio::task::spawn_blocking(move || {
        let progress = JsonProgress { tx: tx.clone() };
        let last = match work(&progress) {
            Ok(Some(v)) => Message::Line(line(&v)),
            Ok(None) => return,
            Err(e) => Message::Failed(e),
        };
        let _ = tx.blocking_send(last);
    });
    let first = match rx.recv().await {
        Some(Message::Line(l)) => l,
        Some(Message::Failed(e)) => return Err(ApiError::of(&e)),
        None => Bytes::new(),
    };
    let (out, body) = Channel::open(64);
    tokio::spawn(async move {
        if !first.is_empty() && out.send(Ok(first)).await.is_err() {
            return;
        }
        while let Some(m) = rx.recv().await {
            let bytes = match m {
                Message::Line(l) => l,
                Message::Failed(e) => {
                    let text = e.to_string();
                    line(&json!({ "errorDetail": { "message": text }, "error": text }))
                }
            };
            if out.send(Ok(bytes)).await.is_err() {
                return; // the client went away; the work ends at its next message
            }
        }
    });
    let mut r = Response::new(body);
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    Ok(r)
}

fn line(v: &Value) -> Bytes {
    Bytes::from(v.to_string() + "\r\n")
}

/// Progress as Docker's JSON messages.
struct JsonProgress {
    tx: mpsc::Sender<Message>,
}

impl JsonProgress {
    fn send(&self, v: Value) {
        let _ = self.tx.blocking_send(Message::Line(line(&v)));
    }
}

impl Progress for JsonProgress {
    fn status(&self, id: Option<&str>, text: &str) {
        match id {
            Some(id) => self.send(json!({ "status": text, "id": id })),
            None => self.send(json!({ "status": text })),
        }
    }

    fn blob(&self, id: &str, text: &str) {
        self.send(json!({ "status": text, "progressDetail": {}, "id": id }));
    }

    fn bytes(&self, id: &str, verb: &str, done: u64, total: u64) {
        self.send(json!({
            "status": verb,
            "progressDetail": { "current": done, "total": total },
            "progress": progress_bar(done, total, human_size),
            "id": id,
        }));
    }
}

/// go-units' `HumanSize` as Docker's progress bar shows it (`12.35MB`).
fn human_size(bytes: u64) -> String {
    yurta_template::docker::human_size(bytes as f64, 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_digests_join_the_name() {
        assert_eq!(with_tag("busybox", ""), "busybox");
        assert_eq!(with_tag("busybox", "1.36"), "busybox:1.36");
        assert_eq!(with_tag("r:5000/a", "sha256:ab"), "r:5000/a@sha256:ab");
    }

    #[test]
    fn auth_configs_give_credentials() {
        let c = AuthConfig {
            username: Some("u".into()),
            password: Some("p".into()),
            ..AuthConfig::default()
        };
        assert_eq!(c.credentials().unwrap().username, "u");
        let c = AuthConfig {
            auth: Some("dTpw".into()), // u:p
            ..AuthConfig::default()
        };
        assert_eq!(c.credentials().unwrap().password, "p");
        assert!(AuthConfig::default().credentials().is_none());
    }

    #[test]
    fn sizes_as_docker_prints_them() {
        assert_eq!(human_size(0), "0B");
        assert_eq!(human_size(999), "999B");
        assert_eq!(human_size(12_345), "12.35kB");
        assert_eq!(human_size(1_500_000), "1.5MB");
    }
}
