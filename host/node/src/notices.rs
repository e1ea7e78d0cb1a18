//! What the node tells people: its events as notices for the notifier
//! ([`baton_notify::Notifier`], which the node owns and whose jobs leave as
//! [`Effect::Notify`]), the wall clock notices are stamped with, and the
//! answers to those jobs.

use std::time::{Duration, Instant};

use baton_notify::{CommandOutcome, DeliveryId, Kind, Notice, Route};
use baton_vrrp::Reason;

use crate::effect::Event;
use crate::node::Node;

/// The wall clock, as an offset from the monotonic one.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WallClock {
    at: Instant,
    unix_ms: u64,
}

impl WallClock {
    pub(crate) fn unix_ms(&self, now: Instant) -> u64 {
        let d = now.saturating_duration_since(self.at);
        self.unix_ms + d.as_millis() as u64
    }
}

impl Node {
    /// The wall-clock time at `now` (milliseconds since the Unix epoch), for
    /// stamping notices; the caller re-tells it as often as it likes.
    pub fn set_wall_clock(&mut self, now: Instant, unix_ms: u64) {
        self.wall = Some(WallClock { at: now, unix_ms });
        // Instances sign and check HMAC sequence numbers by it.
        for inst in self.instances.values_mut() {
            inst.wall = self.wall;
        }
    }

    pub(crate) fn unix_ms(&self, now: Instant) -> u64 {
        self.wall.map_or(0, |w| w.unix_ms(now))
    }

    pub(crate) fn notice(&self, kind: Kind, now: Instant) -> Notice {
        Notice::new(kind, &self.cfg.router_id, self.unix_ms(now))
    }

    /// The notice an event makes, if it makes one.
    pub(crate) fn notice_of(&self, ev: &Event, now: Instant) -> Option<Notice> {
        let at = self.unix_ms(now);
        let rid = &self.cfg.router_id;
        match ev {
            // The stop notice covers the instances' resignations.
            Event::Transition {
                reason: Reason::Shutdown,
                ..
            } => None,
            Event::Transition {
                instance,
                from,
                to,
                reason,
                priority,
                ..
            } => {
                let mut n =
                    Notice::transition(rid, at, instance, from.as_str(), to.as_str(), &reason.to_string());
                n.effective_priority = Some(*priority);
                if let Some(ic) = self.cfg.instance(instance) {
                    n.base_priority = Some(ic.priority);
                    n.vips = ic
                        .vips
                        .iter()
                        .map(|v| format!("{}/{}", v.addr, v.prefix_len))
                        .collect();
                }
                Some(n)
            }
            Event::Track {
                instance,
                track,
                good,
                reason,
                ..
            } => {
                let mut n = Notice::new(Kind::Track, rid, at);
                n.instance = Some(instance.clone());
                n.track = Some(track.clone());
                n.ok = Some(*good);
                n.reason = reason.clone();
                n.detail = Some(ev.to_string());
                Some(n)
            }
            Event::SplitBrain { instance, decision } => {
                let mut n = Notice::new(Kind::SplitBrain, rid, at);
                n.instance = Some(instance.clone());
                n.detail = Some(decision.kind().to_string());
                n.reason = decision.reason().map(str::to_string);
                Some(n)
            }
            Event::ClaimRefused { instance, reason } => {
                let mut n = Notice::new(Kind::SplitBrain, rid, at);
                n.instance = Some(instance.clone());
                n.detail = Some("claim refused".to_string());
                n.reason = Some(reason.clone());
                Some(n)
            }
            Event::Path { instance, news } => {
                let mut n = Notice::new(Kind::Heartbeat, rid, at);
                n.instance = Some(instance.clone());
                n.ok = Some(!news.silent);
                n.detail = Some(format!("{} from {}", news.path, news.peer));
                n.reason = Some(ev.to_string());
                Some(n)
            }
            Event::Spoof { instance, news } => {
                let mut n = Notice::new(Kind::Spoof, rid, at);
                n.instance = Some(instance.clone());
                n.detail = Some(format!("{} from {}", news.kind.as_str(), news.source));
                n.reason = Some(news.to_string());
                n.effective_priority = Some(news.priority);
                Some(n)
            }
            Event::SyncGroup { group, from, to } => {
                let mut n = Notice::new(Kind::SyncGroup, rid, at);
                n.instance = Some(group.clone());
                n.from = from.map(|s| s.as_str().to_string());
                n.to = Some(to.as_str().to_string());
                n.detail = Some(ev.to_string());
                Some(n)
            }
            Event::Reloaded { summary, .. } => {
                let mut n = Notice::new(Kind::Reload, rid, at);
                n.ok = Some(true);
                n.detail = Some(summary.clone());
                Some(n)
            }
            Event::ReloadFailed { error } => {
                let mut n = Notice::new(Kind::Reload, rid, at);
                n.ok = Some(false);
                n.detail = Some(error.clone());
                Some(n)
            }
            _ => None,
        }
    }

    /// `baton notify test`: a test notice through every sink.
    pub fn notify_test(&mut self, now: Instant) {
        self.now = Some(now);
        let mut n = self.notice(Kind::Test, now);
        n.detail = Some("a test notification from `baton notify test`".to_string());
        self.notifier.submit(now, n);
    }

    /// A mail's (`sink` = `email`) or webhook's delivery outcome.
    pub fn handle_notify_delivery(
        &mut self,
        now: Instant,
        sink: &str,
        id: DeliveryId,
        r: Result<(), String>,
    ) {
        self.now = Some(now);
        self.notifier.handle_delivery(now, sink, id, r);
    }

    /// A notify command ended.
    pub fn handle_notify_command(
        &mut self,
        now: Instant,
        instance: &str,
        id: u64,
        name: &str,
        outcome: CommandOutcome,
    ) {
        self.now = Some(now);
        self.notifier.handle_command(instance, id, name, outcome);
    }

    /// The transition hook's answer (an error: sent as without a hook).
    pub fn handle_notify_hook(&mut self, now: Instant, id: u64, r: Result<Route, String>) {
        self.now = Some(now);
        self.notifier.handle_hook(now, id, r);
    }

    /// Nothing left to send or run (for a stop that waits for its notices).
    pub fn notify_idle(&self) -> bool {
        self.notifier.idle()
    }

    /// Gives up what is still pending (counted as dropped).
    pub fn notify_drop_pending(&mut self) {
        self.notifier.drop_pending();
    }

    /// How long a stop should wait for its notices at most.
    pub fn notify_grace(&self) -> Duration {
        if self.cfg.notify.sink_names().is_empty() {
            Duration::ZERO
        } else {
            Duration::from_secs(5)
        }
    }
}
