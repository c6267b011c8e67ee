//! A small synchronous rtnetlink client: links (bridge, veth, a link's
//! kind), addresses and the default route, in the caller's network
//! namespace or in another one.
//!
//! Owns message building and the request/ack loop; what to create is decided
//! by `links`.

use std::fs::File;
use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::path::Path;

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL,
    NLM_F_REPLACE, NLM_F_REQUEST,
};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVeth, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};
use nix::sched::{setns, CloneFlags};

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum NetlinkError {
    #[error("netlink {what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("netlink {what}: bad reply: {detail}")]
    Decode { what: String, detail: String },
    #[error("enter network namespace {path}: {detail}")]
    Netns { path: String, detail: String },
}

impl NetlinkError {
    /// The errno, for callers that accept EEXIST or ENODEV.
    pub fn errno(&self) -> Option<i32> {
        match self {
            NetlinkError::Io { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }
}

/// An rtnetlink socket bound to one network namespace.
pub struct Netlink {
    sock: Socket,
    seq: u32,
}

fn io_err(what: &str) -> impl FnOnce(std::io::Error) -> NetlinkError + '_ {
    move |source| NetlinkError::Io {
        what: what.to_string(),
        source,
    }
}

impl Netlink {
    /// A socket in the caller's network namespace.
    pub fn new() -> Result<Self, NetlinkError> {
        let mut sock = Socket::new(NETLINK_ROUTE).map_err(io_err("socket"))?;
        sock.bind_auto().map_err(io_err("bind"))?;
        sock.connect(&SocketAddr::new(0, 0))
            .map_err(io_err("connect"))?;
        Ok(Netlink { sock, seq: 0 })
    }

    /// A socket in the network namespace at `path` (`/proc/PID/ns/net` or a
    /// bind-mounted file). A socket stays in the namespace it was made in,
    /// so a short-lived thread enters the namespace, makes it and ends; the
    /// caller's thread never changes namespace.
    pub fn in_netns(path: &Path) -> Result<Self, NetlinkError> {
        let netns_err = |detail: String| NetlinkError::Netns {
            path: path.display().to_string(),
            detail,
        };
        let file = File::open(path).map_err(|e| netns_err(e.to_string()))?;
        std::thread::scope(|s| {
            s.spawn(|| {
                setns(&file, CloneFlags::CLONE_NEWNET).map_err(|e| netns_err(e.to_string()))?;
                Netlink::new()
            })
            .join()
            .map_err(|_| netns_err("thread panicked".into()))?
        })
    }

    fn request(
        &mut self,
        what: &str,
        msg: RouteNetlinkMessage,
        flags: u16,
    ) -> Result<Vec<RouteNetlinkMessage>, NetlinkError> {
        self.seq = self.seq.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | NLM_F_ACK | flags;
        header.sequence_number = self.seq;
        let mut m = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(msg));
        m.finalize();
        let mut buf = vec![0u8; m.buffer_len()];
        m.serialize(&mut buf);
        self.sock.send(&buf, 0).map_err(io_err(what))?;
        let mut out = Vec::new();
        loop {
            let (data, _) = self.sock.recv_from_full().map_err(io_err(what))?;
            let mut off = 0;
            while off < data.len() {
                let reply = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&data[off..])
                    .map_err(|e| NetlinkError::Decode {
                        what: what.into(),
                        detail: e.to_string(),
                    })?;
                off += reply.header.length.max(16) as usize;
                if reply.header.sequence_number != self.seq {
                    continue;
                }
                match reply.payload {
                    NetlinkPayload::Done(_) => return Ok(out),
                    NetlinkPayload::Error(e) if e.code.is_none() => return Ok(out),
                    NetlinkPayload::Error(e) => return Err(io_err(what)(e.to_io())),
                    NetlinkPayload::InnerMessage(m) => out.push(m),
                    _ => {}
                }
            }
        }
    }

    /// Link `name`, None when there is none.
    fn get_link(&mut self, name: &str) -> Result<Option<LinkMessage>, NetlinkError> {
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::IfName(name.into()));
        let what = format!("get link {name}");
        match self.request(&what, RouteNetlinkMessage::GetLink(msg), 0) {
            Ok(replies) => Ok(replies.into_iter().find_map(|r| match r {
                RouteNetlinkMessage::NewLink(l) => Some(l),
                _ => None,
            })),
            Err(e) if e.errno() == Some(libc::ENODEV) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The index of link `name`, None when there is none.
    pub fn link_index(&mut self, name: &str) -> Result<Option<u32>, NetlinkError> {
        Ok(self.get_link(name)?.map(|l| l.header.index))
    }

    /// The index and kind (`bridge`, `veth`, `tun`…; None for a device
    /// without one, such as a physical NIC) of link `name`, None when there
    /// is none.
    pub fn link_kind(&mut self, name: &str) -> Result<Option<(u32, Option<String>)>, NetlinkError> {
        Ok(self.get_link(name)?.map(|l| {
            let kind = l.attributes.iter().find_map(|a| match a {
                LinkAttribute::LinkInfo(infos) => infos.iter().find_map(|i| match i {
                    LinkInfo::Kind(k) => Some(k.to_string()),
                    _ => None,
                }),
                _ => None,
            });
            (l.header.index, kind)
        }))
    }

    /// Link `name`'s index and alias (`IFLA_IFALIAS`, empty when
    /// unset), None when there is none.
    pub fn link_alias(&mut self, name: &str) -> Result<Option<(u32, String)>, NetlinkError> {
        Ok(self.get_link(name)?.map(|l| {
            let alias = l.attributes.iter().find_map(|a| match a {
                LinkAttribute::IfAlias(s) => Some(s.clone()),
                _ => None,
            });
            (l.header.index, alias.unwrap_or_default())
        }))
    }

    /// Sets link `index`'s alias (the kernel ignores one given at
    /// creation).
    pub fn set_alias(&mut self, index: u32, alias: &str) -> Result<(), NetlinkError> {
        let mut msg = LinkMessage::default();
        msg.header.index = index;
        msg.attributes.push(LinkAttribute::IfAlias(alias.into()));
        let what = format!("set alias of link {index}");
        self.request(&what, RouteNetlinkMessage::SetLink(msg), 0)
            .map(drop)
    }

    /// Creates a bridge (down, no address).
    pub fn add_bridge(&mut self, name: &str) -> Result<(), NetlinkError> {
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::IfName(name.into()));
        msg.attributes
            .push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(
                InfoKind::Bridge,
            )]));
        let what = format!("create bridge {name}");
        self.request(
            &what,
            RouteNetlinkMessage::NewLink(msg),
            NLM_F_CREATE | NLM_F_EXCL,
        )
        .map(drop)
    }

    /// Creates a veth pair whose peer is made directly in the namespace
    /// `peer_netns` under `peer_name` with MAC `peer_mac`.
    pub fn add_veth(
        &mut self,
        host: &str,
        peer_name: &str,
        peer_mac: [u8; 6],
        peer_netns: &File,
    ) -> Result<(), NetlinkError> {
        let mut peer = LinkMessage::default();
        peer.attributes
            .push(LinkAttribute::IfName(peer_name.into()));
        peer.attributes
            .push(LinkAttribute::Address(peer_mac.to_vec()));
        peer.attributes
            .push(LinkAttribute::NetNsFd(peer_netns.as_raw_fd()));
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::IfName(host.into()));
        msg.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Veth),
            LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer))),
        ]));
        let what = format!("create veth {host} (peer {peer_name})");
        self.request(
            &what,
            RouteNetlinkMessage::NewLink(msg),
            NLM_F_CREATE | NLM_F_EXCL,
        )
        .map(drop)
    }

    /// Sets link `index` up, and its controller (bridge) when given.
    pub fn set_up(&mut self, index: u32, master: Option<u32>) -> Result<(), NetlinkError> {
        let mut msg = LinkMessage::default();
        msg.header.index = index;
        msg.header.flags = LinkFlags::Up;
        msg.header.change_mask = LinkFlags::Up;
        if let Some(m) = master {
            msg.attributes.push(LinkAttribute::Controller(m));
        }
        let what = format!("set link {index} up");
        self.request(&what, RouteNetlinkMessage::SetLink(msg), 0)
            .map(drop)
    }

    /// Deletes link `index` (for a veth, both ends go).
    pub fn delete_link(&mut self, index: u32, name: &str) -> Result<(), NetlinkError> {
        let mut msg = LinkMessage::default();
        msg.header.index = index;
        let what = format!("delete link {name}");
        self.request(&what, RouteNetlinkMessage::DelLink(msg), 0)
            .map(drop)
    }

    /// Adds `ip/prefix` to link `index`; an existing equal address is fine.
    pub fn add_address(
        &mut self,
        index: u32,
        ip: Ipv4Addr,
        prefix: u8,
    ) -> Result<(), NetlinkError> {
        let mut msg = AddressMessage::default();
        msg.header.family = AddressFamily::Inet;
        msg.header.prefix_len = prefix;
        msg.header.index = index;
        msg.attributes.push(AddressAttribute::Local(ip.into()));
        msg.attributes.push(AddressAttribute::Address(ip.into()));
        if prefix < 31 {
            let bcast = u32::from(ip) | (u32::MAX >> prefix);
            msg.attributes
                .push(AddressAttribute::Broadcast(Ipv4Addr::from(bcast)));
        }
        let what = format!("add address {ip}/{prefix} to link {index}");
        self.request(
            &what,
            RouteNetlinkMessage::NewAddress(msg),
            NLM_F_CREATE | NLM_F_REPLACE,
        )
        .map(drop)
    }

    /// Adds the default route via `gateway` in the main table.
    pub fn add_default_route(&mut self, gateway: Ipv4Addr) -> Result<(), NetlinkError> {
        let mut msg = RouteMessage::default();
        msg.header.address_family = AddressFamily::Inet;
        msg.header.table = RouteHeader::RT_TABLE_MAIN;
        msg.header.protocol = RouteProtocol::Boot;
        msg.header.scope = RouteScope::Universe;
        msg.header.kind = RouteType::Unicast;
        msg.attributes
            .push(RouteAttribute::Gateway(RouteAddress::Inet(gateway)));
        let what = format!("add default route via {gateway}");
        self.request(
            &what,
            RouteNetlinkMessage::NewRoute(msg),
            NLM_F_CREATE | NLM_F_EXCL,
        )
        .map(drop)
    }
}
