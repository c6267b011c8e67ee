//! Limits the host imposes on flag values, checked before anything is
//! made: name lengths (a volume's name is a directory name) and the number
//! of CPUs `--cpus` may ask for (Docker's rule).

use std::path::Path;

use super::OptionError;

/// `NAME_MAX` of the filesystems yurta's root lives on (ext4, xfs, btrfs,
/// tmpfs) when the filesystem itself cannot be asked.
const NAME_MAX: usize = 255;

/// The longest prefix the volume store puts before a volume's name in one
/// directory entry: `.removing-NAME` while a volume is removed.
const VOLUME_PREFIX: usize = ".removing-".len();

/// The longest volume name: a volume is the directory
/// `<root>/volumes/NAME`, renamed to `.removing-NAME` when removed, so
/// `NAME_MAX` less that prefix.
pub const MAX_VOLUME_NAME: usize = NAME_MAX - VOLUME_PREFIX;

/// The longest container name. Records are stored by ID, so no file system
/// limits names; but a name is the container's host name on its networks
/// (peers' `/etc/hosts`, DNS), and 253 bytes is the longest name a
/// resolver looks up (RFC 1035). Docker sets no limit; a longer name could
/// never be resolved.
pub const MAX_CONTAINER_NAME: usize = 253;

/// Refuses a container name longer than [`MAX_CONTAINER_NAME`].
pub fn container_name(name: &str) -> Result<(), OptionError> {
    let bare = name.strip_prefix('/').unwrap_or(name);
    name_within("container", bare, MAX_CONTAINER_NAME)
}

/// Refuses a volume name longer than [`MAX_VOLUME_NAME`].
pub fn volume_name(name: &str) -> Result<(), OptionError> {
    name_within("volume", name, MAX_VOLUME_NAME)
}

/// The longest volume name the filesystem holding `dir` (the volumes
/// directory, or the nearest existing directory above it) allows:
/// `statvfs`'s `f_namemax` less the store's prefix.
pub fn volume_name_max(dir: &Path) -> usize {
    let namemax = dir
        .ancestors()
        .find_map(|d| nix::sys::statvfs::statvfs(d).ok())
        .map_or(NAME_MAX, |s| s.name_max() as usize);
    namemax.saturating_sub(VOLUME_PREFIX)
}

/// Refuses a `what` name (`volume`) longer than `max` bytes.
pub fn name_within(what: &'static str, value: &str, max: usize) -> Result<(), OptionError> {
    if value.len() <= max {
        return Ok(());
    }
    Err(OptionError::NameTooLong {
        what,
        value: value.to_string(),
        len: value.len(),
        max,
    })
}

/// The CPUs this process may run on (sched_getaffinity(2)), as Docker
/// counts them for `--cpus`; 1 if the call fails.
pub fn host_cpus() -> usize {
    let Ok(set) = nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0)) else {
        return 1;
    };
    (0..nix::sched::CpuSet::count())
        .filter(|&i| set.is_set(i).unwrap_or(false))
        .count()
        .max(1)
}

/// Docker's range for `--cpus`: 0.01 up to the host's CPU count.
pub fn cpus_on_host(value: &str, nano: i64, cpus: usize) -> Result<(), OptionError> {
    if nano > cpus as i64 * 1_000_000_000 {
        return Err(OptionError::CpusAboveHost {
            value: value.to_string(),
            cpus,
        });
    }
    Ok(())
}
