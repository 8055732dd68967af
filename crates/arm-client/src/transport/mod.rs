//! Transports: the only code that touches a network (or the simulator).

#[cfg(target_arch = "wasm32")]
pub mod browser;
#[cfg(not(target_arch = "wasm32"))]
pub mod tcp;
