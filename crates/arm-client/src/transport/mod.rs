//! Transports: the only code that touches a network (or the simulator).

#[cfg(target_arch = "wasm32")]
pub mod browser;
#[cfg(feature = "sim")]
pub mod sim;
#[cfg(not(target_arch = "wasm32"))]
pub mod tcp;
