//! One sink's delivery discipline. Notices wait in a bounded queue; one is
//! in flight at a time, so the sink sees them in order; a failed delivery is
//! retried with backoff until its deadline, then counted as failed.
//!
//! Coalescing keeps a storm from becoming a storm of mail: each instance may
//! send `burst` transitions per `window`; beyond that its transitions are
//! folded, and when the window allows again one digest goes out ("VI_1
//! changed state 37 times in 60 s; now MASTER"). A notice that finds the
//! queue full is folded too, into one digest that says how many.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use crate::notice::{Kind, Notice};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutboxConfig {
    pub capacity: usize,
    /// First retry after this, doubling up to `retry_max`.
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// Give a delivery up this long after its first attempt.
    pub deadline: Duration,
    /// Transitions per instance per `window` before they are folded.
    pub burst: usize,
    pub window: Duration,
}

impl Default for OutboxConfig {
    fn default() -> OutboxConfig {
        OutboxConfig {
            capacity: 64,
            retry_base: Duration::from_secs(1),
            retry_max: Duration::from_secs(30),
            deadline: Duration::from_secs(300),
            burst: 3,
            window: Duration::from_secs(60),
        }
    }
}

/// What a sink delivers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    One(Notice),
    /// A notice worded by a transition hook: `None` keeps Baton's wording.
    Custom {
        notice: Notice,
        subject: Option<String>,
        body: Option<String>,
    },
    /// Folded transitions of one instance: `count` of them over `span`,
    /// `last` the latest.
    Flaps {
        count: u64,
        span: Duration,
        last: Notice,
    },
    /// Notices that found the queue full: `count`, `last` the latest.
    Overflow {
        count: u64,
        last: Notice,
    },
}

impl Message {
    /// The notice it is about (a digest's latest).
    pub fn notice(&self) -> &Notice {
        match self {
            Message::One(n)
            | Message::Custom { notice: n, .. }
            | Message::Flaps { last: n, .. }
            | Message::Overflow { last: n, .. } => n,
        }
    }

    /// How many notices it stands for.
    pub fn count(&self) -> u64 {
        match self {
            Message::One(_) | Message::Custom { .. } => 1,
            Message::Flaps { count, .. } | Message::Overflow { count, .. } => *count,
        }
    }

    /// What a digest says it folded; `None` for a single notice.
    pub fn summary(&self) -> Option<String> {
        match self {
            Message::One(_) | Message::Custom { .. } => None,
            Message::Flaps { count, span, last } => Some(format!(
                "{} changed state {count} times in {} s; now {}",
                last.instance.as_deref().unwrap_or("-"),
                span.as_secs().max(1),
                last.to.as_deref().unwrap_or("unknown").to_uppercase()
            )),
            Message::Overflow { count, .. } => Some(format!(
                "{count} notices found the queue full and were folded into this one"
            )),
        }
    }

    /// The notice to render: a digest is its latest notice with the
    /// summary as its detail.
    pub fn rendered(&self) -> Notice {
        let mut n = self.notice().clone();
        if let Some(s) = self.summary() {
            n.detail = Some(match n.detail.take() {
                Some(d) => format!("{s}; {d}"),
                None => s,
            });
            n.folded = Some(self.count());
        }
        n
    }

    /// The mail body.
    pub fn body(&self) -> String {
        match self {
            Message::Custom { body: Some(b), .. } => b.clone(),
            _ => self.rendered().body(),
        }
    }

    /// The webhook's payload: the notice's JSON document unless a hook worded it.
    pub fn payload(&self) -> String {
        match self {
            Message::Custom { body: Some(b), .. } => b.clone(),
            _ => self.rendered().json(),
        }
    }

    pub fn subject(&self) -> String {
        let n = self.notice();
        match self {
            Message::One(_) | Message::Custom { subject: None, .. } => n.subject(),
            Message::Custom { subject: Some(s), .. } => s.clone(),
            Message::Flaps { .. } | Message::Overflow { .. } => {
                format!("[{}] {}", n.router_id, self.summary().unwrap_or_default())
            }
        }
    }
}

/// Names one delivery attempt's message; results come back with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeliveryId(pub u64);

/// A message to deliver now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub id: DeliveryId,
    pub message: Message,
    /// 1 for the first try.
    pub attempt: u32,
}

/// Every outcome, counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub queued: u64,
    pub sent: u64,
    pub retried: u64,
    pub failed: u64,
    /// Notices folded into a digest (flaps or a full queue).
    pub coalesced: u64,
    /// Digests sent in their place.
    pub digests: u64,
    /// Given up without a try: the sink was removed or the daemon stopped.
    pub dropped: u64,
}

#[derive(Debug)]
struct InFlight {
    id: DeliveryId,
    message: Message,
    attempt: u32,
    first_try: Instant,
    /// Waiting to retry until then; `None` while being delivered.
    retry_at: Option<Instant>,
}

#[derive(Debug)]
struct Folded {
    count: u64,
    since: Instant,
    last: Notice,
}

#[derive(Debug)]
pub struct Outbox {
    cfg: OutboxConfig,
    queue: VecDeque<Message>,
    in_flight: Option<InFlight>,
    /// Per instance: when its recent transitions were queued.
    recent: BTreeMap<String, VecDeque<Instant>>,
    flaps: BTreeMap<String, Folded>,
    overflow: Option<Folded>,
    next_id: u64,
    stats: Stats,
}

impl Outbox {
    pub fn new(cfg: OutboxConfig) -> Outbox {
        Outbox {
            cfg,
            queue: VecDeque::new(),
            in_flight: None,
            recent: BTreeMap::new(),
            flaps: BTreeMap::new(),
            overflow: None,
            next_id: 0,
            stats: Stats::default(),
        }
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Waiting, in flight and folded messages.
    pub fn pending(&self) -> usize {
        self.queue.len()
            + usize::from(self.in_flight.is_some())
            + self.flaps.len()
            + usize::from(self.overflow.is_some())
    }

    /// Takes a notice in, queued or folded.
    pub fn push(&mut self, now: Instant, notice: Notice) {
        self.push_message(now, Message::One(notice));
    }

    /// Takes a single message ([`Message::One`] or [`Message::Custom`]) in,
    /// queued or folded.
    pub fn push_message(&mut self, now: Instant, message: Message) {
        let notice = message.notice();
        if notice.kind == Kind::Transition
            && let Some(inst) = notice.instance.clone()
        {
            let window = self.cfg.window;
            let recent = self.recent.entry(inst.clone()).or_default();
            while recent
                .front()
                .is_some_and(|t| now.saturating_duration_since(*t) >= window)
            {
                recent.pop_front();
            }
            if recent.len() >= self.cfg.burst || self.flaps.contains_key(&inst) {
                self.stats.coalesced += 1;
                let last = notice.clone();
                let f = self.flaps.entry(inst).or_insert(Folded {
                    count: 0,
                    since: now,
                    last: last.clone(),
                });
                f.count += 1;
                f.last = last;
                return;
            }
            recent.push_back(now);
        }
        self.enqueue(now, message);
    }

    /// Gives up everything waiting, in flight or folded (counted as dropped).
    pub fn drop_all(&mut self) {
        let folded: u64 =
            self.flaps.values().map(|f| f.count).sum::<u64>() + self.overflow.as_ref().map_or(0, |o| o.count);
        let waiting: u64 = self.queue.iter().map(Message::count).sum();
        let flying = self.in_flight.as_ref().map_or(0, |f| f.message.count());
        self.stats.dropped += folded + waiting + flying;
        self.queue.clear();
        self.flaps.clear();
        self.overflow = None;
        self.in_flight = None;
    }

    /// Whether a delivery is being made right now (not waiting to retry).
    pub fn delivering(&self) -> bool {
        self.in_flight.as_ref().is_some_and(|f| f.retry_at.is_none())
    }

    fn enqueue(&mut self, now: Instant, m: Message) {
        if self.queue.len() >= self.cfg.capacity {
            self.stats.coalesced += 1;
            let last = m.notice().clone();
            let o = self.overflow.get_or_insert(Folded {
                count: 0,
                since: now,
                last: last.clone(),
            });
            o.count += m.count();
            o.last = last;
            return;
        }
        self.stats.queued += 1;
        self.queue.push_back(m);
    }

    /// Folded flaps whose instance may send again become digests.
    fn release_digests(&mut self, now: Instant) {
        let window = self.cfg.window;
        let due: Vec<String> = self
            .flaps
            .iter()
            .filter(|(inst, _)| {
                self.recent
                    .get(*inst)
                    .and_then(|r| r.front())
                    .is_none_or(|t| now.saturating_duration_since(*t) >= window)
            })
            .map(|(inst, _)| inst.clone())
            .collect();
        for inst in due {
            if let Some(f) = self.flaps.remove(&inst) {
                let recent = self.recent.entry(inst).or_default();
                recent.clear();
                recent.push_back(now);
                self.stats.digests += 1;
                self.enqueue(
                    now,
                    Message::Flaps {
                        count: f.count,
                        span: now.saturating_duration_since(f.since),
                        last: f.last,
                    },
                );
            }
        }
        if self.queue.len() < self.cfg.capacity
            && let Some(o) = self.overflow.take()
        {
            self.stats.digests += 1;
            self.stats.queued += 1;
            self.queue.push_back(Message::Overflow {
                count: o.count,
                last: o.last,
            });
        }
    }

    /// The next delivery to make now, if any (never two at once).
    pub fn poll_delivery(&mut self, now: Instant) -> Option<Delivery> {
        self.release_digests(now);
        if let Some(f) = &mut self.in_flight {
            if f.retry_at.is_some_and(|t| t <= now) {
                f.retry_at = None;
                f.attempt += 1;
                return Some(Delivery {
                    id: f.id,
                    message: f.message.clone(),
                    attempt: f.attempt,
                });
            }
            return None;
        }
        let message = self.queue.pop_front()?;
        self.next_id += 1;
        let id = DeliveryId(self.next_id);
        self.in_flight = Some(InFlight {
            id,
            message: message.clone(),
            attempt: 1,
            first_try: now,
            retry_at: None,
        });
        Some(Delivery {
            id,
            message,
            attempt: 1,
        })
    }

    /// A delivery's outcome.
    pub fn handle_result(&mut self, now: Instant, id: DeliveryId, r: Result<(), String>) {
        let Some(f) = self
            .in_flight
            .as_mut()
            .filter(|f| f.id == id && f.retry_at.is_none())
        else {
            return;
        };
        match r {
            Ok(()) => {
                self.stats.sent += 1;
                self.in_flight = None;
            }
            Err(_) => {
                let backoff = self
                    .cfg
                    .retry_base
                    .saturating_mul(1 << (f.attempt - 1).min(16))
                    .min(self.cfg.retry_max);
                let retry_at = now + backoff;
                if retry_at.saturating_duration_since(f.first_try) > self.cfg.deadline {
                    self.stats.failed += 1;
                    self.in_flight = None;
                } else {
                    self.stats.retried += 1;
                    f.retry_at = Some(retry_at);
                }
            }
        }
    }

    /// When `poll_delivery` has something new to say without a push.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let retry = self.in_flight.as_ref().and_then(|f| f.retry_at);
        let digests = self.flaps.keys().filter_map(|inst| {
            self.recent
                .get(inst)
                .and_then(|r| r.front())
                .map(|t| *t + self.cfg.window)
        });
        retry.into_iter().chain(digests).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flip(i: u64) -> Notice {
        let (from, to) = if i.is_multiple_of(2) {
            ("backup", "master")
        } else {
            ("master", "backup")
        };
        Notice::transition("lb01", i, "VI_1", from, to, "test")
    }

    fn deliver_all(o: &mut Outbox, now: Instant) -> Vec<Message> {
        let mut out = Vec::new();
        while let Some(d) = o.poll_delivery(now) {
            o.handle_result(now, d.id, Ok(()));
            out.push(d.message);
        }
        out
    }

    #[test]
    fn one_at_a_time_in_order() {
        let now = Instant::now();
        let mut o = Outbox::new(OutboxConfig::default());
        o.push(now, flip(0));
        o.push(now, Notice::new(Kind::DaemonStart, "lb01", 0));
        let d = o.poll_delivery(now).expect("first");
        assert!(o.poll_delivery(now).is_none(), "nothing while one is in flight");
        o.handle_result(now, d.id, Ok(()));
        let d2 = o.poll_delivery(now).expect("second");
        assert_eq!(d2.message.notice().kind, Kind::DaemonStart);
    }

    #[test]
    fn retries_with_backoff_then_fails_at_the_deadline() {
        let t0 = Instant::now();
        let cfg = OutboxConfig {
            retry_base: Duration::from_secs(1),
            retry_max: Duration::from_secs(4),
            deadline: Duration::from_secs(10),
            ..OutboxConfig::default()
        };
        let mut o = Outbox::new(cfg);
        o.push(t0, flip(0));
        let mut now = t0;
        let mut attempts = Vec::new();
        while let Some(d) = o.poll_delivery(now) {
            attempts.push((now - t0).as_secs());
            o.handle_result(now, d.id, Err("connection refused".into()));
            match o.poll_timeout() {
                Some(t) => now = t,
                None => break,
            }
        }
        assert_eq!(attempts, vec![0, 1, 3, 7]);
        let s = o.stats();
        assert_eq!((s.retried, s.failed, s.sent), (3, 1, 0));
        assert_eq!(o.pending(), 0);
    }

    #[test]
    fn a_flapping_instance_becomes_one_digest() {
        let t0 = Instant::now();
        let mut o = Outbox::new(OutboxConfig::default());
        for i in 0..37 {
            o.push(t0 + Duration::from_millis(100 * i), flip(i));
        }
        let first = deliver_all(&mut o, t0 + Duration::from_secs(4));
        assert_eq!(first.len(), 3, "the burst");
        let later = t0 + Duration::from_secs(61);
        assert_eq!(o.poll_timeout(), Some(t0 + Duration::from_secs(60)));
        let digest = deliver_all(&mut o, later);
        assert_eq!(digest.len(), 1);
        assert_eq!(
            digest[0].summary().as_deref(),
            Some("VI_1 changed state 34 times in 60 s; now MASTER")
        );
        assert_eq!(
            digest[0].subject(),
            "[lb01] VI_1 changed state 34 times in 60 s; now MASTER"
        );
        let s = o.stats();
        assert_eq!((s.coalesced, s.digests, s.sent), (34, 1, 4));
    }

    #[test]
    fn a_full_queue_folds_into_one_overflow_digest() {
        let now = Instant::now();
        let cfg = OutboxConfig {
            capacity: 4,
            ..OutboxConfig::default()
        };
        let mut o = Outbox::new(cfg);
        for i in 0..10 {
            o.push(now, Notice::new(Kind::Reload, "lb01", i));
        }
        let got = deliver_all(&mut o, now);
        assert_eq!(got.len(), 5, "4 queued + 1 digest");
        assert_eq!(
            got[4].summary().as_deref(),
            Some("6 notices found the queue full and were folded into this one")
        );
        assert_eq!(got[4].notice().at_unix_ms, 9, "the latest");
    }

    #[test]
    fn a_flap_storm_sends_a_bounded_number_and_loses_no_count() {
        let t0 = Instant::now();
        let cfg = OutboxConfig::default();
        let mut o = Outbox::new(cfg);
        let mut sent = Vec::new();
        // 1000 flips, one every 600 ms: 10 minutes.
        for i in 0..1000u64 {
            let now = t0 + Duration::from_millis(600 * i);
            o.push(now, flip(i));
            sent.extend(deliver_all(&mut o, now));
        }
        let end = t0 + Duration::from_secs(700);
        sent.extend(deliver_all(&mut o, end));
        // Per 60 s window: the burst, then one digest.
        assert!(sent.len() <= 11 * (cfg.burst + 1), "{} messages", sent.len());
        let told: u64 = sent.iter().map(Message::count).sum();
        assert_eq!(told, 1000, "every transition is sent or counted in a digest");
        assert_eq!(
            sent.last().map(|m| m.notice().at_unix_ms),
            Some(999),
            "the latest state is told"
        );
    }
}
