//! The public record of a dialogue: one canonical-JSON line per public event, each
//! carrying the hash of the line before it and an Ed25519 signature by the dialogue's
//! key. This crate writes lines ([`Event::seal`]) and checks whole records
//! ([`verify()`]); it does no I/O. The format is specified in `docs/record-spec.md`.
//!
//! Security property: given the dialogue key (pinned out of band, or taken from the
//! first line), nobody without the signing key can produce a record that verifies and
//! differs from the one the key holder wrote; and the key holder itself cannot change,
//! drop or reorder a line that someone already holds without [`verify()`] against
//! that earlier copy (check R10) or against the published head hash failing.

pub mod canonical;
pub mod checks;
pub mod declaration;
pub mod election;
pub mod events;
pub mod fingerprint;
pub mod line;
pub mod selection;
pub mod verify;
pub mod witness;

pub use line::{format_time, line_hash, now_rfc3339, Event, SealedLine, GENESIS_PREV};
pub use verify::{verify, verify_stream, Failure, Hooks, Options, Stopped, Summary, CHECKS};
