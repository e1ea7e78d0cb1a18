//! baton-vrrp: the VRRP protocol, sans IO.
//!
//! This crate owns the wire format of VRRPv2 (RFC 3768) and VRRPv3 (RFC 9568,
//! which obsoletes RFC 5798) for IPv4 and IPv6, the per-instance state machine
//! with its timers and election rules, and a simulator that runs many routers on
//! a virtual clock. It opens no socket, reads no clock and spawns nothing: time
//! is passed in and what to do comes out, so every rule is testable on its own
//! and the daemon (host/daemon) decides how to do it.

pub mod auth;
pub mod counters;
pub mod instance;
pub mod sim;
pub mod track;
pub mod wire;

pub use auth::{AntiReplay, Hmac, HmacKey, HmacMode, HmacState, Trailer};
pub use counters::{Counters, DropCounters, DropReason};
pub use instance::{
    Action, Auth, CLAIM_TIMEOUT, Command, Config, ConfigError, Instance, MasterInfo, Reason, State,
    Transition, Transmit,
};
pub use wire::{Advert, Family, ParseOptions, RxMeta, V3Checksum, Version};
