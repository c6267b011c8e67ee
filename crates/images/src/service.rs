//! Image operations that several front ends share beyond the store's own
//! calls: what `save` names in its archive, and which container keeps
//! `rmi` from deleting an image. The CLI and the Engine API call these.

use yurta_error::{ErrorKind, Kinded};

use crate::archive::SaveItem;
use crate::manage::{self, ManageError, Removed};
use crate::store::{Catalog, Store, StoreError};
use crate::{Digest, Reference};

/// Why `rmi` failed.
#[derive(Debug, thiserror::Error)]
pub enum RemoveError {
    #[error("unable to delete {name}: container {user} is using it (remove the container first)")]
    InUse { name: String, user: String },
    #[error(transparent)]
    Manage(#[from] ManageError),
}

impl Kinded for RemoveError {
    fn kind(&self) -> ErrorKind {
        match self {
            RemoveError::InUse { .. } => ErrorKind::Conflict,
            RemoveError::Manage(e) => e.kind(),
        }
    }
}

/// `rmi QUERY`: refused while a container of `users` (image ID,
/// container) needs the image (see [`blocking_user`]), else untags or
/// deletes as [`manage::remove`] does.
pub fn remove(
    store: &Store,
    query: &str,
    force: bool,
    users: &[(Digest, String)],
) -> Result<Vec<Removed>, RemoveError> {
    if let Some(user) = blocking_user(store, query, users) {
        return Err(RemoveError::InUse {
            name: query.to_string(),
            user,
        });
    }
    Ok(manage::remove(store, query, force)?)
}

/// The images `queries` name, each with the tag to record in an archive:
/// the full `name:tag` a user named (`busybox` → `busybox:latest`), none
/// for an ID or digest (then Docker saves no tag).
pub fn save_items(catalog: &Catalog, queries: &[String]) -> Result<Vec<SaveItem>, StoreError> {
    queries
        .iter()
        .map(|q| {
            let image = catalog.find(q)?.clone();
            let names = tag_named(q, &image.id).into_iter().collect();
            Ok(SaveItem { image, names })
        })
        .collect()
}

fn tag_named(query: &str, id: &Digest) -> Option<String> {
    let hex = query.strip_prefix("sha256:").unwrap_or(query);
    if id.hex().starts_with(hex) {
        return None;
    }
    let r: Reference = query.parse().ok()?;
    r.digest
        .is_none()
        .then(|| r.with_default_tag().tagged())
        .flatten()
}

/// The container (of `users`: image ID, container) that keeps `rmi QUERY`
/// from deleting an image: removing one of several tags only untags
/// (allowed, as Docker), removing the last tag or the ID would delete an
/// image a container uses (refused, even with force).
pub fn blocking_user(store: &Store, query: &str, users: &[(Digest, String)]) -> Option<String> {
    let image = store.resolve(query).ok()?;
    let (_, user) = users.iter().find(|(id, _)| *id == image.id)?;
    let tags = store.catalog().read().ok()?.tags_of(&image.manifest.digest);
    let tag = query
        .parse::<Reference>()
        .ok()
        .filter(|r| r.digest.is_none())
        .and_then(|r| r.with_default_tag().tagged());
    let only_untags = tags.len() > 1 && tag.is_some_and(|t| tags.contains(&t));
    (!only_untags).then(|| user.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_is_named_and_an_id_is_not() {
        let id: Digest = format!("sha256:{}", "ab".repeat(32)).parse().unwrap();
        assert_eq!(
            tag_named("busybox", &id).as_deref(),
            Some("docker.io/library/busybox:latest")
        );
        assert_eq!(tag_named("abab", &id), None);
        assert_eq!(tag_named(&id.to_string(), &id), None);
    }
}
