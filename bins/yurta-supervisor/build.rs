//! Links yurta-supervisor statically (static-pie): see yurta-static-link.
//! `YURTA_SUPERVISOR_DYNAMIC=1` builds it dynamically.

fn main() {
    yurta_static_link::link_statically("YURTA_SUPERVISOR_DYNAMIC");
}
