//! The notice: one thing that happened, as every sink gets it. Serialised as
//! the webhook's JSON document; mail and command arguments are made from it.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// The document's schema name and version. Fields are only ever added
/// within a version; a removal or a change of meaning makes the next one.
pub const SCHEMA: &str = "baton.notice/1";

/// What kind of thing happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An instance changed state.
    Transition,
    /// A track went bad or good.
    Track,
    DaemonStart,
    DaemonStop,
    Reload,
    /// `baton notify test`.
    Test,
    /// A split-brain decision (demote, fault, alert, stay again) or a claim
    /// a probe refused: `detail` says which, `reason` why.
    SplitBrain,
    /// A heartbeat path of a peer went silent while another delivers
    /// (`ok` false) or came back (`ok` true); `detail` names the peer and
    /// path.
    Heartbeat,
    /// A sync group as a whole changed state: `instance` names the group,
    /// `from` and `to` are its states.
    SyncGroup,
    /// Adverts that lie (a source that is no peer, failing authentication,
    /// replayed) or an unknown router outranking the Master: `detail` says
    /// which and from where, `reason` in words.
    Spoof,
}

impl Kind {
    /// Whether the transition-hook world has a word for it (it is not
    /// asked about the others: they go as without a hook).
    pub fn hook_knows(self) -> bool {
        !matches!(
            self,
            Kind::SplitBrain | Kind::Heartbeat | Kind::SyncGroup | Kind::Spoof
        )
    }
}

/// One notice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// Always [`SCHEMA`].
    pub schema: String,
    pub kind: Kind,
    pub router_id: String,
    /// Wall-clock time, milliseconds since the Unix epoch.
    pub at_unix_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Lower-case VRRP states ("backup", "master", "fault", "initialize").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Why, with its evidence ("master 192.0.2.11 with priority 150 wins the election").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_priority: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_priority: Option<u8>,
    /// `ADDR/PREFIX`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vips: Vec<String>,
    /// The track, for [`Kind::Track`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub track: Option<String>,
    /// The track is good (for [`Kind::Track`]); the reload applied (for [`Kind::Reload`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ok: Option<bool>,
    /// Free text: what a reload changed, why it was refused, what a digest folded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// A digest: how many notices it stands for (this one included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folded: Option<u64>,
}

impl Notice {
    /// A notice of `kind` with only the fields every notice has.
    pub fn new(kind: Kind, router_id: &str, at_unix_ms: u64) -> Notice {
        Notice {
            schema: SCHEMA.to_string(),
            kind,
            router_id: router_id.to_string(),
            at_unix_ms,
            instance: None,
            from: None,
            to: None,
            reason: None,
            base_priority: None,
            effective_priority: None,
            vips: Vec::new(),
            track: None,
            ok: None,
            detail: None,
            folded: None,
        }
    }

    /// An instance's state change.
    pub fn transition(
        router_id: &str,
        at_unix_ms: u64,
        instance: &str,
        from: &str,
        to: &str,
        reason: &str,
    ) -> Notice {
        Notice {
            instance: Some(instance.to_string()),
            from: Some(from.to_string()),
            to: Some(to.to_string()),
            reason: Some(reason.to_string()),
            ..Notice::new(Kind::Transition, router_id, at_unix_ms)
        }
    }

    /// The mail subject, in keepalived's shape where keepalived has one:
    /// `[lb01] VRRP Instance VI_1 - Entering MASTER state`.
    pub fn subject(&self) -> String {
        let inst = self.instance.as_deref().unwrap_or("-");
        let r = &self.router_id;
        match self.kind {
            Kind::Transition => format!(
                "[{r}] VRRP Instance {inst} - Entering {} state",
                self.to.as_deref().unwrap_or("UNKNOWN").to_uppercase()
            ),
            Kind::Track => format!(
                "[{r}] VRRP Instance {inst} - track {} is {}",
                self.track.as_deref().unwrap_or("-"),
                if self.ok == Some(true) { "good" } else { "bad" }
            ),
            Kind::DaemonStart => format!("[{r}] Baton started"),
            Kind::DaemonStop => format!("[{r}] Baton stopping"),
            Kind::Reload => format!(
                "[{r}] Baton reload {}",
                if self.ok == Some(true) {
                    "applied"
                } else {
                    "refused"
                }
            ),
            Kind::Test => format!("[{r}] Baton test notification"),
            Kind::SyncGroup => format!(
                "[{r}] VRRP Group {inst} - Entering {} state",
                self.to.as_deref().unwrap_or("UNKNOWN").to_uppercase()
            ),
            Kind::SplitBrain => format!(
                "[{r}] VRRP Instance {inst} - split brain: {}",
                self.detail.as_deref().unwrap_or("-")
            ),
            Kind::Heartbeat => format!(
                "[{r}] VRRP Instance {inst} - heartbeat path {} {}",
                self.detail.as_deref().unwrap_or("-"),
                if self.ok == Some(true) {
                    "delivers again"
                } else {
                    "silent"
                }
            ),
            Kind::Spoof => format!(
                "[{r}] VRRP Instance {inst} - suspect advert: {}",
                self.detail.as_deref().unwrap_or("-")
            ),
        }
    }

    /// The mail body: the subject's facts, one per line.
    pub fn body(&self) -> String {
        let mut s = String::new();
        let mut line = |k: &str, v: &str| {
            let _ = writeln!(s, "{k:<11} {v}");
        };
        line("router:", &self.router_id);
        if let Some(i) = &self.instance {
            line("instance:", i);
        }
        if let (Some(f), Some(t)) = (&self.from, &self.to) {
            line("state:", &format!("{} -> {}", f.to_uppercase(), t.to_uppercase()));
        }
        if let Some(r) = &self.reason {
            line("reason:", r);
        }
        match (self.effective_priority, self.base_priority) {
            (Some(e), Some(b)) if e != b => line("priority:", &format!("{e} (base {b})")),
            (Some(e), _) => line("priority:", &e.to_string()),
            _ => {}
        }
        if !self.vips.is_empty() {
            line("vips:", &self.vips.join(", "));
        }
        if let Some(t) = &self.track {
            line("track:", t);
        }
        if let Some(d) = &self.detail {
            line("detail:", d);
        }
        line("time:", &utc(self.at_unix_ms));
        s
    }

    /// The webhook's JSON document.
    pub fn json(&self) -> String {
        serde_json::to_string(self)
            .unwrap_or_else(|e| format!("{{\"schema\":\"{SCHEMA}\",\"error\":\"{e}\"}}"))
    }
}

/// `2026-12-01 23:40:12.345 UTC` (proleptic Gregorian, from days since 1970-01-01).
fn utc(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let sod = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:03} UTC",
        sod / 3600,
        sod / 60 % 60,
        sod % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_utc() {
        assert_eq!(utc(0), "1970-01-01 00:00:00.000 UTC");
        assert_eq!(utc(951_782_400_123), "2000-02-29 00:00:00.123 UTC");
        assert_eq!(utc(1_796_168_412_345), "2026-12-01 23:40:12.345 UTC");
    }

    #[test]
    fn subjects_follow_keepalived() {
        let n = Notice::transition("lb01", 1, "VI_1", "backup", "master", "master down");
        assert_eq!(n.subject(), "[lb01] VRRP Instance VI_1 - Entering MASTER state");
        let f = Notice::transition("lb02", 1, "VI_2", "master", "fault", "fault: link eth0 down");
        assert_eq!(f.subject(), "[lb02] VRRP Instance VI_2 - Entering FAULT state");
    }

    #[test]
    fn the_document_is_versioned_and_round_trips() {
        let mut n = Notice::transition(
            "lb01",
            1_700_000_000_000,
            "VI_1",
            "backup",
            "master",
            "master down",
        );
        n.vips = vec!["192.0.2.3/24".into()];
        n.effective_priority = Some(150);
        let j = n.json();
        assert!(
            j.starts_with("{\"schema\":\"baton.notice/1\",\"kind\":\"transition\""),
            "{j}"
        );
        let back: Notice = serde_json::from_str(&j).expect("parse");
        assert_eq!(back, n);
        assert!(n.body().contains("state:      BACKUP -> MASTER"), "{}", n.body());
    }
}
