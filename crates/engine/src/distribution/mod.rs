//! Images to and from registries, for every front end: [`pull`] brings a
//! reference's manifest, config and layers into the store (resumable, in
//! parallel, nothing visible until all is verified); [`push`] sends a
//! stored image to a registry byte for byte. `yurta-registry` speaks HTTP,
//! auth and TLS; `yurta-images` keeps the store. Progress goes to a
//! [`Progress`]: the CLI draws Docker's lines or bars from it, the API
//! sends Docker's JSON messages.

mod error;
mod fetch;
mod pool;
mod progress;
mod pull;
mod push;
pub mod remote;
pub mod settings;

pub use error::DistributionError;
pub use progress::{progress_bar, Progress, Silent};
pub use pull::{pull, PullRequest, Pulled};
pub use push::{destination, push, push_list, PushRequest, Pushed, PushedList};
pub use settings::{auth_file, client, insecure_registries, ClientOptions};

/// The registry's digest type from the store's.
fn registry_digest(d: &yurta_images::Digest) -> anyhow::Result<yurta_registry::Digest> {
    use anyhow::Context;
    d.to_string().parse().with_context(|| format!("digest {d}"))
}

/// Docker's short form of a blob digest (a progress line's ID): 12 hex
/// digits.
pub fn short(d: &impl std::fmt::Display) -> String {
    let s = d.to_string();
    let hex = s.split_once(':').map_or(s.as_str(), |(_, h)| h);
    hex.chars().take(12).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_digests() {
        assert_eq!(short(&"sha256:0123456789abcdef"), "0123456789ab");
    }
}
