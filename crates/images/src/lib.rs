//! Image store (work in progress, issue 3).
