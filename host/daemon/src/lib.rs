//! baton: the daemon and its command line. It owns the tokio driver that
//! feeds the node (baton-node) time, packets, link events and results and
//! has [`io`] carry out its effects on Linux (baton-net, baton-policy), policy
//! loading, `baton policy test` (with [`scenario`], the offline test kit) and
//! `baton policy new` ([`scaffold`]), `baton policy push`, `pull` and
//! `inspect` ([`oci_cmd`], over baton-oci),
//! the notification sinks ([`sinks`]: SMTP,
//! webhooks, notify commands, the transition hook) and `baton notify test`,
//! the control socket, logging, and the
//! `baton lab` demo (over baton-lab's namespaces). The config is
//! baton-config's (re-exported as [`config`]); the status, baton-node's.

pub mod checks;
pub mod control;
pub mod demo;
pub mod driver;
pub mod hook;
pub mod io;
pub mod logging;
pub mod notify_cmd;
pub mod oci_cmd;
pub mod scaffold;
pub mod scenario;
pub mod sinks;

pub use baton_config::{self as config, DEFAULT_SOCKET, duration};
pub use baton_node::status;
