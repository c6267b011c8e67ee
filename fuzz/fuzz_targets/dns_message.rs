//! DNS messages as the embedded resolver reads them
//! (`yurta_resolver::wire`): queries from containers, replies from servers.
//!
//! Invariants: no panic; a parsed query's question is the bytes after the
//! header; the resolver's reply to it is a response with the question
//! echoed, within the client's UDP limit (or truncated), and its A records
//! read back; a reply is never taken for a query; the forwarding checks
//! (`answers_question`, `id_of`, `set_id`) take any bytes.

#![no_main]

use std::net::Ipv4Addr;

use libfuzzer_sys::fuzz_target;
use yurta_resolver::wire::{self, Answer, Rcode};

fuzz_target!(|data: &[u8]| {
    let _ = wire::answers_a(data);
    let _ = wire::id_of(data);
    let _ = wire::answers_question(data, data.get(12..).unwrap_or_default());
    let mut copy = data.to_vec();
    wire::set_id(&mut copy, 0x1234);
    let Ok(q) = wire::parse_query(data) else {
        return;
    };
    assert_eq!(&data[12..12 + q.question.len()], q.question);
    let ips: Vec<Answer> = (0..(data.len() % 50) as u8)
        .map(|i| Answer::A(Ipv4Addr::new(10, 0, 0, i)))
        .collect();
    let limit = q.udp_limit();
    let r = wire::reply(&q, Rcode::NoError, &ips, limit);
    let h = wire::Header::parse(&r).expect("a reply has a header");
    assert!(h.is_response() && h.id == q.header.id);
    assert!(wire::answers_question(&r, q.question));
    assert!(r.len() <= limit || q.question.len() + 12 + 11 > limit, "{} > {limit}", r.len());
    let (rcode, got) = wire::answers_a(&r).expect("a reply reads back");
    assert_eq!(rcode, 0);
    assert!(h.truncated() || got.len() == ips.len());
    assert!(wire::parse_query(&r).is_err(), "a reply is not a query");
    if let Some(name) = &q.name {
        let ptr = wire::reply(&q, Rcode::NoError, &[Answer::Ptr(name.clone())], 65535);
        assert!(wire::answers_question(&ptr, q.question));
    }
});
