use super::*;

#[test]
fn parses_a_query_and_answers_it() {
    let msg = query(0x1234, "Db.Example", TYPE_A, false);
    let q = parse_query(&msg).unwrap();
    assert_eq!(q.header.id, 0x1234);
    assert_eq!(q.name.as_deref(), Some("db.example"));
    assert_eq!((q.qtype, q.qclass, q.udp_size), (TYPE_A, CLASS_IN, None));
    assert_eq!(q.udp_limit(), 512);
    let ip = Ipv4Addr::new(10, 110, 0, 3);
    let r = reply(&q, Rcode::NoError, &[Answer::A(ip)], q.udp_limit());
    let h = Header::parse(&r).unwrap();
    assert!(h.is_response() && !h.truncated());
    assert_eq!((h.id, h.qdcount, h.ancount, h.rcode()), (0x1234, 1, 1, 0));
    assert_eq!(answers_a(&r), Some((0, vec![ip])));
    // The question is echoed as sent (case included).
    assert!(answers_question(&r, q.question));
    assert_eq!(&r[12..12 + q.question.len()], q.question);
}

#[test]
fn edns_size_and_opt_in_the_reply() {
    let msg = query(7, "web", TYPE_AAAA, true);
    let q = parse_query(&msg).unwrap();
    assert_eq!(q.udp_size, Some(4096));
    assert_eq!(q.udp_limit(), usize::from(EDNS_PAYLOAD));
    let r = reply(&q, Rcode::NoError, &[], q.udp_limit());
    let h = Header::parse(&r).unwrap();
    assert_eq!((h.ancount, h.arcount), (0, 1));
    assert_eq!(parse_query(&msg).unwrap().name.as_deref(), Some("web"));
}

#[test]
fn too_many_answers_truncate() {
    let msg = query(9, "many", TYPE_A, false);
    let q = parse_query(&msg).unwrap();
    let all: Vec<Answer> = (0..40)
        .map(|i| Answer::A(Ipv4Addr::new(10, 0, 0, i)))
        .collect();
    let r = reply(&q, Rcode::NoError, &all, q.udp_limit());
    let h = Header::parse(&r).unwrap();
    assert!(h.truncated());
    assert_eq!(h.ancount, 0);
    let r = reply(&q, Rcode::NoError, &all, 65535);
    assert_eq!(answers_a(&r).unwrap().1.len(), 40);
}

#[test]
fn ptr_names_and_answers() {
    assert_eq!(
        ptr_v4("3.0.110.10.in-addr.arpa"),
        Some(Ipv4Addr::new(10, 110, 0, 3))
    );
    assert_eq!(ptr_v4("3.0.110.in-addr.arpa"), None);
    assert_eq!(ptr_v4("300.0.110.10.in-addr.arpa"), None);
    let msg = query(1, "3.0.110.10.in-addr.arpa", TYPE_PTR, false);
    let q = parse_query(&msg).unwrap();
    let r = reply(&q, Rcode::NoError, &[Answer::Ptr("db.n1".into())], 512);
    assert!(r.ends_with(&[2, b'd', b'b', 2, b'n', b'1', 0]));
}

#[test]
fn odd_names_are_not_local() {
    let mut msg = query(1, "a", TYPE_A, false);
    msg[13] = b'*';
    assert_eq!(parse_query(&msg).unwrap().name, None);
    let root = query(1, "", TYPE_A, false);
    assert_eq!(parse_query(&root).unwrap().name.as_deref(), Some(""));
}

#[test]
fn hostile_packets_are_errors() {
    assert_eq!(parse_query(&[0; 5]), Err(WireError::Short));
    let mut resp = query(1, "x", TYPE_A, false);
    resp[2] |= 0x80;
    assert_eq!(parse_query(&resp), Err(WireError::NotQuery));
    // A pointer to itself, and a forward pointer.
    let mut h = query(1, "", TYPE_A, false);
    h.truncate(12);
    let mut looped = h.clone();
    looped.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
    assert_eq!(parse_query(&looped), Err(WireError::BadName));
    let mut fwd = h.clone();
    fwd.extend_from_slice(&[0xc0, 20, 0, 1, 0, 1]);
    assert_eq!(parse_query(&fwd), Err(WireError::BadName));
    // A backward loop: label "a", then a pointer back to it.
    let mut back = h.clone();
    back.extend_from_slice(&[1, b'a', 0xc0, 12, 0, 1, 0, 1]);
    assert!(parse_query(&back).is_err());
    // A pointer into the header (found by cargo-fuzz: the echoed
    // question read differently after the reply's header).
    let mut into_header = h.clone();
    into_header.extend_from_slice(&[2, 0, 0, 0xc0, 3, 0, 1, 0, 1]);
    assert_eq!(parse_query(&into_header), Err(WireError::BadName));
    // A pointer back into a label whose run goes on past the pointer (found
    // by cargo-fuzz: the name read bytes after the question).
    let mut past = h.clone();
    past.extend_from_slice(&[2, 1, b'b', 0xc0, 13, 0, 1, 0, 1]);
    assert_eq!(parse_query(&past), Err(WireError::Short));
    // A label running past the end, a reserved label type.
    let mut long = h.clone();
    long.extend_from_slice(&[40, b'a']);
    assert_eq!(parse_query(&long), Err(WireError::Short));
    let mut reserved = h;
    reserved.extend_from_slice(&[0x40, 0, 0, 1, 0, 1]);
    assert_eq!(parse_query(&reserved), Err(WireError::BadName));
}

#[test]
fn random_bytes_never_panic() {
    // xorshift: a fixed sequence of messages, mutations of a real query
    // and plain noise.
    let mut s: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let base = query(5, "some.name.test", TYPE_A, true);
    for round in 0..20_000 {
        let mut m = if round % 2 == 0 {
            base.clone()
        } else {
            let n = (next() % 80) as usize;
            (0..n).map(|_| next() as u8).collect()
        };
        for _ in 0..(next() % 6) {
            if !m.is_empty() {
                let i = (next() as usize) % m.len();
                m[i] = next() as u8;
            }
        }
        if let Ok(q) = parse_query(&m) {
            let r = reply(&q, Rcode::NoError, &[Answer::A(Ipv4Addr::LOCALHOST)], 512);
            assert!(answers_question(&r, q.question));
        }
        let _ = answers_a(&m);
        let _ = id_of(&m);
    }
}

#[test]
fn ids_and_error_replies() {
    let mut msg = query(1, "x", TYPE_A, false);
    set_id(&mut msg, 0xbeef);
    assert_eq!(id_of(&msg), Some(0xbeef));
    let h = Header::parse(&msg).unwrap();
    let r = error_reply(&h, Rcode::FormErr);
    let rh = Header::parse(&r).unwrap();
    assert_eq!((rh.id, rh.rcode(), rh.qdcount), (0xbeef, 1, 0));
    assert!(!answers_question(&r, b"\x01x\x00\x00\x01\x00\x01"));
}
