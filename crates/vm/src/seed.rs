//! NoCloud seed images for cloud-init (`yurta vm create --cloud-init FILE`),
//! written here rather than by `genisoimage` or `xorriso`.
//!
//! cloud-init's NoCloud source looks for a filesystem labelled `cidata`
//! holding `user-data`, `meta-data` and optionally `network-config`.
//! [`nocloud_files`] makes those files; [`write_seed_iso`] puts any small set
//! of files on an ISO 9660 image QEMU can attach as a CD-ROM.
//!
//! # The image
//!
//! Everything is counted in 2048-byte sectors (ISO 9660 logical blocks):
//!
//! | sector | contents |
//! |---|---|
//! | 0–15 | system area, zeros (ISO 9660 leaves it to the platform) |
//! | 16 | primary volume descriptor, volume id `CIDATA` |
//! | 17 | Joliet supplementary volume descriptor, volume id `cidata` |
//! | 18 | volume descriptor set terminator |
//! | 19, 20 | primary path table, little-endian (L) then big-endian (M) |
//! | 21, 22 | Joliet path table, L then M |
//! | 23… | primary root directory, then Joliet root directory |
//! | … | each file's data, from a sector boundary, in the order given |
//!
//! Why two trees. A primary volume id may only hold upper-case d-characters
//! and plain (level 1) names are 8.3 upper case, so `user-data` can only be
//! `USER_DAT.;1` there. The Joliet descriptor carries a second directory tree
//! whose names are UCS-2, so it holds `user-data` exactly; `blkid` reports
//! the Joliet volume id as the label when there is one, which gives `cidata`
//! in the case cloud-init documents. The primary tree also carries Rock
//! Ridge entries (`NM` for the real name, `PX` for modes, and `SP`/`ER` in
//! the root's `.` record to announce them): Linux's isofs prefers Rock Ridge
//! over Joliet when both are present, and then shows the exact names too.
//! Both trees point at the same file extents; the data is stored once.
//!
//! Only a root directory is written (no subdirectories), so each path table
//! holds one 10-byte record, and the limits are small: [`MAX_FILES`] files of
//! at most [`MAX_FILE_SIZE`] bytes with names of at most [`MAX_NAME_LEN`]
//! printable ASCII characters. A directory may still span several sectors
//! (long names with Rock Ridge entries); a record never crosses a sector
//! boundary. Numbers stored "both-endian" are little-endian then big-endian.

use std::fmt::Write as _;
use std::fs::{self, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// At most this many files in one seed image.
pub const MAX_FILES: usize = 16;
/// At most this many bytes in one file (64 MiB).
pub const MAX_FILE_SIZE: usize = 64 << 20;
/// At most this many characters in a file name (Joliet's limit).
pub const MAX_NAME_LEN: usize = 64;

/// The volume label cloud-init looks for, as primary (upper case, as
/// d-characters require) and Joliet (exact) volume ids.
const VOLUME_IDS: [&str; 2] = ["CIDATA", "cidata"];
const SECTOR: usize = 2048;
const TREES: [Tree; 2] = [Tree::Primary, Tree::Joliet];
/// Sectors of the primary and the Joliet volume descriptors.
const DESCRIPTORS: [u32; 2] = [16, 17];
const TERMINATOR_SECTOR: u32 = 18;
/// Sectors of the L and M path tables, primary then Joliet.
const PATH_TABLES: [[u32; 2]; 2] = [[19, 20], [21, 22]];
const FIRST_DIR_SECTOR: u32 = 23;
/// One path table record: the root, with a one-byte name and a pad byte.
const PATH_TABLE_LEN: u32 = 10;
const ZEROS: [u8; SECTOR] = [0; SECTOR];
/// Rock Ridge 1.10's extension id, with the short texts `ER` carries.
const RRIP_ID: &str = "RRIP_1991A";
const RRIP_DESCRIPTOR: &str =
    "THE ROCK RIDGE INTERCHANGE PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS";
const RRIP_SOURCE: &str = "PLEASE CONTACT DISC PUBLISHER FOR SPECIFICATION SOURCE";

/// Why a seed image was not written; each names the image's path.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("write seed {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("seed {path}: {count} files, at most {max} fit", max = MAX_FILES)]
    TooManyFiles { path: PathBuf, count: usize },
    #[error("seed {path}: file {name:?} is {size} bytes, the limit is {max} (64 MiB)", max = MAX_FILE_SIZE)]
    TooLarge {
        path: PathBuf,
        name: String,
        size: usize,
    },
    #[error("seed {path}: bad file name {name:?}: {why}")]
    BadName {
        path: PathBuf,
        name: String,
        why: &'static str,
    },
    #[error("seed {path}: file {name:?} given twice")]
    Duplicate { path: PathBuf, name: String },
}

/// A static IPv4 address for the VM's NIC, which is matched by MAC address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkConfig {
    /// The NIC's MAC address, `52:54:00:12:34:56` (written lower case).
    pub mac: String,
    /// The address and prefix length, `10.0.0.5` and 24.
    pub address: Ipv4Addr,
    pub prefix: u8,
    /// The default route's next hop.
    pub gateway: Ipv4Addr,
    /// Name servers, in order; none leaves `nameservers` out.
    pub dns: Vec<Ipv4Addr>,
}

/// The NoCloud files for one VM: `meta-data` (instance id and hostname),
/// `user-data` as the user wrote it, and, given a network, `network-config`.
pub fn nocloud_files(
    user_data: &[u8],
    instance_id: &str,
    hostname: &str,
    network: Option<&NetworkConfig>,
) -> Vec<(String, Vec<u8>)> {
    let meta = format!(
        "instance-id: {}\nlocal-hostname: {}\n",
        yaml_scalar(instance_id),
        yaml_scalar(hostname)
    );
    let mut files = vec![
        ("meta-data".to_string(), meta.into_bytes()),
        ("user-data".to_string(), user_data.to_vec()),
    ];
    if let Some(net) = network {
        files.push(("network-config".to_string(), netplan(net).into_bytes()));
    }
    files
}

/// Netplan version 2, without the `network:` wrapper (the form every
/// cloud-init version reads from a NoCloud seed). The NIC is matched by MAC
/// and named `eth0` (`set-name`), so that renderers other than netplan,
/// which name interfaces by the key, configure the same device.
fn netplan(net: &NetworkConfig) -> String {
    let mut s = format!(
        "version: 2\nethernets:\n  eth0:\n    match:\n      macaddress: {}\n    \
         set-name: eth0\n    addresses:\n      - {}/{}\n    routes:\n      \
         - to: 0.0.0.0/0\n        via: {}\n",
        quoted(&net.mac.to_ascii_lowercase()),
        net.address,
        net.prefix,
        net.gateway
    );
    if !net.dns.is_empty() {
        s.push_str("    nameservers:\n      addresses:\n");
        for dns in &net.dns {
            let _ = writeln!(s, "        - {dns}");
        }
    }
    s
}

/// `s` as a YAML scalar: bare when it is plainly a string (starts with a
/// letter, only letters, digits, `.`, `_`, `-`, and no YAML 1.1 boolean or
/// null word), otherwise double-quoted.
fn yaml_scalar(s: &str) -> String {
    const WORDS: [&str; 11] = [
        "y", "n", "yes", "no", "true", "false", "on", "off", "null", "nan", "inf",
    ];
    let plain = s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && !WORDS.contains(&s.to_ascii_lowercase().as_str());
    if plain {
        s.to_string()
    } else {
        quoted(s)
    }
}

/// A double-quoted YAML string; JSON's escapes are valid YAML.
fn quoted(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// Writes `files` (name, contents) as an ISO 9660 image with Joliet and Rock
/// Ridge names, volume label `cidata`, to `path`: first to a hidden sibling
/// temp file, synced, then renamed over `path`. On any error nothing is left
/// behind (an existing `path` is untouched).
pub fn write_seed_iso(path: &Path, files: &[(&str, &[u8])]) -> Result<(), SeedError> {
    let mut entries = check(path, files)?;
    let head = lay_out(&mut entries, Stamp::now());
    write_atomic(path, |w| {
        w.write_all(&head)?;
        for e in &entries {
            w.write_all(e.data)?;
            w.write_all(&ZEROS[..sectors(e.data.len()) as usize * SECTOR - e.data.len()])?;
        }
        Ok(())
    })
}

/// One file on the image: its real name, its 8.3 primary name, its data and
/// the sector its data starts at.
struct Entry<'a> {
    name: &'a str,
    base: String,
    ext: String,
    data: &'a [u8],
    extent: u32,
}

impl Entry<'_> {
    /// The primary identifier, `BASE.EXT;1` (the dot is there even without
    /// an extension, as ISO 9660 requires).
    fn iso_name(&self) -> Vec<u8> {
        format!("{}.{};1", self.base, self.ext).into_bytes()
    }
}

fn sectors(len: usize) -> u32 {
    len.div_ceil(SECTOR) as u32
}

/// Validates the file list and gives each file a unique 8.3 name.
fn check<'a>(path: &Path, files: &[(&'a str, &'a [u8])]) -> Result<Vec<Entry<'a>>, SeedError> {
    let path = path.to_path_buf();
    if files.len() > MAX_FILES {
        let count = files.len();
        return Err(SeedError::TooManyFiles { path, count });
    }
    let mut entries: Vec<Entry<'a>> = Vec::with_capacity(files.len());
    for &(name, data) in files {
        if let Err(why) = check_name(name) {
            let name = name.to_string();
            return Err(SeedError::BadName { path, name, why });
        }
        if entries.iter().any(|e| e.name == name) {
            let name = name.to_string();
            return Err(SeedError::Duplicate { path, name });
        }
        if data.len() > MAX_FILE_SIZE {
            let (name, size) = (name.to_string(), data.len());
            return Err(SeedError::TooLarge { path, name, size });
        }
        let (base, ext) = short_name(name, &entries);
        let extent = 0;
        entries.push(Entry {
            name,
            base,
            ext,
            data,
            extent,
        });
    }
    Ok(entries)
}

/// Names are printable ASCII without the characters Joliet forbids.
fn check_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("empty");
    }
    if name == "." || name == ".." {
        return Err("not a file name");
    }
    if name.len() > MAX_NAME_LEN {
        return Err("longer than 64 characters");
    }
    if !name.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err("only printable ASCII characters can be used");
    }
    if name.contains(['/', '\\', ':', ';', '*', '?']) {
        return Err("contains one of / \\ : ; * ?");
    }
    Ok(())
}

/// An ISO 9660 level 1 name for `name`: upper case, characters outside
/// `A-Z 0-9 _` as `_`, at most 8 characters before the last dot and 3 after.
/// A name already taken by an earlier entry gets a two-digit number at the
/// end of its base (`USER_D01`).
fn short_name(name: &str, taken: &[Entry]) -> (String, String) {
    let d_chars = |s: &str, max: usize| -> String {
        s.chars()
            .take(max)
            .map(|c| match c.to_ascii_uppercase() {
                c @ ('A'..='Z' | '0'..='9') => c,
                _ => '_',
            })
            .collect()
    };
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem, ext),
        _ => (name, ""),
    };
    let (mut base, ext) = (d_chars(stem, 8), d_chars(ext, 3));
    let free = |b: &str| !taken.iter().any(|e| e.base == b && e.ext == ext);
    let mut n = 0;
    while !free(&base) {
        base = format!("{}{n:02}", d_chars(stem, 6));
        n += 1;
    }
    (base, ext)
}

/// Which directory tree a record belongs to; also the index into the
/// per-tree arrays ([`DESCRIPTORS`], [`PATH_TABLES`], [`VOLUME_IDS`]).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tree {
    /// 8.3 names, Rock Ridge entries.
    Primary = 0,
    /// UCS-2 names.
    Joliet = 1,
}

/// Places directories and files, gives each file its extent, and returns
/// the image up to the first file's data: system area, descriptors, path
/// tables and both root directories.
fn lay_out(entries: &mut [Entry], when: Stamp) -> Vec<u8> {
    // Record sizes do not depend on extents: measure first, place after.
    let dir_sectors =
        TREES.map(|tree| (directory(tree, entries, 0, 1, when).len() / SECTOR) as u32);
    let roots = [FIRST_DIR_SECTOR, FIRST_DIR_SECTOR + dir_sectors[0]];
    let head_sectors = roots[1] + dir_sectors[1];
    let mut next = head_sectors;
    for e in entries.iter_mut() {
        // An empty file has no data sectors; ISO 9660 allows extent 0.
        e.extent = if e.data.is_empty() { 0 } else { next };
        next += sectors(e.data.len());
    }
    let mut head = vec![0u8; head_sectors as usize * SECTOR];
    let mut put = |sector: u32, bytes: &[u8]| {
        let at = sector as usize * SECTOR;
        head[at..at + bytes.len()].copy_from_slice(bytes);
    };
    for tree in TREES {
        let i = tree as usize;
        let (root, root_sectors, tables) = (roots[i], dir_sectors[i], PATH_TABLES[i]);
        put(
            DESCRIPTORS[i],
            &descriptor(tree, next, root, root_sectors, when),
        );
        put(tables[0], &path_table(root, false));
        put(tables[1], &path_table(root, true));
        put(root, &directory(tree, entries, root, root_sectors, when));
    }
    put(TERMINATOR_SECTOR, &descriptor_header(255));
    head
}

/// The primary (type 1) or Joliet supplementary (type 2) descriptor of a
/// volume of `total` sectors whose `tree` has its root at `root`. Offsets
/// are ECMA-119's (8.4); the Joliet one differs by its escape sequence `%/E`
/// (UCS-2 level 3) and its identifiers being UCS-2.
fn descriptor(tree: Tree, total: u32, root: u32, root_sectors: u32, when: Stamp) -> Vec<u8> {
    let joliet = tree == Tree::Joliet;
    let tables = PATH_TABLES[tree as usize];
    let mut d = descriptor_header(if joliet { 2 } else { 1 });
    text(&mut d[8..40], "LINUX", joliet);
    text(&mut d[40..72], VOLUME_IDS[tree as usize], joliet);
    d[80..88].copy_from_slice(&both32(total));
    if joliet {
        d[88..91].copy_from_slice(b"%/E");
    }
    d[120..124].copy_from_slice(&both16(1)); // volume set size
    d[124..128].copy_from_slice(&both16(1)); // volume sequence number
    d[128..132].copy_from_slice(&both16(SECTOR as u16));
    d[132..140].copy_from_slice(&both32(PATH_TABLE_LEN));
    d[140..144].copy_from_slice(&tables[0].to_le_bytes());
    d[148..152].copy_from_slice(&tables[1].to_be_bytes());
    let root_len = root_sectors * SECTOR as u32;
    d[156..190].copy_from_slice(&record(&[0], root, root_len, true, when, &[]));
    for (range, value) in [(190..318, ""), (318..446, ""), (446..574, "YURTA")] {
        text(&mut d[range], value, joliet); // volume set, publisher, preparer
    }
    text(&mut d[574..702], "YURTA NOCLOUD SEED", joliet); // application
    for range in [702..739, 739..776, 776..813] {
        text(&mut d[range], "", joliet); // copyright, abstract, bibliography
    }
    d[813..830].copy_from_slice(&when.volume); // created
    d[830..847].copy_from_slice(&when.volume); // modified
    d[847..864].copy_from_slice(&Stamp::UNSPECIFIED); // expires
    d[864..881].copy_from_slice(&Stamp::UNSPECIFIED); // effective
    d[881] = 1; // file structure version
    d
}

/// A sector starting with a descriptor's type, `CD001` and version 1.
fn descriptor_header(kind: u8) -> Vec<u8> {
    let mut d = vec![0u8; SECTOR];
    d[0] = kind;
    d[1..6].copy_from_slice(b"CD001");
    d[6] = 1;
    d
}

/// Fills an identifier field with `s` then spaces; UCS-2 big-endian for
/// Joliet (an odd-length field's last byte stays zero).
fn text(field: &mut [u8], s: &str, ucs2: bool) {
    if ucs2 {
        let units = s.encode_utf16().chain(std::iter::repeat(0x20));
        for (pair, unit) in field.chunks_exact_mut(2).zip(units) {
            pair.copy_from_slice(&unit.to_be_bytes());
        }
    } else {
        let bytes = s.bytes().chain(std::iter::repeat(b' '));
        for (b, v) in field.iter_mut().zip(bytes) {
            *b = v;
        }
    }
}

/// A path table holding the root alone: name length 1, no extended
/// attributes, the root's extent, parent directory number 1 (itself), the
/// name byte 0 and a pad byte. L tables are little-endian, M big-endian.
fn path_table(root: u32, big_endian: bool) -> [u8; PATH_TABLE_LEN as usize] {
    let (extent, parent) = match big_endian {
        true => (root.to_be_bytes(), 1u16.to_be_bytes()),
        false => (root.to_le_bytes(), 1u16.to_le_bytes()),
    };
    let mut t = [0u8; PATH_TABLE_LEN as usize];
    t[0] = 1;
    t[2..6].copy_from_slice(&extent);
    t[6..8].copy_from_slice(&parent);
    t
}

/// A root directory: `.` and `..` (both the root itself; in the primary
/// tree `.` announces Rock Ridge), then the files sorted by identifier,
/// packed into whole sectors with no record crossing a sector boundary.
fn directory(tree: Tree, entries: &[Entry], extent: u32, sectors: u32, when: Stamp) -> Vec<u8> {
    let len = sectors * SECTOR as u32;
    let rr = tree == Tree::Primary;
    let dot_su = rr.then(|| [sp(), px(true), er()].concat());
    let dotdot_su = rr.then(|| px(true));
    let mut records = vec![
        record(&[0], extent, len, true, when, &dot_su.unwrap_or_default()),
        record(
            &[1],
            extent,
            len,
            true,
            when,
            &dotdot_su.unwrap_or_default(),
        ),
    ];
    let mut files: Vec<(Vec<u8>, &Entry)> = entries
        .iter()
        .map(|e| match tree {
            Tree::Primary => ((e.base.clone() + "\0" + &e.ext).into_bytes(), e),
            Tree::Joliet => (ucs2(e.name), e),
        })
        .collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    for (_, e) in files {
        let size = e.data.len() as u32;
        records.push(match tree {
            Tree::Primary => {
                let su = [nm(e.name), px(false)].concat();
                record(&e.iso_name(), e.extent, size, false, when, &su)
            }
            Tree::Joliet => record(&ucs2(e.name), e.extent, size, false, when, &[]),
        });
    }
    let mut dir = Vec::with_capacity(SECTOR);
    for r in records {
        if dir.len() % SECTOR + r.len() > SECTOR {
            dir.resize(dir.len().next_multiple_of(SECTOR), 0);
        }
        dir.extend_from_slice(&r);
    }
    dir.resize(dir.len().next_multiple_of(SECTOR).max(SECTOR), 0);
    dir
}

fn ucs2(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_be_bytes).collect()
}

/// A directory record (ECMA-119 9.1): length, no extended attributes,
/// extent and data length (both-endian), recording time, flags (2 for a
/// directory), no interleaving, volume sequence number 1, the identifier,
/// a pad byte when the identifier's length is even, then the system use
/// area (Rock Ridge), and a final pad to keep the length even.
fn record(id: &[u8], extent: u32, len: u32, dir: bool, when: Stamp, su: &[u8]) -> Vec<u8> {
    let mut r = vec![0u8; 33];
    r[2..10].copy_from_slice(&both32(extent));
    r[10..18].copy_from_slice(&both32(len));
    r[18..25].copy_from_slice(&when.record);
    r[25] = if dir { 2 } else { 0 };
    r[28..32].copy_from_slice(&both16(1));
    r[32] = id.len() as u8;
    r.extend_from_slice(id);
    if id.len().is_multiple_of(2) {
        r.push(0);
    }
    r.extend_from_slice(su);
    if r.len() % 2 == 1 {
        r.push(0);
    }
    r[0] = r.len() as u8;
    r
}

/// A SUSP entry: signature, length, version 1, then its fields.
fn susp(sig: &[u8; 2], fields: &[u8]) -> Vec<u8> {
    [&sig[..], &[4 + fields.len() as u8, 1], fields].concat()
}

/// `SP`: SUSP is in use, and no bytes are skipped before entries.
fn sp() -> Vec<u8> {
    susp(b"SP", &[0xbe, 0xef, 0])
}

/// `ER`: the extension in use is Rock Ridge 1.10.
fn er() -> Vec<u8> {
    let lens = [RRIP_ID, RRIP_DESCRIPTOR, RRIP_SOURCE].map(|s| s.len() as u8);
    let strings = [RRIP_ID, RRIP_DESCRIPTOR, RRIP_SOURCE].concat();
    susp(b"ER", &[&lens[..], &[1], strings.as_bytes()].concat())
}

/// `PX`: mode, links, uid, gid (both-endian); r-x for the directory, r--
/// for files, owned by root.
fn px(dir: bool) -> Vec<u8> {
    let (mode, links) = if dir { (0o040555, 2) } else { (0o100444, 1) };
    susp(
        b"PX",
        &[both32(mode), both32(links), both32(0), both32(0)].concat(),
    )
}

/// `NM`: the file's real name.
fn nm(name: &str) -> Vec<u8> {
    susp(b"NM", &[&[0], name.as_bytes()].concat())
}

/// Both-endian numbers: little-endian, then the same big-endian.
fn both32(v: u32) -> Vec<u8> {
    [v.to_le_bytes(), v.to_be_bytes()].concat()
}

fn both16(v: u16) -> Vec<u8> {
    [v.to_le_bytes(), v.to_be_bytes()].concat()
}

/// A UTC time, in the two forms ISO 9660 records times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    /// Directory record form: years since 1900, month, day, hour, minute,
    /// second, offset from UTC in 15-minute units.
    record: [u8; 7],
    /// Volume descriptor form: `YYYYMMDDHHMMSScc` digits, then the offset.
    volume: [u8; 17],
}

impl Stamp {
    /// A volume time that is not specified: sixteen `0` digits, offset 0.
    const UNSPECIFIED: [u8; 17] = *b"0000000000000000\0";

    fn now() -> Stamp {
        let since = SystemTime::now().duration_since(UNIX_EPOCH);
        Stamp::from_unix(since.map_or(0, |d| d.as_secs()))
    }

    /// Seconds since 1970 to the ISO 9660 forms (years 1900–2155 in a
    /// directory record, up to 9999 in a volume descriptor).
    fn from_unix(secs: u64) -> Stamp {
        let (year, month, day) = yurta_time::civil_from_days((secs / 86400) as i64);
        let (year, month, day) = (year.clamp(0, 9999) as u64, u64::from(month), u64::from(day));
        let (hour, minute, second) = (secs / 3600 % 24, secs / 60 % 60, secs % 60);
        let volume = format!("{year:04}{month:02}{day:02}{hour:02}{minute:02}{second:02}00\0");
        let fields = [
            year.saturating_sub(1900).min(255),
            month,
            day,
            hour,
            minute,
            second,
            0,
        ];
        Stamp {
            record: fields.map(|f| f as u8),
            volume: volume.as_bytes().try_into().unwrap_or(Stamp::UNSPECIFIED),
        }
    }
}

/// Runs `body` on a new temp file next to `path`, syncs it and renames it
/// to `path`; on any failure removes the temp file. Errors name `path`.
fn write_atomic(
    path: &Path,
    body: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), SeedError> {
    let fail = |source| SeedError::Io {
        path: path.to_path_buf(),
        source,
    };
    let Some(name) = path.file_name() else {
        return Err(fail(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a file name",
        )));
    };
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(fail)?;
    let result = (|| {
        let mut w = BufWriter::with_capacity(1 << 16, file);
        body(&mut w)?;
        let file = w.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        fail(e)
    })
}

#[cfg(test)]
#[path = "seed_tests.rs"]
mod tests;
