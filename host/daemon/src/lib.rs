//! baton: the daemon. It owns the TOML config and its validation, the tokio
//! driver that runs baton-vrrp instances over baton-net's Linux I/O, the
//! control socket and `baton status`, and the network-namespace lab.

pub mod checks;
pub mod control;
pub mod demo;
pub mod driver;
pub mod lab;
pub mod logging;
pub mod status;

pub use baton_config::{self as config, DEFAULT_SOCKET, duration};
