//! Registry client (work in progress, issue 3).
