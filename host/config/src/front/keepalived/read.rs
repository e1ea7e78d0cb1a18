//! Reading keepalived's values: the checks every block's reader shares
//! (how many values a keyword takes, a block where one belongs, unknown
//! keywords with did-you-mean), numbers, keepalived's timers (seconds, with
//! decimals) and booleans.

use std::time::Duration;

use super::Reader;
use super::lex::Word;
use super::tree::{Block, Stmt};
use crate::suggest::closest;

/// A block's keywords and how many values each takes at most (for "several
/// keywords on one line"); `usize::MAX`: the rest of the line.
pub(super) type Arity = &'static [(&'static str, usize)];

/// keepalived's LVS keywords: refused as a group.
const LVS: &[&str] = &[
    "virtual_server",
    "virtual_server_group",
    "real_server",
    "lvs_sync_daemon",
    "lvs_timeouts",
    "lvs_flush",
    "lvs_flush_onstop",
    "lvs_id",
    "lvs_notify_fifo",
    "lvs_notify_fifo_script",
    "linkbeat_use_polling",
    "checker_log_all_failures",
];

/// Splits statements that carry several keywords on one line
/// (`auth_type PASS auth_pass 1111`): where a keyword has more values than
/// it takes and the first extra one is a keyword of the block, that starts
/// the next statement.
pub(super) fn split_lines(stmts: &[Stmt], arity: Arity) -> Vec<Stmt> {
    let mut out = Vec::new();
    for s in stmts {
        let mut s = s.clone();
        loop {
            let max = arity.iter().find(|(k, _)| *k == s.key.text).map(|(_, n)| *n);
            let split = max.filter(|&n| s.args.len() > n && arity.iter().any(|(k, _)| *k == s.args[n].text));
            let Some(n) = split else { break };
            let mut rest = s.args.split_off(n);
            let key = rest.remove(0);
            // A block after the line belongs to the last keyword on it.
            let block = s.block.take();
            out.push(s);
            s = Stmt {
                key,
                args: rest,
                block,
            };
        }
        out.push(s);
    }
    out
}

/// The keywords of `arity`, for did-you-mean.
fn names(arity: Arity) -> Vec<&'static str> {
    arity.iter().map(|(k, _)| *k).collect()
}

impl Reader<'_> {
    /// A keyword the block does not have: LVS, or unknown (with the closest
    /// known one).
    pub(super) fn unknown(&mut self, s: &Stmt, block: &str, arity: Arity) {
        let k = s.key.text.as_str();
        if LVS.contains(&k) {
            self.err(
                s.key.at,
                format!("`{k}`: LVS is not part of Baton (it does VRRP only)"),
            );
            return;
        }
        let hint = match closest(k, &names(arity)) {
            Some(near) => format!(" (did you mean `{near}`?)"),
            None => String::new(),
        };
        self.err(s.key.at, format!("`{k}` is no keyword of {block}{hint}"));
    }

    /// A keyword that takes no block: an error if it has one.
    pub(super) fn no_block(&mut self, s: &Stmt) {
        if let Some(b) = &s.block {
            self.err(b.open, format!("`{}` takes no block", s.key.text));
        }
    }

    /// The block a keyword needs.
    pub(super) fn block<'a>(&mut self, s: &'a Stmt) -> Option<&'a Block> {
        if s.block.is_none() {
            self.err(
                s.key.at,
                format!("`{}` needs a block: {} {{ ... }}", s.key.text, s.key.text),
            );
        }
        s.block.as_ref()
    }

    /// The one value of a keyword.
    pub(super) fn one<'a>(&mut self, s: &'a Stmt) -> Option<&'a Word> {
        self.no_block(s);
        let Some(w) = s.args.first() else {
            self.err(s.key.at, format!("`{}` needs a value", s.key.text));
            return None;
        };
        self.no_more(s, 1);
        Some(w)
    }

    /// An error for each value past the first `n`.
    pub(super) fn no_more(&mut self, s: &Stmt, n: usize) {
        if let Some(extra) = s.args.get(n) {
            let takes = match n {
                0 => "no value".to_string(),
                1 => "one value".to_string(),
                n => format!("{n} values"),
            };
            self.err(
                extra.at,
                format!("`{}` takes {takes}; `{}` is one too many", s.key.text, extra.text),
            );
        }
    }

    /// A keyword that takes nothing (`nopreempt`).
    pub(super) fn flag(&mut self, s: &Stmt) {
        self.no_block(s);
        self.no_more(s, 0);
    }

    /// An integer in `min..=max`.
    pub(super) fn int(&mut self, w: &Word, key: &str, min: i64, max: i64) -> Option<i64> {
        match w.text.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Some(n),
            Ok(n) => {
                self.err(w.at, format!("`{key}` {n} is out of range ({min} to {max})"));
                None
            }
            Err(_) => {
                self.err(w.at, format!("`{key}`: `{}` is not a whole number", w.text));
                None
            }
        }
    }

    /// The keyword's one value as an integer.
    pub(super) fn int_of(&mut self, s: &Stmt, min: i64, max: i64) -> Option<i64> {
        let w = self.one(s)?;
        self.int(w, &s.key.text, min, max)
    }

    /// A timer: seconds, with decimals (`1`, `0.1`, `2.71828`), at most `max`.
    pub(super) fn timer(&mut self, w: &Word, key: &str, max: Duration) -> Option<Duration> {
        match parse_seconds(&w.text) {
            Some(d) if d <= max => Some(d),
            Some(_) => {
                let secs = max.as_secs_f64();
                self.err(
                    w.at,
                    format!("`{key}` {} is too long (at most {secs} seconds)", w.text),
                );
                None
            }
            None => {
                self.err(
                    w.at,
                    format!(
                        "`{key}`: `{}` is not a number of seconds (such as 1 or 0.5)",
                        w.text
                    ),
                );
                None
            }
        }
    }

    pub(super) fn timer_of(&mut self, s: &Stmt, max: Duration) -> Option<Duration> {
        let w = self.one(s)?;
        self.timer(w, &s.key.text, max)
    }

    /// keepalived's <BOOL>: on|off|true|false|yes|no.
    pub(super) fn boolean(&mut self, w: &Word, key: &str) -> Option<bool> {
        match parse_bool(&w.text) {
            Some(b) => Some(b),
            None => {
                self.err(
                    w.at,
                    format!(
                        "`{key}`: `{}` is not one of on, off, true, false, yes, no",
                        w.text
                    ),
                );
                None
            }
        }
    }

    /// A flag with an optional <BOOL> (`smtp_alert`, `smtp_alert off`).
    pub(super) fn opt_bool(&mut self, s: &Stmt) -> Option<bool> {
        self.no_block(s);
        self.no_more(s, 1);
        match s.args.first() {
            None => Some(true),
            Some(w) => self.boolean(w, &s.key.text),
        }
    }

    /// A block whose lines are each one value (`notification_email`,
    /// `unicast_peer`): the lines' words.
    pub(super) fn items<'a>(&mut self, s: &'a Stmt) -> Vec<&'a Stmt> {
        self.no_more(s, 0);
        let Some(b) = self.block(s) else { return Vec::new() };
        for inner in &b.stmts {
            if let Some(ib) = &inner.block {
                self.err(ib.open, format!("a line of `{}` takes no block", s.key.text));
            }
        }
        b.stmts.iter().collect()
    }
}

pub(super) fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" => Some(true),
        "off" | "false" | "no" => Some(false),
        _ => None,
    }
}

/// Decimal seconds to a duration, to the microsecond (keepalived's
/// resolution); no sign, no exponent.
pub(super) fn parse_seconds(s: &str) -> Option<Duration> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(frac) || whole.len() > 9 {
        return None;
    }
    let secs: u64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let mut micros: u64 = 0;
    for (i, b) in frac.bytes().take(6).enumerate() {
        micros += u64::from(b - b'0') * 10u64.pow(5 - i as u32);
    }
    Some(Duration::from_secs(secs) + Duration::from_micros(micros))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_take_decimals_to_the_microsecond() {
        assert_eq!(parse_seconds("1"), Some(Duration::from_secs(1)));
        assert_eq!(parse_seconds("0.1"), Some(Duration::from_millis(100)));
        assert_eq!(parse_seconds(".5"), Some(Duration::from_millis(500)));
        assert_eq!(parse_seconds("2.71828"), Some(Duration::from_micros(2_718_280)));
        assert_eq!(parse_seconds("3."), Some(Duration::from_secs(3)));
        assert_eq!(parse_seconds("1.0000019"), Some(Duration::from_micros(1_000_001)));
        for bad in ["", ".", "-1", "1e3", "1s", "0x10", "1.2.3", "9999999999"] {
            assert_eq!(parse_seconds(bad), None, "{bad}");
        }
    }

    #[test]
    fn booleans_are_keepalived_s() {
        for (s, b) in [
            ("on", true),
            ("YES", true),
            ("true", true),
            ("off", false),
            ("no", false),
            ("False", false),
        ] {
            assert_eq!(parse_bool(s), Some(b));
        }
        assert_eq!(parse_bool("1"), None);
    }
}
