//! `yurta version`: Docker's two sections. yurta has no daemon: the
//! "server" is the engine library inside this same binary, with the
//! runtime and the supervisor beside it, so both sections describe this
//! build (the server's is the engine's, as `GET /version` of `yurta
//! system service` answers it); the API version is the one the service
//! serves.

use clap::Args;
use serde_json::{json, Value};

use crate::Ctx;

#[derive(Args)]
pub struct VersionArgs {
    /// json, or a Go template ({{.Client.Version}}, {{.Server.Version}})
    #[arg(short, long)]
    pub format: Option<String>,
}

/// The Engine API version `yurta system service` serves.
pub const API_VERSION: &str = yurta_engine::system::API_VERSION;

pub use yurta_engine::system::{host_platform, Build};

/// This build's version, commit, time and compiler.
pub const BUILD: Build = Build {
    version: env!("CARGO_PKG_VERSION"),
    commit: env!("YURTA_GIT_COMMIT"),
    built: env!("YURTA_BUILT"),
    rust: env!("YURTA_RUST_VERSION"),
};

pub fn version(_ctx: &Ctx, a: VersionArgs) -> anyhow::Result<()> {
    let v = report();
    match a.format.as_deref() {
        Some(f) => outln!("{}", crate::format::render(f, &v)?)?,
        None => print_human(&v)?,
    }
    Ok(())
}

/// Docker's `version --format '{{json .}}'` shape.
pub fn report() -> Value {
    let (os, arch, variant) = host_platform();
    let b = &BUILD;
    let runtime = crate::info::runtime_version(&crate::binaries());
    let mut server = yurta_engine::system::server_version(b, &runtime);
    server["Platform"]["Name"] = json!("yurta Engine (no daemon: the CLI is the engine)");
    json!({
        "Client": {
            "Platform": {"Name": "yurta"},
            "Version": b.version, "ApiVersion": API_VERSION, "RustVersion": b.rust,
            "GitCommit": b.commit, "BuildTime": b.built, "Os": os, "Arch": arch,
            "Variant": variant.unwrap_or_default(), "Context": "default",
        },
        "Server": server,
    })
}

fn print_human(v: &Value) -> Result<(), crate::out::StdoutError> {
    let s = |p: &str| {
        v.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let os_arch = |side: &str| {
        let variant = s(&format!("/{side}/Variant"));
        let base = format!(
            "{}/{}",
            s(&format!("/{side}/Os")),
            s(&format!("/{side}/Arch"))
        );
        match variant.as_str() {
            "" => base,
            v => format!("{base}/{v}"),
        }
    };
    outln!("Client:")?;
    for (k, p) in [
        ("Version", "/Client/Version"),
        ("API version", "/Client/ApiVersion"),
        ("Rust version", "/Client/RustVersion"),
        ("Git commit", "/Client/GitCommit"),
        ("Built", "/Client/BuildTime"),
    ] {
        outln!(" {:<15}{}", format!("{k}:"), s(p))?;
    }
    outln!(" {:<15}{}", "OS/Arch:", os_arch("Client"))?;
    outln!(" {:<15}{}", "Context:", "default")?;
    outln!()?;
    outln!("Server: {}", s("/Server/Platform/Name"))?;
    outln!(" Engine:")?;
    for (k, p) in [
        ("Version", "/Server/Version"),
        ("API version", "/Server/ApiVersion"),
        ("Rust version", "/Server/RustVersion"),
        ("Git commit", "/Server/GitCommit"),
        ("Built", "/Server/BuildTime"),
    ] {
        outln!("  {:<14}{}", format!("{k}:"), s(p))?;
    }
    outln!("  {:<14}{}", "OS/Arch:", os_arch("Server"))?;
    outln!("  {:<14}{}", "Kernel:", s("/Server/KernelVersion"))?;
    for i in 1..3 {
        outln!(" {}:", s(&format!("/Server/Components/{i}/Name")))?;
        outln!(
            "  {:<14}{}",
            "Version:",
            s(&format!("/Server/Components/{i}/Version"))
        )?;
        outln!(
            "  {:<14}{}",
            "GitCommit:",
            s(&format!("/Server/Components/{i}/Details/GitCommit"))
        )?;
    }
    Ok(())
}
