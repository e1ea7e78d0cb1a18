//! HMAC-SHA256 authenticated adverts, in the wire format of keepalived's
//! `auth_hmac` (draft-cassen-vrrp-auth-hmac; docs/auth-hmac.md is the
//! spec Baton follows): a 28-byte trailer after the message with a key id,
//! a time-based 64-bit sequence number and a 16-byte truncated HMAC over a
//! pseudo-header, the message (checksum read as zero) and the trailer's
//! own fields. [`HmacState`] numbers what a router sends and keeps the
//! replay marks of what it accepts. Sans IO: UTC time is passed in.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use hmac::{Hmac as HmacImpl, Mac};
use sha2::Sha256;

use crate::{DropReason, Version};

/// Length of the trailer.
pub const TRAILER_LEN: usize = 28;
/// The truncated HMAC-SHA256 the trailer carries.
pub const TAG_LEN: usize = 16;
/// `ext_type` of HMAC-SHA256 truncated to 128 bits.
pub const EXT_HMAC_SHA256_128: u8 = 1;
/// Key lengths (bytes) keepalived accepts.
pub const KEY_MIN: usize = 32;
pub const KEY_MAX: usize = 64;
/// Replay marks kept per instance, one per sender that proved its key.
pub const MARKS: usize = 16;
/// Largest `time_window`.
pub const WINDOW_MAX: u32 = 300;

/// One key: its id on the wire and its bytes (never printed).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct HmacKey {
    pub id: u8,
    bytes: Vec<u8>,
}

impl fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HmacKey {{ id: {}, {} bytes }}", self.id, self.bytes.len())
    }
}

impl HmacKey {
    /// A key of 32 to 64 bytes with an id of 1 to 255.
    pub fn new(id: u8, bytes: Vec<u8>) -> Result<HmacKey, String> {
        if id == 0 {
            return Err("key id 0: ids are 1 to 255".into());
        }
        if !(KEY_MIN..=KEY_MAX).contains(&bytes.len()) {
            return Err(format!(
                "key {id} has {} byte{}: a key is {KEY_MIN} to {KEY_MAX} bytes ({} to {} hex digits)",
                bytes.len(),
                if bytes.len() == 1 { "" } else { "s" },
                KEY_MIN * 2,
                KEY_MAX * 2
            ));
        }
        Ok(HmacKey { id, bytes })
    }

    /// A key written in hex (as in a key file: blanks and one trailing
    /// newline allowed, an optional `hex:` prefix).
    pub fn from_hex(id: u8, text: &str) -> Result<HmacKey, String> {
        let t = text.trim();
        let t = t.strip_prefix("hex:").unwrap_or(t);
        let digits: Vec<u8> = t.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        if !digits.len().is_multiple_of(2) {
            return Err(format!(
                "key {id}: an odd number of hex digits ({})",
                digits.len()
            ));
        }
        let mut bytes = Vec::with_capacity(digits.len() / 2);
        for pair in digits.chunks_exact(2) {
            let hi = hex_digit(pair[0]);
            let lo = hex_digit(pair[1]);
            match (hi, lo) {
                (Some(h), Some(l)) => bytes.push(h << 4 | l),
                _ => {
                    return Err(format!(
                        "key {id}: `{}` is not hex",
                        String::from_utf8_lossy(pair)
                    ));
                }
            }
        }
        HmacKey::new(id, bytes)
    }

    fn mac(&self) -> HmacImpl<Sha256> {
        // Any key length is valid for HMAC; ours are checked at creation.
        HmacImpl::<Sha256>::new_from_slice(&self.bytes).expect("HMAC takes keys of any length")
    }
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// What a router does with the trailer: the rollout runs receive-only
/// (verify what comes signed, sign nothing), permissive (sign, accept
/// unsigned too), then enforce.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum HmacMode {
    #[default]
    Enforce,
    Permissive,
    ReceiveOnly,
}

/// How sequence numbers are judged: against the clock (replays older than
/// the window are refused even after a restart; nodes must agree on UTC
/// within it) or only against the last one seen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum AntiReplay {
    #[default]
    Time,
    Monotonic,
}

/// An instance's HMAC settings.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Hmac {
    /// Every key accepted; ids unique.
    pub keys: Vec<HmacKey>,
    /// The key that signs.
    pub active: u8,
    pub mode: HmacMode,
    pub anti_replay: AntiReplay,
    /// Seconds a sequence number's time may differ from ours (time mode).
    pub window: u32,
}

impl Hmac {
    /// One key, signing, with keepalived's defaults for `advert_interval`.
    pub fn with_key(key: HmacKey, advert_interval: Duration) -> Hmac {
        Hmac {
            active: key.id,
            keys: vec![key],
            mode: HmacMode::default(),
            anti_replay: AntiReplay::default(),
            window: Hmac::default_window(advert_interval),
        }
    }

    /// keepalived's default: three intervals (whole seconds), at least 5 s.
    pub fn default_window(advert_interval: Duration) -> u32 {
        let three = advert_interval.as_secs().saturating_mul(3);
        three.clamp(5, u64::from(WINDOW_MAX)) as u32
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.keys.is_empty() {
            return Err("no key".into());
        }
        for (i, k) in self.keys.iter().enumerate() {
            if self.keys[..i].iter().any(|o| o.id == k.id) {
                return Err(format!("key id {} is given twice", k.id));
            }
        }
        if self.key(self.active).is_none() {
            return Err(format!("the active key {} is none of the keys", self.active));
        }
        if !(1..=WINDOW_MAX).contains(&self.window) {
            return Err(format!("time_window {} s: 1 to {WINDOW_MAX} s", self.window));
        }
        Ok(())
    }

    pub fn key(&self, id: u8) -> Option<&HmacKey> {
        self.keys.iter().find(|k| k.id == id)
    }

    /// Whether adverts leave signed.
    pub fn signs(&self) -> bool {
        self.mode != HmacMode::ReceiveOnly
    }
}

/// The trailer's fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trailer {
    pub ext_type: u8,
    pub key_id: u8,
    pub reserved: u16,
    /// `sec << 32 | subsec << 16 | ctr`.
    pub seq: u64,
    pub tag: [u8; TAG_LEN],
}

impl Trailer {
    pub fn from_bytes(b: &[u8; TRAILER_LEN]) -> Trailer {
        let mut seq = [0u8; 8];
        seq.copy_from_slice(&b[4..12]);
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&b[12..]);
        Trailer {
            ext_type: b[0],
            key_id: b[1],
            reserved: u16::from_be_bytes([b[2], b[3]]),
            seq: u64::from_be_bytes(seq),
            tag,
        }
    }

    /// The 12 bytes before the tag, which the tag covers.
    pub fn prefix(&self) -> [u8; 12] {
        let mut p = [0u8; 12];
        p[0] = self.ext_type;
        p[1] = self.key_id;
        p[2..4].copy_from_slice(&self.reserved.to_be_bytes());
        p[4..12].copy_from_slice(&self.seq.to_be_bytes());
        p
    }

    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.prefix());
        out.extend_from_slice(&self.tag);
    }

    pub fn seconds(&self) -> u32 {
        (self.seq >> 32) as u32
    }
}

/// A message as it was sent: by whom, for which virtual router, and its
/// bytes (header, addresses, v2 auth data; no trailer).
#[derive(Clone, Copy, Debug)]
pub struct Msg<'a> {
    pub version: Version,
    pub vrid: u8,
    pub src: IpAddr,
    pub bytes: &'a [u8],
}

/// The input's pseudo-header: family, version, VRID, 0, the source
/// address padded to 16 bytes.
fn pseudo_header(version: Version, vrid: u8, src: IpAddr) -> [u8; 20] {
    let mut p = [0u8; 20];
    match src {
        IpAddr::V4(a) => {
            p[0] = 4;
            p[4..8].copy_from_slice(&a.octets());
        }
        IpAddr::V6(a) => {
            p[0] = 6;
            p[4..20].copy_from_slice(&a.octets());
        }
    }
    p[1] = version.number();
    p[2] = vrid;
    p
}

fn feed(mac: &mut HmacImpl<Sha256>, m: &Msg<'_>, prefix: &[u8; 12]) {
    let msg = m.bytes;
    mac.update(&pseudo_header(m.version, m.vrid, m.src));
    // The message with its checksum (bytes 6 and 7) read as zero.
    let cut = msg.len().min(6);
    mac.update(&msg[..cut]);
    if msg.len() > 6 {
        mac.update(&[0, 0][..(msg.len() - 6).min(2)]);
    }
    if msg.len() > 8 {
        mac.update(&msg[8..]);
    }
    mac.update(prefix);
    mac.update(&[0u8; TAG_LEN]);
}

/// The tag of message `m` with a trailer whose first 12 bytes are `prefix`.
pub fn tag(key: &HmacKey, m: &Msg<'_>, prefix: &[u8; 12]) -> [u8; TAG_LEN] {
    let mut mac = key.mac();
    feed(&mut mac, m, prefix);
    let full = mac.finalize().into_bytes();
    let mut t = [0u8; TAG_LEN];
    t.copy_from_slice(&full[..TAG_LEN]);
    t
}

/// Whether `tag` is right, compared in constant time.
fn tag_ok(key: &HmacKey, m: &Msg<'_>, t: &Trailer) -> bool {
    let mut mac = key.mac();
    feed(&mut mac, m, &t.prefix());
    mac.verify_truncated_left(&t.tag).is_ok()
}

/// RFC 1982 serial order of sequence numbers.
pub fn after(a: u64, b: u64) -> bool {
    (a.wrapping_sub(b) as i64) > 0
}

/// The sequence number of a UTC time (nanoseconds since the epoch):
/// seconds mod 2^32, a 16-bit binary fraction, counter 0.
pub fn clock_seq(unix_ns: u64) -> u64 {
    let sec = (unix_ns / 1_000_000_000) as u32;
    let frac = ((unix_ns % 1_000_000_000) << 16) / 1_000_000_000;
    (u64::from(sec) << 32) | (frac << 16)
}

/// Seconds between a sequence number's time and `now_sec`, either way.
fn skew(seq_sec: u32, now_sec: u32) -> u32 {
    (now_sec.wrapping_sub(seq_sec) as i32).unsigned_abs()
}

/// What a router remembers: the last sequence number it sent, and the
/// last one accepted from each sender (most recent first).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HmacState {
    last_sent: Option<u64>,
    marks: Vec<(IpAddr, u64)>,
}

impl HmacState {
    /// The sequence number of the next advert: the clock, or one past the
    /// last when the clock has not moved past it (a clock stepped back by
    /// more than the window starts again from the clock in time mode).
    pub fn next_seq(&mut self, cfg: &Hmac, unix_ns: u64) -> u64 {
        let clk = clock_seq(unix_ns);
        let seq = match self.last_sent {
            None => clk,
            Some(last) if after(clk, last) => clk,
            Some(last)
                if cfg.anti_replay == AntiReplay::Time
                    && ((last >> 32) as u32).wrapping_sub((clk >> 32) as u32) as i32 > cfg.window as i32 =>
            {
                clk
            }
            Some(last) => last.wrapping_add(1),
        };
        self.last_sent = Some(seq);
        seq
    }

    /// The trailer for `m` with sequence number `seq`, signed by the
    /// active key.
    pub fn trailer(cfg: &Hmac, m: &Msg<'_>, seq: u64) -> Option<Trailer> {
        let key = cfg.key(cfg.active)?;
        let mut t = Trailer {
            ext_type: EXT_HMAC_SHA256_128,
            key_id: key.id,
            reserved: 0,
            seq,
            tag: [0; TAG_LEN],
        };
        t.tag = tag(key, m, &t.prefix());
        Some(t)
    }

    /// Checks a received advert's trailer (`None`: it came without one):
    /// the drop reason, or `Ok` with the sender's replay mark moved on.
    pub fn verify(
        &mut self,
        cfg: &Hmac,
        m: &Msg<'_>,
        trailer: Option<&Trailer>,
        unix_ns: u64,
    ) -> Result<(), DropReason> {
        let src = m.src;
        let Some(t) = trailer else {
            return match cfg.mode {
                HmacMode::Enforce => Err(DropReason::AuthMissing),
                HmacMode::Permissive | HmacMode::ReceiveOnly => Ok(()),
            };
        };
        if t.ext_type != EXT_HMAC_SHA256_128 || t.reserved != 0 {
            return Err(DropReason::AuthMalformed);
        }
        let now_sec = (unix_ns / 1_000_000_000) as u32;
        let time = cfg.anti_replay == AntiReplay::Time;
        // Cheap to check before the HMAC, and it grants nothing.
        if time && skew(t.seconds(), now_sec) > cfg.window {
            return Err(DropReason::AuthStale);
        }
        let Some(key) = cfg.key(t.key_id) else {
            return Err(DropReason::AuthUnknownKey);
        };
        if !tag_ok(key, m, t) {
            return Err(DropReason::AuthBadHmac);
        }
        let at = self.marks.iter().position(|(a, _)| *a == src);
        let mark = at.map(|i| self.marks.remove(i).1).filter(|m| {
            // A mark from outside the window says nothing in time mode.
            !time || skew((*m >> 32) as u32, now_sec) <= cfg.window
        });
        if let Some(m) = mark
            && !after(t.seq, m)
        {
            self.marks.insert(0, (src, m));
            return Err(DropReason::Replayed);
        }
        self.marks.insert(0, (src, t.seq));
        self.marks.truncate(MARKS);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: u8) -> HmacKey {
        HmacKey::new(id, vec![id; 32]).unwrap()
    }

    #[test]
    fn keys_are_checked_and_never_printed() {
        assert!(HmacKey::new(0, vec![1; 32]).is_err());
        assert!(
            HmacKey::new(1, vec![1; 31])
                .unwrap_err()
                .contains("32 to 64 bytes")
        );
        assert!(HmacKey::new(1, vec![1; 65]).is_err());
        let k = HmacKey::from_hex(2, &format!("hex:{}\n", "aB".repeat(32))).unwrap();
        assert_eq!(k.bytes, vec![0xab; 32]);
        assert_eq!(format!("{k:?}"), "HmacKey { id: 2, 32 bytes }");
        assert!(HmacKey::from_hex(1, &"a".repeat(65)).unwrap_err().contains("odd"));
        assert!(
            HmacKey::from_hex(1, &"zz".repeat(32))
                .unwrap_err()
                .contains("not hex")
        );
    }

    #[test]
    fn settings_are_validated() {
        let mut h = Hmac::with_key(key(1), Duration::from_secs(1));
        assert_eq!(h.window, 5);
        assert_eq!(Hmac::default_window(Duration::from_secs(4)), 12);
        assert_eq!(Hmac::default_window(Duration::from_secs(200)), 300);
        h.validate().unwrap();
        h.active = 2;
        assert!(h.validate().unwrap_err().contains("active key 2"));
        h.keys.push(key(1));
        h.active = 1;
        assert!(h.validate().unwrap_err().contains("twice"));
    }

    #[test]
    fn sequence_numbers_follow_the_clock_and_never_repeat() {
        let h = Hmac::with_key(key(1), Duration::from_secs(1));
        let mut s = HmacState::default();
        let t = 1_782_000_000_500_000_000u64;
        let a = s.next_seq(&h, t);
        assert_eq!(a, clock_seq(t));
        assert_eq!(a >> 32, 1_782_000_000);
        assert_eq!((a >> 16) & 0xffff, 0x8000, "half a second");
        // The same instant again: one more.
        assert_eq!(s.next_seq(&h, t), a + 1);
        // A clock a little behind: still forward.
        assert_eq!(s.next_seq(&h, t - 1_000_000_000), a + 2);
        // A clock stepped back by more than the window: the clock again.
        let back = t - 60 * 1_000_000_000;
        assert_eq!(s.next_seq(&h, back), clock_seq(back));
    }

    fn m(bytes: &[u8]) -> Msg<'_> {
        Msg {
            version: Version::V3,
            vrid: 51,
            src: "192.0.2.11".parse().unwrap(),
            bytes,
        }
    }

    fn verify_all(s: &mut HmacState, h: &Hmac, msg: &[u8], t: &Trailer, now: u64) -> Result<(), DropReason> {
        s.verify(h, &m(msg), Some(t), now)
    }

    #[test]
    fn the_receiver_refuses_forgeries_strangers_stale_and_replayed_adverts() {
        let msg = [0x31, 51, 150, 1, 0, 100, 0x12, 0x34, 192, 0, 2, 3];
        let h = Hmac::with_key(key(1), Duration::from_secs(1));
        let now = 1_782_000_000_000_000_000u64;
        let mut tx = HmacState::default();
        let seq = tx.next_seq(&h, now);
        let t = HmacState::trailer(&h, &m(&msg), seq).unwrap();
        let mut rx = HmacState::default();
        assert_eq!(verify_all(&mut rx, &h, &msg, &t, now), Ok(()));
        assert_eq!(verify_all(&mut rx, &h, &msg, &t, now), Err(DropReason::Replayed));
        // The checksum is not covered: another copy's checksum still verifies.
        let mut other = msg;
        other[6] = 0xff;
        let t2 = HmacState::trailer(&h, &m(&msg), tx.next_seq(&h, now)).unwrap();
        assert_eq!(verify_all(&mut rx, &h, &other, &t2, now), Ok(()));
        // Anything else is.
        let mut forged = msg;
        forged[2] = 254;
        let t3 = HmacState::trailer(&h, &m(&msg), tx.next_seq(&h, now)).unwrap();
        assert_eq!(
            verify_all(&mut rx, &h, &forged, &t3, now),
            Err(DropReason::AuthBadHmac)
        );
        let stranger = Hmac::with_key(HmacKey::new(1, vec![9; 32]).unwrap(), Duration::from_secs(1));
        let t4 = HmacState::trailer(&stranger, &m(&msg), tx.next_seq(&h, now)).unwrap();
        assert_eq!(
            verify_all(&mut rx, &h, &msg, &t4, now),
            Err(DropReason::AuthBadHmac)
        );
        let t5 = HmacState::trailer(
            &Hmac::with_key(key(7), Duration::from_secs(1)),
            &m(&msg),
            tx.next_seq(&h, now),
        )
        .unwrap();
        assert_eq!(
            verify_all(&mut rx, &h, &msg, &t5, now),
            Err(DropReason::AuthUnknownKey)
        );
        let late = now + 6 * 1_000_000_000;
        let t6 = HmacState::trailer(&h, &m(&msg), tx.next_seq(&h, now)).unwrap();
        assert_eq!(
            verify_all(&mut rx, &h, &msg, &t6, late),
            Err(DropReason::AuthStale)
        );
        let mut bad = t6;
        bad.reserved = 1;
        assert_eq!(
            verify_all(&mut rx, &h, &msg, &bad, now),
            Err(DropReason::AuthMalformed)
        );
        assert_eq!(rx.verify(&h, &m(&msg), None, now), Err(DropReason::AuthMissing));
        let permissive = Hmac {
            mode: HmacMode::Permissive,
            ..h.clone()
        };
        assert_eq!(rx.verify(&permissive, &m(&msg), None, now), Ok(()));
    }

    #[test]
    fn during_a_rotation_both_keys_verify() {
        let msg = [0x31, 51, 150, 1, 0, 100, 0, 0, 192, 0, 2, 3];
        let now = 1_782_000_000_000_000_000u64;
        let both = Hmac {
            keys: vec![key(1), key(2)],
            active: 1,
            ..Hmac::with_key(key(1), Duration::from_secs(1))
        };
        let old = Hmac::with_key(key(1), Duration::from_secs(1));
        let new = Hmac::with_key(key(2), Duration::from_secs(1));
        let mut rx = HmacState::default();
        let a = HmacState::trailer(&old, &m(&msg), clock_seq(now)).unwrap();
        let b = HmacState::trailer(&new, &m(&msg), clock_seq(now) + 1).unwrap();
        assert_eq!(verify_all(&mut rx, &both, &msg, &a, now), Ok(()));
        assert_eq!(verify_all(&mut rx, &both, &msg, &b, now), Ok(()));
    }
}
