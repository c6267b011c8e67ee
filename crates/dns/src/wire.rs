//! DNS messages (RFC 1035, EDNS from RFC 6891) as far as the resolver
//! needs them: a query's header and question (with its EDNS payload
//! size), the answers it gives itself (A, PTR, empty), and the few header
//! fields it rewrites when it forwards a query and relays the reply.
//!
//! Every function takes hostile bytes: lengths are checked before each
//! read, compression pointers must point backwards (no loops), names are
//! at most 255 bytes; a bad packet is an error, never a panic.

use std::net::Ipv4Addr;

pub const TYPE_A: u16 = 1;
pub const TYPE_PTR: u16 = 12;
pub const TYPE_AAAA: u16 = 28;
pub const TYPE_OPT: u16 = 41;
pub const TYPE_ANY: u16 = 255;
pub const CLASS_IN: u16 = 1;
pub const CLASS_ANY: u16 = 255;

/// The header's length.
pub const HEADER_LEN: usize = 12;
/// What a UDP reply may hold without EDNS.
pub const UDP_LIMIT: usize = 512;
/// The EDNS payload size the resolver announces and accepts at most.
pub const EDNS_PAYLOAD: u16 = 1232;
/// The time to live of the resolver's own answers (Docker's).
pub const TTL: u32 = 600;

const FLAG_QR: u16 = 0x8000;
const FLAG_AA: u16 = 0x0400;
const FLAG_TC: u16 = 0x0200;
const FLAG_RD: u16 = 0x0100;
const FLAG_RA: u16 = 0x0080;
const MAX_NAME: usize = 255;
const MAX_JUMPS: usize = 64;

/// Response codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rcode {
    NoError = 0,
    FormErr = 1,
    ServFail = 2,
    NxDomain = 3,
    NotImp = 4,
    Refused = 5,
}

/// Why a packet was not understood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("message ends early")]
    Short,
    #[error("bad name")]
    BadName,
    #[error("not a query")]
    NotQuery,
}

/// The fixed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub id: u16,
    pub flags: u16,
    pub qdcount: u16,
    pub ancount: u16,
    pub nscount: u16,
    pub arcount: u16,
}

impl Header {
    pub fn parse(buf: &[u8]) -> Result<Header, WireError> {
        if buf.len() < HEADER_LEN {
            return Err(WireError::Short);
        }
        let w = |i: usize| u16::from_be_bytes([buf[i], buf[i + 1]]);
        Ok(Header {
            id: w(0),
            flags: w(2),
            qdcount: w(4),
            ancount: w(6),
            nscount: w(8),
            arcount: w(10),
        })
    }

    pub fn is_response(&self) -> bool {
        self.flags & FLAG_QR != 0
    }

    pub fn opcode(&self) -> u16 {
        (self.flags >> 11) & 0xf
    }

    pub fn rcode(&self) -> u16 {
        self.flags & 0xf
    }

    pub fn truncated(&self) -> bool {
        self.flags & FLAG_TC != 0
    }

    fn write(&self, out: &mut Vec<u8>) {
        for v in [
            self.id,
            self.flags,
            self.qdcount,
            self.ancount,
            self.nscount,
            self.arcount,
        ] {
            out.extend_from_slice(&v.to_be_bytes());
        }
    }
}

/// A query with one question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query<'a> {
    pub header: Header,
    /// The name in lower case without the final dot, when each label is a
    /// host name label (letters, digits, `-`, `_`); None for other names,
    /// which are never local.
    pub name: Option<String>,
    pub qtype: u16,
    pub qclass: u16,
    /// The question's bytes as sent (name, type, class), echoed in replies.
    pub question: &'a [u8],
    /// The EDNS payload size, when the query has an OPT record.
    pub udp_size: Option<u16>,
}

impl Query<'_> {
    /// The largest reply the client takes over UDP.
    pub fn udp_limit(&self) -> usize {
        match self.udp_size {
            Some(n) => usize::from(n.clamp(UDP_LIMIT as u16, EDNS_PAYLOAD)),
            None => UDP_LIMIT,
        }
    }
}

/// Parses a query: a standard or other opcode, exactly one question.
pub fn parse_query(buf: &[u8]) -> Result<Query<'_>, WireError> {
    let header = Header::parse(buf)?;
    if header.is_response() || header.qdcount != 1 {
        return Err(WireError::NotQuery);
    }
    let (labels, end) = read_name(buf, HEADER_LEN)?;
    let fixed = buf.get(end..end + 4).ok_or(WireError::Short)?;
    let qtype = u16::from_be_bytes([fixed[0], fixed[1]]);
    let qclass = u16::from_be_bytes([fixed[2], fixed[3]]);
    let question = &buf[HEADER_LEN..end + 4];
    let mut pos = end + 4;
    for _ in 0..u32::from(header.ancount) + u32::from(header.nscount) {
        pos = skip_record(buf, pos)?.0;
    }
    let mut udp_size = None;
    for _ in 0..header.arcount {
        let (next, rtype, class) = skip_record(buf, pos)?;
        if rtype == TYPE_OPT {
            udp_size = Some(class);
        }
        pos = next;
    }
    Ok(Query {
        header,
        name: host_name(&labels),
        qtype,
        qclass,
        question,
        udp_size,
    })
}

/// The labels of the name at `start` (pointers followed) and the offset
/// just after it in the message. After a pointer, everything read lies
/// before that pointer: a name never reads bytes after itself, so that a
/// question echoed into a reply reads the same there.
fn read_name(buf: &[u8], start: usize) -> Result<(Vec<&[u8]>, usize), WireError> {
    let mut labels = Vec::new();
    let (mut pos, mut end, mut total, mut jumps) = (start, None, 0usize, 0);
    let mut limit = buf.len();
    loop {
        let within = &buf[..limit];
        let len = *within.get(pos).ok_or(WireError::Short)? as usize;
        match len & 0xc0 {
            0x00 if len == 0 => {
                return Ok((labels, end.unwrap_or(pos + 1)));
            }
            0x00 => {
                let label = within.get(pos + 1..pos + 1 + len).ok_or(WireError::Short)?;
                total += len + 1;
                if total > MAX_NAME {
                    return Err(WireError::BadName);
                }
                labels.push(label);
                pos += len + 1;
            }
            0xc0 => {
                let low = *within.get(pos + 1).ok_or(WireError::Short)? as usize;
                let target = ((len & 0x3f) << 8) | low;
                jumps += 1;
                // Only backwards (no loops), at most MAX_JUMPS of them, and
                // never into the header: a question echoed after another
                // header must still read the same.
                if target >= pos || target < HEADER_LEN || jumps > MAX_JUMPS {
                    return Err(WireError::BadName);
                }
                end.get_or_insert(pos + 2);
                limit = pos;
                pos = target;
            }
            _ => return Err(WireError::BadName),
        }
    }
}

/// Skips a resource record; the offset after it, its type and class.
fn skip_record(buf: &[u8], pos: usize) -> Result<(usize, u16, u16), WireError> {
    let (_, end) = read_name(buf, pos)?;
    let fixed = buf.get(end..end + 10).ok_or(WireError::Short)?;
    let rtype = u16::from_be_bytes([fixed[0], fixed[1]]);
    let class = u16::from_be_bytes([fixed[2], fixed[3]]);
    let rdlen = usize::from(u16::from_be_bytes([fixed[8], fixed[9]]));
    let next = end + 10 + rdlen;
    if next > buf.len() {
        return Err(WireError::Short);
    }
    Ok((next, rtype, class))
}

/// `labels` as a lower-case dotted name if every label is a host name
/// label; the root name is "".
fn host_name(labels: &[&[u8]]) -> Option<String> {
    let plain = |l: &&[u8]| {
        !l.is_empty()
            && l.iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
    };
    if !labels.iter().all(plain) {
        return None;
    }
    let parts: Vec<String> = labels
        .iter()
        .map(|l| String::from_utf8_lossy(l).to_ascii_lowercase())
        .collect();
    Some(parts.join("."))
}

/// An answer the resolver gives itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    A(Ipv4Addr),
    /// A name without the final dot.
    Ptr(String),
}

/// The reply to `q` with `answers` (owner: the question's name). Replies
/// larger than `limit` are truncated (TC set, no answers) so that the
/// client asks again over TCP.
pub fn reply(q: &Query, rcode: Rcode, answers: &[Answer], limit: usize) -> Vec<u8> {
    let mut out = reply_with(q, rcode, answers);
    if out.len() > limit {
        out = reply_with(q, rcode, &[]);
        out[2] |= (FLAG_TC >> 8) as u8;
    }
    out
}

fn reply_with(q: &Query, rcode: Rcode, answers: &[Answer]) -> Vec<u8> {
    let mut flags = FLAG_QR | (q.header.opcode() << 11) | FLAG_RA | (q.header.flags & FLAG_RD);
    if rcode == Rcode::NoError || rcode == Rcode::NxDomain {
        flags |= FLAG_AA;
    }
    let header = Header {
        id: q.header.id,
        flags: flags | rcode as u16,
        qdcount: 1,
        ancount: answers.len() as u16,
        nscount: 0,
        arcount: u16::from(q.udp_size.is_some()),
    };
    let mut out = Vec::with_capacity(HEADER_LEN + q.question.len() + 16 * answers.len() + 11);
    header.write(&mut out);
    out.extend_from_slice(q.question);
    for a in answers {
        // The owner is the question's name: a pointer to offset 12.
        out.extend_from_slice(&[0xc0, HEADER_LEN as u8]);
        let (rtype, rdata) = match a {
            Answer::A(ip) => (TYPE_A, ip.octets().to_vec()),
            Answer::Ptr(name) => (TYPE_PTR, encode_name(name)),
        };
        out.extend_from_slice(&rtype.to_be_bytes());
        out.extend_from_slice(&CLASS_IN.to_be_bytes());
        out.extend_from_slice(&TTL.to_be_bytes());
        out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        out.extend_from_slice(&rdata);
    }
    if q.udp_size.is_some() {
        // OPT: root owner, our payload size, no extended flags.
        out.push(0);
        out.extend_from_slice(&TYPE_OPT.to_be_bytes());
        out.extend_from_slice(&EDNS_PAYLOAD.to_be_bytes());
        out.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    }
    out
}

/// A header-only reply (for a query whose question could not be read).
pub fn error_reply(h: &Header, rcode: Rcode) -> Vec<u8> {
    let header = Header {
        id: h.id,
        flags: FLAG_QR | (h.opcode() << 11) | FLAG_RA | (h.flags & FLAG_RD) | rcode as u16,
        qdcount: 0,
        ancount: 0,
        nscount: 0,
        arcount: 0,
    };
    let mut out = Vec::with_capacity(HEADER_LEN);
    header.write(&mut out);
    out
}

/// A name's labels; `name` is made of host name labels (from a record).
fn encode_name(name: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(name.len() + 2);
    for label in name.split('.').filter(|l| !l.is_empty()) {
        let label = &label.as_bytes()[..label.len().min(63)];
        out.push(label.len() as u8);
        out.extend_from_slice(label);
    }
    out.push(0);
    out
}

/// Replaces the message's id (forwarding: the upstream sees our id).
pub fn set_id(msg: &mut [u8], id: u16) {
    if msg.len() >= 2 {
        msg[..2].copy_from_slice(&id.to_be_bytes());
    }
}

/// The message's id; None when it is shorter than a header.
pub fn id_of(msg: &[u8]) -> Option<u16> {
    Header::parse(msg).ok().map(|h| h.id)
}

/// Whether `resp` answers the question `question` (the bytes of the
/// forwarded query's question): a response with that one question,
/// compared without regard to case (servers may echo another case).
pub fn answers_question(resp: &[u8], question: &[u8]) -> bool {
    let Ok(h) = Header::parse(resp) else {
        return false;
    };
    let echoed = resp.get(HEADER_LEN..HEADER_LEN + question.len());
    h.is_response() && h.qdcount == 1 && echoed.is_some_and(|e| e.eq_ignore_ascii_case(question))
}

/// The address a `d.c.b.a.in-addr.arpa` name asks about.
pub fn ptr_v4(name: &str) -> Option<Ipv4Addr> {
    let rest = name.strip_suffix(".in-addr.arpa")?;
    let parts: Vec<u8> = rest
        .split('.')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    match parts.as_slice() {
        [d, c, b, a] => Some(Ipv4Addr::new(*a, *b, *c, *d)),
        _ => None,
    }
}

/// A query for tests and for the resolver's own checks: `name` with type
/// `qtype`, recursion desired, optionally with an OPT record.
pub fn query(id: u16, name: &str, qtype: u16, edns: bool) -> Vec<u8> {
    let mut out = Vec::new();
    Header {
        id,
        flags: FLAG_RD,
        qdcount: 1,
        ancount: 0,
        nscount: 0,
        arcount: u16::from(edns),
    }
    .write(&mut out);
    out.extend_from_slice(&encode_name(name));
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&CLASS_IN.to_be_bytes());
    if edns {
        out.push(0);
        out.extend_from_slice(&TYPE_OPT.to_be_bytes());
        out.extend_from_slice(&4096u16.to_be_bytes());
        out.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    }
    out
}

/// The A records of a reply (for tests and checks); None when it does
/// not parse.
pub fn answers_a(resp: &[u8]) -> Option<(u16, Vec<Ipv4Addr>)> {
    let h = Header::parse(resp).ok()?;
    let mut pos = HEADER_LEN;
    for _ in 0..h.qdcount {
        let (_, end) = read_name(resp, pos).ok()?;
        pos = end + 4;
    }
    let mut ips = Vec::new();
    for _ in 0..h.ancount {
        let (next, rtype, _) = skip_record(resp, pos).ok()?;
        if rtype == TYPE_A && next >= 4 {
            let b = resp.get(next - 4..next)?;
            ips.push(Ipv4Addr::new(b[0], b[1], b[2], b[3]));
        }
        pos = next;
    }
    Some((h.rcode(), ips))
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
