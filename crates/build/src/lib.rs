//! The Dockerfile/Containerfile language for `yurta build`: from the text
//! of a Dockerfile and a build context to a validated build plan.
//!
//! This crate is pure logic. It owns parsing ([`parser`]), word expansion
//! ([`lex`]), stages with their ARG scoping and platforms ([`mod@plan`],
//! [`platform`]), the stage graph ([`graph`]), `.dockerignore`
//! ([`ignore`]), resolving COPY/ADD sources in the context ([`context`])
//! and step cache keys ([`cache`]). It does not run anything, pull images
//! or write layers: the executor (built on yurta-runtime and yurta-images)
//! does, from the [`plan::Plan`] this crate produces.

pub mod ast;
pub mod cache;
pub mod context;
pub mod error;
pub mod graph;
pub mod ignore;
pub mod lex;
pub mod mount;
pub mod parser;
pub mod plan;
pub mod platform;

pub use ast::{Dockerfile, Instruction, Kind};
pub use error::DockerfileError;
pub use parser::{parse, parse_trigger};
pub use plan::{plan, Plan, PlanOptions};
pub use platform::Platform;
