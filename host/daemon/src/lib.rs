//! baton: the daemon. It owns the TOML config and its validation, the tokio
//! driver that runs baton-vrrp instances over baton-net's Linux I/O, the
//! control socket and `baton status`, and the network-namespace lab.

pub mod checks;
pub mod config;
pub mod control;
pub mod demo;
pub mod driver;
pub mod duration;
pub mod lab;
pub mod logging;
pub mod status;

/// Where the control socket lives unless the config or `--socket` say otherwise.
pub const DEFAULT_SOCKET: &str = "/run/baton/baton.sock";
