//! `/networks/...`: list (both filter encodings), inspect, create,
//! remove, prune, over yurta-network. Connecting containers comes with
//! the container routes.

use std::collections::BTreeMap;

use hyper::{Response, StatusCode};
use serde::Deserialize;
use serde_json::json;
use yurta_engine::lifecycle::connect::{self, ConnectRequest};
use yurta_network::filter::{passes, NetworkFilter};
use yurta_network::{Config, CreateOptions, Networks};

use crate::body::empty;
use crate::containers::{lifecycle_error, lookup, open};
use crate::error::ApiError;
use crate::journal;
use crate::request::{blocking, json, ok, status, Call, Reply};

fn networks(root: &std::path::Path) -> Result<Networks, ApiError> {
    Ok(Networks::open(Config::from_env(root))?)
}

pub(crate) async fn list(c: Call) -> Reply {
    let filters = c
        .filters()?
        .pairs()
        .iter()
        .map(|(k, v)| NetworkFilter::from_pair(k, v))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ApiError::of(&e))?;
    let root = c.state.root.clone();
    let list = blocking(move || {
        let nets = networks(&root)?;
        nets.ensure_default()?;
        Ok(nets
            .list()?
            .iter()
            .filter(|n| passes(n, &filters))
            .map(|n| n.inspect_json())
            .collect::<Vec<_>>())
    })
    .await?;
    ok(&list)
}

pub(crate) async fn inspect(c: Call) -> Reply {
    let (root, id) = (c.state.root.clone(), c.param(0).to_string());
    let v = blocking(move || {
        let nets = networks(&root)?;
        nets.ensure_default()?;
        Ok(nets.inspect(&id)?.inspect_json())
    })
    .await?;
    ok(&v)
}

/// Docker's `NetworkCreateRequest` (the fields yurta uses; others are
/// accepted and ignored, as Docker ignores unknown ones).
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct CreateBody {
    name: String,
    driver: String,
    internal: bool,
    #[serde(rename = "EnableIPv6")]
    enable_ipv6: bool,
    #[serde(rename = "IPAM")]
    ipam: Option<Ipam>,
    options: Option<BTreeMap<String, String>>,
    labels: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct Ipam {
    config: Option<Vec<IpamConfig>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct IpamConfig {
    subnet: String,
    gateway: String,
}

pub(crate) async fn create(mut c: Call) -> Reply {
    let b: CreateBody = c.json().await?;
    if b.name.is_empty() {
        return Err(ApiError::bad_request(
            "network create: a name (Name) is required",
        ));
    }
    if b.enable_ipv6 {
        return Err(ApiError::bad_request(format!(
            "network create {}: IPv6 is not supported",
            b.name
        )));
    }
    let pools = b.ipam.and_then(|i| i.config).unwrap_or_default();
    if pools.len() > 1 {
        return Err(ApiError::bad_request(format!(
            "network create {}: one IPAM config at most",
            b.name
        )));
    }
    let pool = pools.into_iter().next().unwrap_or_default();
    let opts = CreateOptions {
        driver: (!b.driver.is_empty()).then_some(b.driver),
        subnet: (!pool.subnet.is_empty()).then_some(pool.subnet),
        gateway: (!pool.gateway.is_empty()).then_some(pool.gateway),
        internal: b.internal,
        labels: b.labels.unwrap_or_default(),
        options: b.options.unwrap_or_default(),
    };
    let (root, name) = (c.state.root.clone(), b.name);
    let n = blocking(move || {
        let n = networks(&root)?.create(&name, &opts)?;
        journal::network(&root, "create", &n.id, &n.name);
        Ok(n)
    })
    .await?;
    Ok(json(
        StatusCode::CREATED,
        &json!({"Id": n.id, "Warning": ""}),
    ))
}

pub(crate) async fn remove(c: Call) -> Reply {
    let (root, id) = (c.state.root.clone(), c.param(0).to_string());
    blocking(move || {
        let nets = networks(&root)?;
        let n = nets.inspect(&id)?;
        nets.remove(&id)?;
        journal::network(&root, "destroy", &n.id, &n.name);
        Ok(())
    })
    .await?;
    status(StatusCode::NO_CONTENT)
}

pub(crate) async fn prune(c: Call) -> Reply {
    let f = c.filters()?;
    f.only(&[])?;
    let root = c.state.root.clone();
    let names = blocking(move || {
        let names = networks(&root)?.prune()?;
        for n in &names {
            journal::emit(&root, "network", "destroy", n, &[("name", n)]);
        }
        Ok(names)
    })
    .await?;
    ok(&json!({"NetworksDeleted": names}))
}

/// Docker's `NetworkConnectRequest` / `NetworkDisconnectRequest`.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct ConnectBody {
    container: String,
    endpoint_config: Option<EndpointConfig>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct EndpointConfig {
    aliases: Option<Vec<String>>,
    #[serde(rename = "IPAMConfig")]
    ipam_config: Option<EndpointIpam>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct EndpointIpam {
    #[serde(rename = "IPv4Address")]
    ipv4_address: String,
}

pub(crate) async fn connect(mut c: Call) -> Reply {
    let b: ConnectBody = c.json().await?;
    let ep = b.endpoint_config.unwrap_or_default();
    let ip = match ep
        .ipam_config
        .map(|i| i.ipv4_address)
        .filter(|a| !a.is_empty())
    {
        None => None,
        Some(a) => Some(
            a.parse()
                .map_err(|_| ApiError::bad_request(format!("invalid IPv4Address {a:?}")))?,
        ),
    };
    let req = ConnectRequest {
        network: c.param(0).to_string(),
        aliases: ep.aliases.unwrap_or_default(),
        ip,
    };
    let state = c.state.clone();
    blocking(move || {
        let engine = open(&state)?;
        let rec = lookup(&state, &engine, &b.container)?;
        connect::connect(&state.engine, &engine, &rec, &req).map_err(lifecycle_error)
    })
    .await?;
    Ok(Response::new(empty()))
}

pub(crate) async fn disconnect(mut c: Call) -> Reply {
    let b: ConnectBody = c.json().await?;
    let (state, network) = (c.state.clone(), c.param(0).to_string());
    blocking(move || {
        let engine = open(&state)?;
        let rec = lookup(&state, &engine, &b.container)?;
        connect::disconnect(&state.engine, &engine, &rec, &network).map_err(lifecycle_error)
    })
    .await?;
    Ok(Response::new(empty()))
}
