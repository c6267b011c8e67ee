//! Resource usage statistics, serialised with the field names of runc's `events --stats` JSON
//! (zero-valued fields that runc omits are omitted here too), and parsers shared by v1 and v2.

use std::collections::BTreeMap;

use serde::Serialize;

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// Everything `stats()` reports.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Stats {
    pub cpu: CpuStats,
    pub memory: MemoryStats,
    pub pids: PidsStats,
    pub blkio: BlkioStats,
    pub hugetlb: BTreeMap<String, HugetlbStats>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CpuStats {
    pub usage: CpuUsage,
    pub throttling: Throttling,
}

/// CPU time in nanoseconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CpuUsage {
    #[serde(skip_serializing_if = "is_zero")]
    pub total: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub percpu: Vec<u64>,
    pub kernel: u64,
    pub user: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Throttling {
    #[serde(skip_serializing_if = "is_zero")]
    pub periods: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub throttled_periods: u64,
    /// Nanoseconds.
    #[serde(skip_serializing_if = "is_zero")]
    pub throttled_time: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct MemoryStats {
    #[serde(skip_serializing_if = "is_zero")]
    pub cache: u64,
    pub usage: MemoryEntry,
    pub swap: MemoryEntry,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub raw: BTreeMap<String, u64>,
}

/// Bytes; `limit` is `u64::MAX`-ish when unlimited, as the kernel reports it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct MemoryEntry {
    pub limit: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub usage: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub max: u64,
    pub failcnt: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PidsStats {
    #[serde(skip_serializing_if = "is_zero")]
    pub current: u64,
    /// 0 when unlimited.
    #[serde(skip_serializing_if = "is_zero")]
    pub limit: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BlkioStats {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub io_service_bytes_recursive: Vec<BlkioEntry>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub io_serviced_recursive: Vec<BlkioEntry>,
}

/// Bytes (or operations) read and written, summed over the devices of
/// `entries` ("Read" and "Write" entries; "Sync", "Total", ... ignored).
pub fn read_write(entries: &[BlkioEntry]) -> (u64, u64) {
    entries
        .iter()
        .fold((0, 0), |(r, w), e| match e.op.as_str() {
            "Read" => (r + e.value, w),
            "Write" => (r, w + e.value),
            _ => (r, w),
        })
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BlkioEntry {
    pub major: u64,
    pub minor: u64,
    pub op: String,
    pub value: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct HugetlbStats {
    #[serde(skip_serializing_if = "is_zero")]
    pub usage: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub max: u64,
    pub failcnt: u64,
}

fn dev(s: &str) -> Option<(u64, u64)> {
    let (maj, min) = s.split_once(':')?;
    Some((maj.parse().ok()?, min.parse().ok()?))
}

/// v1 blkio.*_recursive: "8:0 Read 4096" lines (the "Total" line is skipped).
pub fn parse_blkio_v1(text: &str) -> Vec<BlkioEntry> {
    text.lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let (major, minor) = dev(it.next()?)?;
            let op = it.next()?.to_string();
            let value = it.next()?.parse().ok()?;
            Some(BlkioEntry {
                major,
                minor,
                op,
                value,
            })
        })
        .collect()
}

/// v2 io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 ..." to (bytes, serviced) entries.
pub fn parse_io_stat(text: &str) -> BlkioStats {
    let mut out = BlkioStats::default();
    for line in text.lines() {
        let mut it = line.split_whitespace();
        let Some((major, minor)) = it.next().and_then(dev) else {
            continue;
        };
        for kv in it {
            let Some((k, v)) = kv.split_once('=') else {
                continue;
            };
            let Ok(value) = v.parse() else { continue };
            let (list, op) = match k {
                "rbytes" => (&mut out.io_service_bytes_recursive, "Read"),
                "wbytes" => (&mut out.io_service_bytes_recursive, "Write"),
                "rios" => (&mut out.io_serviced_recursive, "Read"),
                "wios" => (&mut out.io_serviced_recursive, "Write"),
                _ => continue,
            };
            list.push(BlkioEntry {
                major,
                minor,
                op: op.to_string(),
                value,
            });
        }
    }
    out
}

/// All "key value" pairs of a flat-keyed file (memory.stat).
pub(crate) fn parse_flat(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(' ')?;
            Some((k.to_string(), v.trim().parse().ok()?))
        })
        .collect()
}

/// File names of the hugetlb controller: v1 and v2 differ.
pub(crate) struct HugetlbFiles {
    pub limit: &'static str,
    pub usage: &'static str,
    pub max: Option<&'static str>,
    /// A plain counter file (v1), or the "max" key of a keyed events file (v2).
    pub failcnt: (&'static str, bool),
}

pub(crate) const HUGETLB_V1: HugetlbFiles = HugetlbFiles {
    limit: "limit_in_bytes",
    usage: "usage_in_bytes",
    max: Some("max_usage_in_bytes"),
    failcnt: ("failcnt", false),
};

pub(crate) const HUGETLB_V2: HugetlbFiles = HugetlbFiles {
    limit: "max",
    usage: "current",
    max: None,
    failcnt: ("events", true),
};

fn read_or_empty(path: &std::path::Path) -> Result<String, crate::CgroupError> {
    if path.exists() {
        crate::fsutil::read_string(path)
    } else {
        Ok(String::new())
    }
}

/// hugetlb.<size>.* statistics for every page size the directory offers.
pub(crate) fn hugetlb_stats(
    dir: &std::path::Path,
    files: &HugetlbFiles,
) -> Result<BTreeMap<String, HugetlbStats>, crate::CgroupError> {
    use crate::fsutil::{keyed_value, read_u64_opt};
    let mut out = BTreeMap::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Ok(out);
    };
    let suffix = format!(".{}", files.limit);
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(size) = name
            .strip_prefix("hugetlb.")
            .and_then(|n| n.strip_suffix(&suffix))
        else {
            continue;
        };
        if size.contains('.') {
            continue; // hugetlb.<size>.rsvd.*
        }
        let f = |s: &str| dir.join(format!("hugetlb.{size}.{s}"));
        let failcnt = match files.failcnt {
            (name, true) => keyed_value(&read_or_empty(&f(name))?, "max").unwrap_or(0),
            (name, false) => read_u64_opt(&f(name))?,
        };
        let max = files.max.map_or(Ok(0), |m| read_u64_opt(&f(m)))?;
        let usage = read_u64_opt(&f(files.usage))?;
        out.insert(
            size.to_string(),
            HugetlbStats {
                usage,
                max,
                failcnt,
            },
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_and_written_bytes_from_both_cgroup_versions() {
        let v1 = "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Total 12288\n\
                  8:16 Read 100\n8:16 Write 0\nTotal 12388\n";
        assert_eq!(read_write(&parse_blkio_v1(v1)), (4196, 8192));
        let v2 = "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n\
                  8:16 rbytes=100 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n";
        let io = parse_io_stat(v2);
        assert_eq!(read_write(&io.io_service_bytes_recursive), (4196, 8192));
        assert_eq!(read_write(&io.io_serviced_recursive), (2, 2));
        assert_eq!(
            read_write(&parse_io_stat("").io_service_bytes_recursive),
            (0, 0)
        );
    }

    #[test]
    fn json_field_names_match_runc() {
        let mut s = Stats::default();
        s.cpu.usage.total = 5;
        s.memory.usage = MemoryEntry {
            limit: 9,
            usage: 3,
            max: 0,
            failcnt: 0,
        };
        s.pids = PidsStats {
            current: 2,
            limit: 16,
        };
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["cpu"]["usage"]["total"], 5);
        assert_eq!(v["memory"]["usage"]["usage"], 3);
        assert_eq!(v["memory"]["usage"]["limit"], 9);
        assert!(v["memory"]["usage"].get("max").is_none());
        assert_eq!(v["pids"]["current"], 2);
        assert_eq!(v["pids"]["limit"], 16);
        assert!(v["blkio"].get("ioServiceBytesRecursive").is_none());
    }

    #[test]
    fn blkio_parsers() {
        let v1 = parse_blkio_v1("8:0 Read 4096\n8:0 Write 8\nTotal 4104\n");
        assert_eq!(v1.len(), 2);
        assert_eq!(
            v1[0],
            BlkioEntry {
                major: 8,
                minor: 0,
                op: "Read".into(),
                value: 4096
            }
        );
        let v2 = parse_io_stat("254:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n");
        assert_eq!(v2.io_service_bytes_recursive[1].value, 20);
        assert_eq!(v2.io_serviced_recursive[0].op, "Read");
        assert_eq!(v2.io_serviced_recursive.len(), 2);
    }

    #[test]
    fn flat() {
        let m = parse_flat("cache 10\nrss 20\nbad\n");
        assert_eq!(m.get("rss"), Some(&20));
        assert_eq!(m.len(), 2);
    }
}
