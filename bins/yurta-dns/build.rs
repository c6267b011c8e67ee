//! Links yurta-dns statically (static-pie), as yurta-supervisor: one
//! resolver runs per state root for as long as containers use user
//! networks, so its resident memory matters. `YURTA_DNS_DYNAMIC=1` builds
//! it dynamically.

fn main() {
    yurta_static_link::link_statically("YURTA_DNS_DYNAMIC");
}
