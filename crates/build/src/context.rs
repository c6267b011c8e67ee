//! The build context: which files COPY and ADD take from it.

/// ADD sources fetched over the network rather than from the context.
pub fn is_url(source: &str) -> bool {
    source.starts_with("http://") || source.starts_with("https://")
}
