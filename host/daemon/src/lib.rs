//! baton: the daemon. It owns the tokio driver that runs baton-vrrp instances
//! over baton-net's Linux I/O, the health checks, the control socket and
//! `baton status`, and the `baton lab` demo (over baton-lab's namespaces).
//! The config model and its validation are baton-config's, re-exported as
//! [`config`].

pub mod checks;
pub mod control;
pub mod demo;
pub mod driver;
pub mod logging;
pub mod status;

pub use baton_config::{self as config, DEFAULT_SOCKET, duration};
