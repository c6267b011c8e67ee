//! The crate's test kit (feature `testkit`), as the tests' `common`.

pub use yurta_vm::testkit::*;
