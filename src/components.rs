pub mod footer;
pub mod header;
pub mod scenario_list;
pub mod signin;
