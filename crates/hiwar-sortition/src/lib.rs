//! Fair, verifiable selection of delegates: pools and quotas ([`pool`]), leximin panel
//! distributions ([`leximin`]), the legacy greedy procedure for comparison
//! ([`legacy`]), and the transparent lottery with its manifest, draw and verification
//! ([`lottery`]), and generated pools for tests and benchmarks ([`synthetic`]). Takes
//! text and plain data, does no I/O.

mod decompose;
mod instance;
pub mod legacy;
pub mod leximin;
pub mod lottery;
pub mod pool;
mod relax;
mod search;
pub mod solver;
pub mod synthetic;

/// What can go wrong, each naming where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error("{file}: line {line}, column {column}: {message}")]
    Csv { file: String, line: usize, column: usize, message: String },
    #[error("infeasible: {0}")]
    Infeasible(String),
    #[error("solver: {0}")]
    Solver(String),
    #[error("manifest: {0}")]
    Manifest(String),
    #[error("draw: {0}")]
    Draw(String),
}

impl Error {
    pub(crate) fn csv(file: &str, line: usize, column: usize, message: &str) -> Self {
        Error::Csv { file: file.into(), line, column, message: message.into() }
    }
}
