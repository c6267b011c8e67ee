//! `--platform` for every command that takes it (import, load, pull, run,
//! create): the
//! flag's parsing and its default. The rules themselves (names, aliases,
//! e2k generations, choosing an index entry) are `yurta_images::platform`'s.

use yurta_images::Platform;

/// The platform given with `--platform`, if any (the error names it).
pub fn given(arg: Option<&str>) -> anyhow::Result<Option<Platform>> {
    Ok(arg.map(str::parse::<Platform>).transpose()?)
}

/// The platform given with `--platform`, else the host's.
pub fn or_host(given: Option<&Platform>) -> Platform {
    given.cloned().unwrap_or_else(Platform::host)
}
