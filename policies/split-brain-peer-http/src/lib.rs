//! The seed's `check_brain.sh`, demoting instead of stopping keepalived.
//! While this instance claims its VIPs (Master, or holding them), it asks each
//! peer over HTTP at its own address (`http://PEER:PORT/PATH`): a peer that
//! answers `expect` is alive and serving, so both nodes hold the VIPs. If that
//! peer outranks this instance (VRRP's order: the higher priority, then the
//! higher primary address), demote; if we outrank it, alert and keep the VIPs
//! (the other side demotes); if no peer answers, stay. Once demoted, demote
//! again while a peer that outranks us still answers; otherwise stay (rejoin
//! the election).
//!
//! A peer's priority is its last advert's, remembered while it is silent; a
//! peer never heard (VRRP cut from the start) has `peer-priority` if set, and
//! otherwise can only raise an alert. A tie it cannot break (this instance's
//! address is known only while it is Master) alerts while we claim the VIPs,
//! and keeps us demoted once the tie demoted us.
//!
//! Settings: `port` (default 80), `path` (default "/"), `expect` (default
//! 200), `timeout-ms` (default 100, per peer), `peer-priority` (optional, see
//! above). The config must allow each peer's `ADDR:PORT`.

use std::net::Ipv6Addr;

use baton_guest::{Decision, Evidence, Peer, Result, Settings, SplitBrain, outranks, probe};

struct SplitBrainPeerHttp;

/// Where and how to ask a peer.
struct Ask {
    port: u16,
    path: String,
    expect: u16,
    timeout_ms: u32,
    peer_priority: Option<u8>,
}

impl Ask {
    fn from_settings(settings: &Settings) -> Result<Ask> {
        let path = settings.get_or("path", "/").trim();
        Ok(Ask {
            port: settings.get_u16("port")?.unwrap_or(80),
            path: if path.starts_with('/') {
                path.to_owned()
            } else {
                format!("/{path}")
            },
            expect: settings.get_u16("expect")?.unwrap_or(200),
            timeout_ms: settings.get_u32("timeout-ms")?.unwrap_or(100),
            peer_priority: settings.parse("peer-priority")?,
        })
    }

    fn url(&self, address: &str) -> String {
        let host = match address.parse::<Ipv6Addr>() {
            Ok(_) => format!("[{address}]"),
            Err(_) => address.to_owned(),
        };
        format!("http://{host}:{}{}", self.port, self.path)
    }

    /// "GET URL: STATUS" if `peer` answers `expect`; anything else is logged
    /// and counts as not serving.
    fn serving(&self, peer: &Peer) -> Option<String> {
        let url = self.url(&peer.address);
        match probe::http_get(&url, self.timeout_ms, 0) {
            Ok(r) if r.status == self.expect => Some(format!("GET {url}: {}", r.status)),
            Ok(r) => {
                baton_guest::debug!("GET {url}: {} (want {}): not serving", r.status, self.expect);
                None
            }
            Err(e) => {
                baton_guest::debug!("GET {url}: {}", baton_guest::Error::from(e));
                None
            }
        }
    }
}

impl SplitBrain for SplitBrainPeerHttp {
    fn decide(settings: &Settings, evidence: &Evidence) -> Result<Decision> {
        let ask = Ask::from_settings(settings)?;
        let demoted = evidence.last_decided("demote");
        if !demoted && !evidence.claims_vips() {
            return Ok(Decision::Stay);
        }
        let ours = evidence.instance.effective_priority;
        let peers = evidence.peers.iter().filter(|p| !p.address.trim().is_empty());
        if demoted {
            // Only a peer that outranks us keeps us demoted: ask no other.
            for peer in peers {
                let Some(theirs) = peer.last_priority.or(ask.peer_priority) else {
                    continue;
                };
                let above = outranks(theirs, Some(&peer.address), ours, evidence.own_address());
                if above.unwrap_or(true)
                    && let Some(answer) = ask.serving(peer)
                {
                    return Ok(Decision::Demote(format!(
                        "peer {} (priority {theirs}) still serves ({answer}) and outranks us ({ours}): staying demoted",
                        peer.address
                    )));
                }
            }
            baton_guest::info!("no peer that outranks us serves any more: rejoining");
            return Ok(Decision::Stay);
        }
        let mut alerts = Vec::new();
        for peer in peers {
            let Some(answer) = ask.serving(peer) else { continue };
            let address = &peer.address;
            let Some(theirs) = peer.last_priority.or(ask.peer_priority) else {
                alerts.push(format!("peer {address} ({answer}, priority unknown)"));
                continue;
            };
            match outranks(theirs, Some(address), ours, evidence.own_address()) {
                Some(true) => {
                    return Ok(Decision::Demote(format!(
                        "peer {address} (priority {theirs}) serves ({answer}) while we hold the VIPs, and outranks us ({ours})"
                    )));
                }
                Some(false) => alerts.push(format!("peer {address} ({answer}, priority {theirs})")),
                None => alerts.push(format!(
                    "peer {address} ({answer}, priority {theirs}, a tie we cannot break)"
                )),
            }
        }
        if alerts.is_empty() {
            return Ok(Decision::Stay);
        }
        Ok(Decision::Alert(format!(
            "{} serves while we hold the VIPs; none is known to outrank us ({ours}): keeping the VIPs",
            alerts.join(", ")
        )))
    }
}

baton_guest::export_split_brain!(SplitBrainPeerHttp);
