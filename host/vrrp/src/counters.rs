//! Why packets are dropped, and counters for it.

use std::fmt;

/// Every reason a received packet can be refused. Each one is counted; none is
/// silent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DropReason {
    /// Shorter than a header, or than the smallest advert of its family.
    Truncated,
    /// The IP header itself is malformed (version, length, checksum).
    BadIpHeader,
    /// IP protocol is not 112.
    NotVrrp,
    /// TTL / hop limit is not 255 (RFC 3768 §7.1, RFC 9568 §7.1).
    BadTtl,
    /// Version field is neither 2 (IPv4) nor 3, or not the instance's version.
    BadVersion,
    /// Type is not 1 (advertisement).
    BadType,
    /// VRRP checksum does not verify.
    BadChecksum,
    /// Count of addresses is zero or disagrees with the packet length.
    BadAddressCount,
    /// Advert interval of zero.
    BadInterval,
    /// Source and destination of different families, or a source that cannot
    /// be a VRRP router.
    BadSource,
    /// No instance serves this VRID on this interface and family.
    UnknownVrid,
    /// v2 authentication type or data differ from ours (RFC 3768 §7.1).
    AuthMismatch,
    /// v2 advert interval differs from ours (RFC 3768 §7.1).
    IntervalMismatch,
    /// The virtual addresses differ from ours (RFC 3768 §7.1, RFC 9568 §7.1 "MAY").
    AddressListMismatch,
    /// Our own advert came back (multicast loop, or a peer with our address).
    SelfOriginated,
    /// A unicast instance got an advert from a source that is none of its
    /// peers.
    NotAPeer,
    /// HMAC (`auth.type = "hmac"`, enforce mode): the advert has no trailer.
    AuthMissing,
    /// HMAC: a trailer of an unknown type, or with reserved bits set.
    AuthMalformed,
    /// HMAC: the trailer's time is outside the window (time mode).
    AuthStale,
    /// HMAC: signed with a key id we do not have.
    AuthUnknownKey,
    /// HMAC: the tag does not verify (forged, altered, or another key).
    AuthBadHmac,
    /// An authenticated advert whose sequence number is not newer than the
    /// last one accepted from its source.
    Replayed,
}

impl DropReason {
    pub const ALL: [DropReason; 22] = [
        DropReason::Truncated,
        DropReason::BadIpHeader,
        DropReason::NotVrrp,
        DropReason::BadTtl,
        DropReason::BadVersion,
        DropReason::BadType,
        DropReason::BadChecksum,
        DropReason::BadAddressCount,
        DropReason::BadInterval,
        DropReason::BadSource,
        DropReason::UnknownVrid,
        DropReason::AuthMismatch,
        DropReason::IntervalMismatch,
        DropReason::AddressListMismatch,
        DropReason::SelfOriginated,
        DropReason::NotAPeer,
        DropReason::AuthMissing,
        DropReason::AuthMalformed,
        DropReason::AuthStale,
        DropReason::AuthUnknownKey,
        DropReason::AuthBadHmac,
        DropReason::Replayed,
    ];

    /// Stable snake_case name, used in status output and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Truncated => "truncated",
            DropReason::BadIpHeader => "bad_ip_header",
            DropReason::NotVrrp => "not_vrrp",
            DropReason::BadTtl => "bad_ttl",
            DropReason::BadVersion => "bad_version",
            DropReason::BadType => "bad_type",
            DropReason::BadChecksum => "bad_checksum",
            DropReason::BadAddressCount => "bad_address_count",
            DropReason::BadInterval => "bad_interval",
            DropReason::BadSource => "bad_source",
            DropReason::UnknownVrid => "unknown_vrid",
            DropReason::AuthMismatch => "auth_mismatch",
            DropReason::IntervalMismatch => "interval_mismatch",
            DropReason::AddressListMismatch => "address_list_mismatch",
            DropReason::SelfOriginated => "self_originated",
            DropReason::NotAPeer => "not_a_peer",
            DropReason::AuthMissing => "auth_missing",
            DropReason::AuthMalformed => "auth_malformed",
            DropReason::AuthStale => "auth_stale",
            DropReason::AuthUnknownKey => "auth_unknown_key",
            DropReason::AuthBadHmac => "auth_bad_hmac",
            DropReason::Replayed => "replayed",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Drop counts by reason.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DropCounters([u64; DropReason::ALL.len()]);

impl DropCounters {
    pub fn count(&mut self, reason: DropReason) {
        self.0[reason.index()] += 1;
    }

    pub fn get(&self, reason: DropReason) -> u64 {
        self.0[reason.index()]
    }

    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    /// Non-zero counters, by reason.
    pub fn iter(&self) -> impl Iterator<Item = (DropReason, u64)> + '_ {
        DropReason::ALL
            .into_iter()
            .map(|r| (r, self.get(r)))
            .filter(|(_, n)| *n > 0)
    }
}

/// Per-instance counters other than drops.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub adverts_rx: u64,
    pub adverts_tx: u64,
    pub priority_zero_rx: u64,
    pub priority_zero_tx: u64,
    pub became_master: u64,
    pub transitions: u64,
    /// Claims a probe found answered by a holder that outranks us.
    pub claims_refused: u64,
    /// Claims that went ahead because the probe was not answered in time.
    pub claim_timeouts: u64,
    pub drops: DropCounters,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_reasons_listed_once_in_order() {
        for (i, r) in DropReason::ALL.iter().enumerate() {
            assert_eq!(r.index(), i, "{r} out of place");
        }
        let mut names: Vec<_> = DropReason::ALL.iter().map(|r| r.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), DropReason::ALL.len());
    }

    #[test]
    fn counts_by_reason() {
        let mut c = DropCounters::default();
        c.count(DropReason::BadTtl);
        c.count(DropReason::BadTtl);
        c.count(DropReason::AuthMismatch);
        assert_eq!(c.get(DropReason::BadTtl), 2);
        assert_eq!(c.total(), 3);
        assert_eq!(
            c.iter().collect::<Vec<_>>(),
            vec![(DropReason::BadTtl, 2), (DropReason::AuthMismatch, 1)]
        );
    }
}
