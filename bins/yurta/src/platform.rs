//! `--platform` for every command that takes it (import, load, pull): the
//! flag's parsing and its default. The rules themselves (names, aliases,
//! e2k generations, choosing an index entry) are `yurta_images::platform`'s.

use anyhow::Context;
use yurta_images::Platform;

/// The platform given with `--platform`, if any.
pub fn given(arg: Option<&str>) -> anyhow::Result<Option<Platform>> {
    arg.map(|p| {
        p.parse::<Platform>()
            .with_context(|| format!("--platform {p}"))
    })
    .transpose()
}

/// The platform given with `--platform`, else the host's.
pub fn or_host(given: Option<&Platform>) -> Platform {
    given.cloned().unwrap_or_else(Platform::host)
}
