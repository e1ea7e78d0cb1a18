//! baton-notify: what Baton tells people about, sans IO.
//!
//! It owns the notice document every sink is fed from ([`Notice`],
//! versioned: [`SCHEMA`]), how a notice reads as mail (subjects in
//! keepalived's shape, so existing mail filters keep working), and the
//! delivery discipline of each sink ([`Outbox`]): a bounded queue, one
//! delivery in flight at a time (so a sink sees events in order), retries
//! with backoff up to a deadline, and coalescing (a flapping instance or an
//! overflowing queue becomes one digest that says how much it folded). Notify
//! commands run one at a time per instance, in event order ([`Commands`]).
//!
//! The [`Notifier`] puts these together for one node: notices in (routed as
//! keepalived would, or as the transition hook says), [`Job`]s out.
//!
//! Like the protocol core it reads no clock and does no I/O: time is passed
//! in, what to send comes out, and the daemon's sinks (SMTP, HTTP, processes)
//! answer with the result. Every outcome is counted ([`Stats`]).

mod commands;
mod notice;
mod notifier;
mod outbox;

pub use commands::{CommandRun, Commands, keepalived_args};
pub use notice::{Kind, Notice, SCHEMA};
pub use notifier::{
    CommandJob, CommandOutcome, CommandStatus, HookJob, HookStatus, Job, MailJob, Notifier, NotifyStatus,
    Outgoing, PostJob, Route, SinkStatus,
};
pub use outbox::{Delivery, DeliveryId, Message, Outbox, OutboxConfig, Stats};
