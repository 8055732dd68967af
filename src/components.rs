pub mod copy;
pub mod error;
pub mod footer;
pub mod grant;
pub mod header;
pub mod review;
pub mod scenario_list;
pub mod signin;
