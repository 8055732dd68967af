//! identity-core: the pure heart of identity-wizard.
//!
//! No web, no async, no I/O: ARM resource ids, the identity model, lossless change plans,
//! equivalent scripts and wizard state. Tested natively.

pub mod api_versions;
pub mod catalogue;
pub mod request;
pub mod scripts;

pub use request::{ArmRequest, Method};
