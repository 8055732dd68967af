pub mod copy;
pub mod error;
pub mod footer;
pub mod header;
pub mod retry;
pub mod review;
pub mod scenario_list;
pub mod signin;
