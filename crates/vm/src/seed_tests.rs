//! The seed image read back by a small ISO 9660 reader written here; the
//! host's tools and kernel read it in `host` (seed_host_tests.rs).

use std::collections::BTreeMap;
use std::path::Path;

use super::*;

const USER_DATA: &[u8] = b"#cloud-config\npackages: [curl]\nruncmd:\n  - echo hi\n";

fn net() -> NetworkConfig {
    NetworkConfig {
        mac: "52:54:00:AB:cd:01".into(),
        address: Ipv4Addr::new(10, 20, 0, 5),
        prefix: 24,
        gateway: Ipv4Addr::new(10, 20, 0, 1),
        dns: vec![Ipv4Addr::new(10, 20, 0, 1), Ipv4Addr::new(9, 9, 9, 9)],
    }
}

fn nocloud() -> Vec<(String, Vec<u8>)> {
    nocloud_files(USER_DATA, "iid-web", "web", Some(&net()))
}

fn borrowed(files: &[(String, Vec<u8>)]) -> Vec<(&str, &[u8])> {
    files
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect()
}

/// Writes `files` to `DIR/seed.iso` and returns the image's bytes.
fn image(dir: &Path, files: &[(&str, &[u8])]) -> Vec<u8> {
    let path = dir.join("seed.iso");
    write_seed_iso(&path, files).expect("write seed");
    fs::read(&path).expect("read seed")
}

fn sector(img: &[u8], n: u32) -> &[u8] {
    &img[n as usize * SECTOR..(n as usize + 1) * SECTOR]
}

fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes(b[..4].try_into().unwrap())
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes(b[..4].try_into().unwrap())
}

/// A both-endian u32, checking that its two halves agree.
fn both32_at(b: &[u8]) -> u32 {
    assert_eq!(le32(b), be32(&b[4..]), "both-endian halves differ");
    le32(b)
}

fn both16_at(b: &[u8]) -> u16 {
    let (le, be) = (
        u16::from_le_bytes([b[0], b[1]]),
        u16::from_be_bytes([b[2], b[3]]),
    );
    assert_eq!(le, be, "both-endian halves differ");
    le
}

fn from_ucs2(b: &[u8]) -> String {
    let units: Vec<u16> = b
        .chunks_exact(2)
        .map(|p| u16::from_be_bytes([p[0], p[1]]))
        .collect();
    String::from_utf16(&units).expect("UCS-2")
}

#[derive(Debug)]
struct Rec {
    extent: u32,
    size: u32,
    dir: bool,
    id: Vec<u8>,
    su: Vec<u8>,
}

/// Reads a directory's records, checking that none crosses a sector.
fn read_dir(img: &[u8], extent: u32, size: u32) -> Vec<Rec> {
    assert_eq!(size as usize % SECTOR, 0, "directory size in whole sectors");
    let data = &img[extent as usize * SECTOR..][..size as usize];
    let mut recs = Vec::new();
    let mut at = 0;
    while at < data.len() {
        let len = data[at] as usize;
        if len == 0 {
            at = (at / SECTOR + 1) * SECTOR;
            continue;
        }
        assert_eq!(len % 2, 0, "record length {len} is odd");
        assert_eq!(
            at / SECTOR,
            (at + len - 1) / SECTOR,
            "record crosses a sector"
        );
        let r = &data[at..at + len];
        let id_len = r[32] as usize;
        let su_at = 33 + id_len + (id_len + 1) % 2;
        assert_eq!(both16_at(&r[28..]), 1, "volume sequence number");
        recs.push(Rec {
            extent: both32_at(&r[2..]),
            size: both32_at(&r[10..]),
            dir: r[25] & 2 != 0,
            id: r[33..33 + id_len].to_vec(),
            su: r[su_at..].to_vec(),
        });
        at += len;
    }
    recs
}

/// SUSP entries of a system use area (signature, fields).
fn susp_entries(mut su: &[u8]) -> Vec<([u8; 2], Vec<u8>)> {
    let mut out = Vec::new();
    while su.len() >= 4 {
        let len = su[2] as usize;
        assert!(len >= 4 && len <= su.len(), "bad SUSP length {len}");
        assert_eq!(su[3], 1, "SUSP version");
        out.push(([su[0], su[1]], su[4..len].to_vec()));
        su = &su[len..];
    }
    assert!(su.iter().all(|&b| b == 0), "junk after SUSP entries");
    out
}

fn susp_field(su: &[u8], sig: &[u8; 2]) -> Option<Vec<u8>> {
    susp_entries(su)
        .into_iter()
        .find(|(s, _)| s == sig)
        .map(|(_, f)| f)
}

struct Vd {
    volume_id: String,
    total: u32,
    root: Rec,
    l_table: u32,
    m_table: u32,
}

/// Parses the descriptor at `n`, checking the fields common to both kinds.
fn descriptor(img: &[u8], n: u32, kind: u8) -> Vd {
    let d = sector(img, n);
    assert_eq!((d[0], &d[1..6], d[6]), (kind, &b"CD001"[..], 1));
    assert_eq!(both16_at(&d[120..]), 1, "volume set size");
    assert_eq!(both16_at(&d[128..]), 2048, "logical block size");
    assert_eq!(both32_at(&d[132..]), 10, "path table size");
    assert_eq!(
        (le32(&d[144..]), be32(&d[152..])),
        (0, 0),
        "no optional tables"
    );
    assert_eq!(d[881], 1, "file structure version");
    assert!(d[813..829].iter().all(u8::is_ascii_digit), "creation date");
    let volume_id = if kind == 2 {
        from_ucs2(&d[40..72])
    } else {
        String::from_utf8(d[40..72].to_vec()).unwrap()
    };
    let root = read_dir_record(&d[156..190]);
    Vd {
        volume_id: volume_id.trim_end().to_string(),
        total: both32_at(&d[80..]),
        root,
        l_table: le32(&d[140..]),
        m_table: be32(&d[148..]),
    }
}

fn read_dir_record(r: &[u8]) -> Rec {
    assert_eq!((r[0], r[32], r[33]), (34, 1, 0), "root record");
    Rec {
        extent: both32_at(&r[2..]),
        size: both32_at(&r[10..]),
        dir: r[25] & 2 != 0,
        id: vec![0],
        su: vec![],
    }
}

/// Checks one path table: the root alone, pointing at `root`.
fn check_path_table(img: &[u8], at: u32, big_endian: bool, root: u32) {
    let t = sector(img, at);
    let (extent, parent) = if big_endian {
        (be32(&t[2..]), u16::from_be_bytes([t[6], t[7]]))
    } else {
        (le32(&t[2..]), u16::from_le_bytes([t[6], t[7]]))
    };
    assert_eq!((t[0], t[1], extent, parent, t[8]), (1, 0, root, 1, 0));
    assert!(t[10..].iter().all(|&b| b == 0), "one record only");
}

/// The files of a root directory by name (Rock Ridge `NM` in the primary
/// tree, UCS-2 in Joliet) with their contents read at their extents; also
/// checks `.` and `..`.
fn files_of(img: &[u8], root: &Rec, joliet: bool) -> BTreeMap<String, (Vec<u8>, Rec)> {
    let recs = read_dir(img, root.extent, root.size);
    assert_eq!(recs[0].id, [0]);
    assert_eq!(recs[1].id, [1]);
    for r in &recs[..2] {
        assert!(r.dir);
        assert_eq!((r.extent, r.size), (root.extent, root.size));
    }
    let ids: Vec<&Vec<u8>> = recs[2..].iter().map(|r| &r.id).collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "records sorted: {ids:?}"
    );
    let mut out = BTreeMap::new();
    for r in recs.into_iter().skip(2) {
        assert!(!r.dir);
        let name = if joliet {
            assert!(r.su.iter().all(|&b| b == 0));
            from_ucs2(&r.id)
        } else {
            let nm = susp_field(&r.su, b"NM").expect("NM entry");
            assert_eq!(nm[0], 0, "NM flags");
            String::from_utf8(nm[1..].to_vec()).unwrap()
        };
        let data = img[r.extent as usize * SECTOR..][..r.size as usize].to_vec();
        out.insert(name, (data, r));
    }
    out
}

#[test]
fn descriptors_path_tables_and_both_trees_read_back() {
    let tmp = tempfile::tempdir().unwrap();
    let files = nocloud();
    let img = image(tmp.path(), &borrowed(&files));
    assert_eq!(img.len() % SECTOR, 0);
    assert!(img[..16 * SECTOR].iter().all(|&b| b == 0), "system area");

    let pvd = descriptor(&img, 16, 1);
    let svd = descriptor(&img, 17, 2);
    assert_eq!(
        sector(&img, 18)[..7],
        [255, b'C', b'D', b'0', b'0', b'1', 1]
    );
    assert_eq!(pvd.volume_id, "CIDATA");
    assert_eq!(svd.volume_id, "cidata");
    assert_eq!(&sector(&img, 17)[88..91], b"%/E", "Joliet UCS-2 level 3");
    assert!(sector(&img, 16)[88..120].iter().all(|&b| b == 0));
    for vd in [&pvd, &svd] {
        assert_eq!(vd.total as usize, img.len() / SECTOR, "volume space size");
        assert!(vd.root.dir);
        check_path_table(&img, vd.l_table, false, vd.root.extent);
        check_path_table(&img, vd.m_table, true, vd.root.extent);
    }
    let tables = [pvd.l_table, pvd.m_table, svd.l_table, svd.m_table];
    assert_eq!(tables, [19, 20, 21, 22]);
    assert_eq!((pvd.root.extent, svd.root.extent), (23, 24));

    let primary = files_of(&img, &pvd.root, false);
    let joliet = files_of(&img, &svd.root, true);
    let expected: BTreeMap<String, Vec<u8>> = files.into_iter().collect();
    for tree in [&primary, &joliet] {
        let got: BTreeMap<String, Vec<u8>> = tree
            .iter()
            .map(|(n, (d, _))| (n.clone(), d.clone()))
            .collect();
        assert_eq!(got, expected);
    }
    let iso_names: Vec<String> = primary
        .values()
        .map(|(_, r)| String::from_utf8(r.id.clone()).unwrap())
        .collect();
    assert_eq!(iso_names, ["META_DAT.;1", "NETWORK_.;1", "USER_DAT.;1"]);
    for (name, (_, r)) in &primary {
        assert_eq!(
            r.extent, joliet[name].1.extent,
            "{name}: one copy of the data"
        );
        let px = susp_field(&r.su, b"PX").expect("PX");
        assert_eq!(both32_at(&px), 0o100444, "{name}: mode");
    }
    // Files follow the directories, sector-aligned, in the order given.
    let extents: Vec<u32> = ["meta-data", "user-data", "network-config"]
        .iter()
        .map(|n| primary[*n].1.extent)
        .collect();
    assert_eq!(extents, [25, 26, 27]);
}

#[test]
fn root_dot_record_announces_rock_ridge() {
    let tmp = tempfile::tempdir().unwrap();
    let img = image(tmp.path(), &[("user-data", b"x")]);
    let pvd = descriptor(&img, 16, 1);
    let recs = read_dir(&img, pvd.root.extent, pvd.root.size);
    let entries = susp_entries(&recs[0].su);
    assert_eq!(entries[0], (*b"SP", vec![0xbe, 0xef, 0]), "SP first");
    let er = susp_field(&recs[0].su, b"ER").expect("ER");
    let (id_len, des_len, src_len) = (er[0] as usize, er[1] as usize, er[2] as usize);
    assert_eq!(er.len(), 4 + id_len + des_len + src_len);
    assert_eq!(&er[4..4 + id_len], b"RRIP_1991A");
    let px = susp_field(&recs[1].su, b"PX").expect("PX on ..");
    assert_eq!(both32_at(&px), 0o040555);
    assert_eq!(px.len(), 32);
}

#[test]
fn long_names_and_many_files_span_directory_sectors() {
    let tmp = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..MAX_FILES)
        .map(|i| format!("{i:02}-{}", "n".repeat(MAX_NAME_LEN - 3)))
        .collect();
    let datas: Vec<Vec<u8>> = (0..MAX_FILES).map(|i| vec![i as u8; i * 1000]).collect();
    let files: Vec<(&str, &[u8])> = names
        .iter()
        .zip(&datas)
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    let img = image(tmp.path(), &files);
    let pvd = descriptor(&img, 16, 1);
    let svd = descriptor(&img, 17, 2);
    assert!(
        pvd.root.size > SECTOR as u32,
        "primary directory spans sectors"
    );
    assert_eq!(
        svd.root.extent,
        pvd.root.extent + pvd.root.size / SECTOR as u32
    );
    for (tree, joliet) in [(&pvd, false), (&svd, true)] {
        let got = files_of(&img, &tree.root, joliet);
        assert_eq!(got.len(), MAX_FILES);
        for (n, d) in names.iter().zip(&datas) {
            assert_eq!(&got[n].0, d, "{n}");
        }
    }
    let iso: Vec<Vec<u8>> = read_dir(&img, pvd.root.extent, pvd.root.size)
        .into_iter()
        .skip(2)
        .map(|r| r.id)
        .collect();
    for id in &iso {
        let ok = |b: &u8| b.is_ascii_uppercase() || b.is_ascii_digit() || b"_.;".contains(b);
        assert!(id.iter().all(ok), "{:?}", String::from_utf8_lossy(id));
    }
    let unique: std::collections::BTreeSet<_> = iso.iter().collect();
    assert_eq!(unique.len(), MAX_FILES, "8.3 names made unique");
}

#[test]
fn short_names_are_level_1_and_unique() {
    let mut taken: Vec<Entry> = Vec::new();
    let mut add = |name: &'static str| {
        let (base, ext) = short_name(name, &taken);
        let data: &[u8] = &[];
        taken.push(Entry {
            name,
            base,
            ext,
            data,
            extent: 0,
        });
        String::from_utf8(taken.last().unwrap().iso_name()).unwrap()
    };
    assert_eq!(add("user-data"), "USER_DAT.;1");
    assert_eq!(add("user-datum"), "USER_D00.;1");
    assert_eq!(add("user-dat"), "USER_D01.;1");
    assert_eq!(add("vendor.data.yaml"), "VENDOR_D.YAM;1");
    assert_eq!(add(".hidden"), "_HIDDEN.;1");
    assert_eq!(add("a b+c"), "A_B_C.;1");
}

#[test]
fn empty_file_and_no_files() {
    let tmp = tempfile::tempdir().unwrap();
    let img = image(tmp.path(), &[("meta-data", b""), ("user-data", b"u")]);
    let svd = descriptor(&img, 17, 2);
    let got = files_of(&img, &svd.root, true);
    assert_eq!((got["meta-data"].1.extent, got["meta-data"].1.size), (0, 0));
    assert_eq!(got["user-data"].0, b"u");
    assert_eq!(img.len(), 26 * SECTOR);

    let img = image(tmp.path(), &[]);
    assert_eq!(descriptor(&img, 16, 1).total, 25);
    assert!(files_of(&img, &descriptor(&img, 16, 1).root, false).is_empty());
}

/// Names in `dir`, to show nothing was left behind.
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn bad_input_is_refused_naming_the_path_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("seed.iso");
    let p = path.display();
    let err = |files: &[(&str, &[u8])]| write_seed_iso(&path, files).unwrap_err().to_string();

    let names: Vec<String> = (0..=MAX_FILES).map(|i| format!("f{i}")).collect();
    let many: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
    assert_eq!(err(&many), format!("seed {p}: 17 files, at most 16 fit"));

    let big = vec![0u8; MAX_FILE_SIZE + 1];
    assert_eq!(
        err(&[("user-data", &big)]),
        format!("seed {p}: file \"user-data\" is 67108865 bytes, the limit is 67108864 (64 MiB)")
    );
    assert_eq!(
        err(&[("a", b"1"), ("a", b"2")]),
        format!("seed {p}: file \"a\" given twice")
    );
    let long = "x".repeat(MAX_NAME_LEN + 1);
    for (name, why) in [
        ("", "empty"),
        ("..", "not a file name"),
        ("a/b", "contains one of / \\ : ; * ?"),
        ("x;1", "contains one of / \\ : ; * ?"),
        ("usér-data", "only printable ASCII characters can be used"),
        ("a\nb", "only printable ASCII characters can be used"),
        (long.as_str(), "longer than 64 characters"),
    ] {
        let want = format!("seed {p}: bad file name {name:?}: {why}");
        assert_eq!(err(&[(name, b"")]), want);
    }
    assert!(listing(tmp.path()).is_empty(), "{:?}", listing(tmp.path()));
}

#[test]
fn io_errors_name_the_path_and_leave_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("no-such-dir/seed.iso");
    let e = write_seed_iso(&missing, &[("user-data", b"x")]).unwrap_err();
    let want = format!(
        "write seed {}: No such file or directory",
        missing.display()
    );
    assert!(e.to_string().starts_with(&want), "{e}");

    // Renaming over a directory fails after the data is written: the
    // temp file must go, the directory stay.
    let dir = tmp.path().join("seed.iso");
    fs::create_dir(&dir).unwrap();
    let e = write_seed_iso(&dir, &[("user-data", b"x")]).unwrap_err();
    assert!(
        e.to_string()
            .starts_with(&format!("write seed {}: ", dir.display())),
        "{e}"
    );
    assert!(dir.is_dir());
    assert_eq!(listing(tmp.path()), ["seed.iso"]);
}

#[test]
fn rewriting_replaces_the_old_image() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("seed.iso");
    fs::write(&path, b"old").unwrap();
    write_seed_iso(&path, &[("user-data", b"new contents")]).unwrap();
    let img = fs::read(&path).unwrap();
    let got = files_of(&img, &descriptor(&img, 17, 2).root, true);
    assert_eq!(got["user-data"].0, b"new contents");
    assert_eq!(listing(tmp.path()), ["seed.iso"]);
}

#[test]
fn nocloud_files_meta_user_and_netplan() {
    let files = nocloud();
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["meta-data", "user-data", "network-config"]);
    assert_eq!(files[0].1, b"instance-id: iid-web\nlocal-hostname: web\n");
    assert_eq!(files[1].1, USER_DATA);
    let want = "version: 2
ethernets:
  eth0:
    match:
      macaddress: \"52:54:00:ab:cd:01\"
    set-name: eth0
    addresses:
      - 10.20.0.5/24
    routes:
      - to: 0.0.0.0/0
        via: 10.20.0.1
    nameservers:
      addresses:
        - 10.20.0.1
        - 9.9.9.9
";
    assert_eq!(String::from_utf8(files[2].1.clone()).unwrap(), want);

    let no_dns = NetworkConfig {
        dns: vec![],
        ..net()
    };
    let files = nocloud_files(b"", "i", "h", Some(&no_dns));
    let text = String::from_utf8(files[2].1.clone()).unwrap();
    assert!(text.ends_with("        via: 10.20.0.1\n"), "{text}");

    let files = nocloud_files(b"", "1234", "yes", None);
    assert_eq!(files.len(), 2);
    assert_eq!(
        files[0].1,
        b"instance-id: \"1234\"\nlocal-hostname: \"yes\"\n"
    );
    let files = nocloud_files(b"", "a: b", "web-1.example", None);
    assert_eq!(
        files[0].1,
        b"instance-id: \"a: b\"\nlocal-hostname: web-1.example\n"
    );
}

#[test]
fn stamps() {
    let s = Stamp::from_unix(0);
    assert_eq!(&s.volume, b"1970010100000000\0");
    assert_eq!(s.record, [70, 1, 1, 0, 0, 0, 0]);
    let s = Stamp::from_unix(951_825_600 + 3723); // 2000-02-29 12:00 + 1:02:03
    assert_eq!(&s.volume, b"2000022913020300\0");
    assert_eq!(s.record, [100, 2, 29, 13, 2, 3, 0]);
    let s = Stamp::from_unix(1_735_689_599); // 2024-12-31 23:59:59
    assert_eq!(&s.volume, b"2024123123595900\0");
    let s = Stamp::from_unix(1_709_251_199); // 2024-02-29 23:59:59
    assert_eq!(s.record, [124, 2, 29, 23, 59, 59, 0]);
}

/// The host's tools and kernel (blkid, isoinfo, loop mounts, a guest).
#[path = "seed_host_tests.rs"]
mod host;
