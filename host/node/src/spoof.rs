//! Adverts that lie, and who sends them: an advert from a source that is no
//! configured peer, one that fails authentication, a replayed one (all
//! dropped by the protocol core), and, where anyone may speak (multicast
//! without a key), a router never heard before that outranks the Master
//! (accepted, as the protocol says, but reported). A suspect source is
//! reported once when it appears (an event, so a notification), again only
//! after it has been quiet for a while, and is listed in status while it
//! persists.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use baton_vrrp::DropReason;

/// Why a source is suspect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SuspectKind {
    /// Its adverts come from no configured unicast peer (dropped).
    NotAPeer,
    /// Its adverts fail authentication (dropped).
    AuthFailed,
    /// It sends adverts already seen (dropped).
    Replayed,
    /// Never heard before, it outranks the Master (accepted: nothing tells
    /// it from a new router without unicast peers or a key).
    UnknownOutranks,
}

impl SuspectKind {
    /// The kind a drop reason makes, for the reasons that point at a liar
    /// rather than at a broken packet.
    pub fn of_drop(reason: DropReason) -> Option<SuspectKind> {
        match reason {
            DropReason::NotAPeer => Some(SuspectKind::NotAPeer),
            DropReason::AuthMismatch
            | DropReason::AuthMissing
            | DropReason::AuthMalformed
            | DropReason::AuthStale
            | DropReason::AuthUnknownKey
            | DropReason::AuthBadHmac => Some(SuspectKind::AuthFailed),
            DropReason::Replayed => Some(SuspectKind::Replayed),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SuspectKind::NotAPeer => "not_a_peer",
            SuspectKind::AuthFailed => "auth_failed",
            SuspectKind::Replayed => "replayed",
            SuspectKind::UnknownOutranks => "unknown_outranks",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            SuspectKind::NotAPeer => "it is none of the unicast peers (dropped)",
            SuspectKind::AuthFailed => "it fails authentication (dropped)",
            SuspectKind::Replayed => "it replays an earlier advert (dropped)",
            SuspectKind::UnknownOutranks => {
                "a router never heard before outranks the Master (accepted: a new router of yours, or a spoofer)"
            }
        }
    }
}

/// A suspect source's adverts so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suspect {
    pub kind: SuspectKind,
    /// The priority its last advert claimed.
    pub priority: u8,
    pub first_seen: Instant,
    pub last_seen: Instant,
    pub adverts: u64,
}

/// What an event says about a suspect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SuspectNews {
    pub source: IpAddr,
    pub kind: SuspectKind,
    pub priority: u8,
}

impl fmt::Display for SuspectNews {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let claim = if self.priority == 0 {
            "resigning".to_string()
        } else {
            format!("claiming priority {}", self.priority)
        };
        write!(
            f,
            "spoofed advert? from {} {claim}: {}",
            self.source,
            self.kind.describe()
        )
    }
}

/// One instance's suspects, and the routers it knows.
#[derive(Clone, Debug, Default)]
pub struct Suspects {
    by_source: BTreeMap<IpAddr, Suspect>,
    /// Sources whose adverts passed every check.
    known: BTreeSet<IpAddr>,
}

/// A suspect quiet this long is forgotten (and reported again if it
/// returns).
pub fn forget_after(master_down: Duration) -> Duration {
    (master_down * 3).max(Duration::from_secs(60))
}

impl Suspects {
    /// A dropped advert from `src`: news if the source is new as a suspect.
    pub fn dropped(
        &mut self,
        now: Instant,
        src: IpAddr,
        reason: DropReason,
        priority: u8,
    ) -> Option<SuspectNews> {
        let kind = SuspectKind::of_drop(reason)?;
        self.seen(now, src, kind, priority)
    }

    /// An accepted advert from `src` claiming `priority`, while the Master is
    /// `master` (its priority; ours when we are Master). A stranger that
    /// outranks it is news; after one accepted advert it is known.
    pub fn accepted(
        &mut self,
        now: Instant,
        src: IpAddr,
        priority: u8,
        master: Option<u8>,
    ) -> Option<SuspectNews> {
        if !self.known.insert(src) {
            if let Some(s) = self.by_source.get_mut(&src) {
                s.last_seen = now;
                s.priority = priority;
                s.adverts += 1;
            }
            return None;
        }
        match master {
            Some(m) if priority > m => self.seen(now, src, SuspectKind::UnknownOutranks, priority),
            _ => None,
        }
    }

    fn seen(&mut self, now: Instant, src: IpAddr, kind: SuspectKind, priority: u8) -> Option<SuspectNews> {
        if let Some(s) = self.by_source.get_mut(&src)
            && s.kind == kind
        {
            s.last_seen = now;
            s.priority = priority;
            s.adverts += 1;
            return None;
        }
        self.by_source.insert(
            src,
            Suspect {
                kind,
                priority,
                first_seen: now,
                last_seen: now,
                adverts: 1,
            },
        );
        Some(SuspectNews {
            source: src,
            kind,
            priority,
        })
    }

    /// Forgets suspects quiet for `quiet`.
    pub fn expire(&mut self, now: Instant, quiet: Duration) {
        self.by_source
            .retain(|_, s| now.saturating_duration_since(s.last_seen) < quiet);
    }

    /// When the next suspect is forgotten.
    pub fn next_expiry(&self, quiet: Duration) -> Option<Instant> {
        self.by_source.values().map(|s| s.last_seen + quiet).min()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&IpAddr, &Suspect)> {
        self.by_source.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.by_source.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(last: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, last])
    }

    #[test]
    fn a_non_peer_is_news_once_while_it_persists() {
        let t0 = Instant::now();
        let mut s = Suspects::default();
        let news = s.dropped(t0, a(66), DropReason::NotAPeer, 254).expect("news");
        assert_eq!(news.kind, SuspectKind::NotAPeer);
        assert!(news.to_string().contains("192.0.2.66 claiming priority 254"));
        for k in 1..30 {
            let at = t0 + Duration::from_millis(100 * k);
            assert_eq!(s.dropped(at, a(66), DropReason::NotAPeer, 254), None);
        }
        let (_, sus) = s.iter().next().unwrap();
        assert_eq!(sus.adverts, 30);
        // Quiet for a minute: forgotten, then news again.
        let later = t0 + Duration::from_secs(70);
        s.expire(later, forget_after(Duration::from_secs(3)));
        assert!(s.is_empty());
        assert!(s.dropped(later, a(66), DropReason::NotAPeer, 254).is_some());
    }

    #[test]
    fn broken_packets_are_not_suspects() {
        let mut s = Suspects::default();
        assert_eq!(
            s.dropped(Instant::now(), a(66), DropReason::BadChecksum, 254),
            None
        );
        assert!(s.is_empty());
    }

    #[test]
    fn a_stranger_outranking_the_master_is_news_a_known_router_is_not() {
        let t0 = Instant::now();
        let mut s = Suspects::default();
        // The first Master heard outranks nobody.
        assert_eq!(s.accepted(t0, a(11), 150, None), None);
        // A known router may outrank: it was heard before.
        assert_eq!(s.accepted(t0, a(11), 200, Some(150)), None);
        // A stranger below the Master is no threat.
        assert_eq!(s.accepted(t0, a(12), 100, Some(150)), None);
        let news = s.accepted(t0, a(66), 254, Some(150)).expect("news");
        assert_eq!(news.kind, SuspectKind::UnknownOutranks);
        // Its later adverts are counted, not news.
        assert_eq!(s.accepted(t0, a(66), 254, Some(254)), None);
        assert_eq!(s.iter().next().unwrap().1.adverts, 2);
    }
}
