pub mod create;
pub mod home;
pub mod log;
pub mod pickers;
pub mod resource;
pub mod snippets;
pub mod wizard;
