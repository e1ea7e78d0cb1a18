//! Decides from ARP/ND evidence. While this instance claims its VIPs (Master,
//! or holding them) and a MAC other than ours answers for one of them,
//! another node holds it too. That node is taken to be the peer with the
//! highest remembered priority (its last advert, remembered while it is
//! silent, as it is when VRRP is cut): if it outranks this instance (VRRP's
//! order: the higher priority, then the higher primary address), demote; if
//! not, alert and keep the VIPs (the other side demotes). Once demoted,
//! demote again while any VIP is still answered by another MAC; when none is,
//! stay (rejoin the election). No other MAC: stay.
//!
//! A tie it cannot break (this instance's address is known only while it is
//! Master) and a conflict with no peer's priority known alert, and keep the
//! VIPs.
//!
//! Settings: none.

use std::cmp::Ordering;

use baton_guest::{Decision, Evidence, Peer, Result, Settings, SplitBrain, outranks};

struct SplitBrainArp;

impl SplitBrain for SplitBrainArp {
    fn decide(_settings: &Settings, evidence: &Evidence) -> Result<Decision> {
        let contested: Vec<(&str, Vec<&str>)> = evidence.contested().collect();
        let Some(conflict) = describe(&contested) else {
            if evidence.last_decided("demote") {
                baton_guest::info!("no other MAC answers for the VIPs any more: rejoining");
            }
            return Ok(Decision::Stay);
        };
        if evidence.last_decided("demote") {
            return Ok(Decision::Demote(format!("{conflict}: staying demoted")));
        }
        if !evidence.claims_vips() {
            return Ok(Decision::Stay);
        }
        let ours = evidence.instance.effective_priority;
        let Some((holder, theirs)) = likely_holder(&evidence.peers) else {
            return Ok(Decision::Alert(format!(
                "{conflict}; no peer's priority is known: keeping the VIPs"
            )));
        };
        let peer = &holder.address;
        Ok(match outranks(theirs, Some(peer), ours, evidence.own_address()) {
            Some(true) => Decision::Demote(format!(
                "{conflict}; peer {peer} (priority {theirs}) outranks us ({ours})"
            )),
            Some(false) => Decision::Alert(format!(
                "{conflict}; we ({ours}) outrank peer {peer} (priority {theirs}): keeping the VIPs"
            )),
            None => Decision::Alert(format!(
                "{conflict}; peer {peer} ties with us (priority {ours}) and our address is unknown: keeping the VIPs"
            )),
        })
    }
}

/// "VIP A answered by M1, M2 (and N more VIPs)", if any VIP is contested.
fn describe(contested: &[(&str, Vec<&str>)]) -> Option<String> {
    let ((vip, macs), rest) = contested.split_first()?;
    let mut s = format!("VIP {vip} answered by {}", macs.join(", "));
    match rest.len() {
        0 => {}
        1 => s.push_str(" (and 1 more VIP)"),
        n => s.push_str(&format!(" (and {n} more VIPs)")),
    }
    Some(s)
}

/// The peer with the highest remembered priority (the higher address on a
/// tie), with that priority: the one that would win the election we cannot see.
fn likely_holder(peers: &[Peer]) -> Option<(&Peer, u8)> {
    peers
        .iter()
        .filter_map(|p| p.last_priority.map(|prio| (p, prio)))
        .max_by(
            |(a, pa), (b, pb)| match outranks(*pa, Some(&a.address), *pb, Some(&b.address)) {
                Some(true) => Ordering::Greater,
                Some(false) => Ordering::Less,
                None => Ordering::Equal,
            },
        )
}

baton_guest::export_split_brain!(SplitBrainArp);
