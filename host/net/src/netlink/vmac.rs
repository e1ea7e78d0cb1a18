//! `use_vmac` macvlans, as keepalived makes them (vrrp_vmac.c,
//! vrrp_if_config.c): mode private on the base interface, with the virtual
//! MAC, and the sysctls that make it work:
//!
//! - on the macvlan, `arp_ignore=1`: answer ARP only for its own addresses
//!   (the VIPs), never for the host's real ones with the virtual MAC;
//!   IPv4 also `accept_local=1` (hear adverts whose source is local),
//!   `rp_filter=0` (receive adverts on a link with no address of the
//!   sender's subnet) and `promote_secondaries=1` (removing one VIP keeps
//!   the others).
//! - on the base, `arp_ignore=1` and `arp_filter=1`: it must not answer ARP
//!   for the VIPs on the macvlan with the real MAC (Linux answers for any
//!   local address on any link by default). Also `arp_announce=2`, which
//!   keepalived's documentation only recommends: else the ARP requests the
//!   base sends for clients (replies to the VIP leave by the base's route)
//!   carry the VIP as sender, and clients learn the real MAC for it. The
//!   values found are put back when its last macvlan goes.
//! - IPv6: no address generated from the virtual MAC (every router would
//!   have the same link-local, RFC 5798 7.4); the base's link-local is
//!   added instead, so adverts leave with the router's own source.
//!
//! Private mode matters: a peer's adverts come from the same virtual MAC,
//! and macvlan delivers a multicast frame from a MAC it owns only to the
//! macvlan that owns it. So adverts are received on the macvlan.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::path::PathBuf;

use netlink_packet_route::link::{InfoKind, LinkAttribute, LinkInfo, MacVlanMode};
use rtnetlink::{LinkMacVlan, LinkUnspec};

use super::journal::{Entry, Journal};
use super::{Link, Netlink, nl_error};
use crate::context;

/// One macvlan to make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VmacLink<'a> {
    pub name: &'a str,
    pub base: &'a str,
    pub mac: [u8; 6],
    /// An IPv6 instance: the base's link-local instead of a generated one.
    pub v6: bool,
    /// IPv6 runs on it (an IPv6 instance, or IPv6 addresses on it); else it
    /// is disabled, as keepalived does.
    pub ipv6: bool,
}

/// The base interface settings found before the first macvlan on it.
#[derive(Debug)]
struct Saved {
    arp_ignore: Option<String>,
    arp_filter: Option<String>,
    arp_announce: Option<String>,
    users: usize,
}

/// A strict or loose `all.rp_filter` (the kernel filters by the larger of
/// `all` and the interface's, so a macvlan's own 0 counts for nothing):
/// its old value, and the interfaces raised to it so they filter as before,
/// with theirs.
#[derive(Debug)]
struct RpHeld {
    all: String,
    raised: Vec<(String, String)>,
}

/// The macvlans made by this process, and what they changed on their bases.
#[derive(Debug, Default)]
pub struct Vmacs {
    bases: HashMap<String, Saved>,
    /// macvlan name -> its base, for IPv4 ones (which changed the base).
    made: HashMap<String, String>,
    /// Every macvlan made -> its base, whose reports the firewall moves.
    all: std::collections::BTreeMap<String, String>,
    /// `all.rp_filter` lifted while an IPv4 macvlan needs it.
    rp_filter: Option<RpHeld>,
    /// Indices of the links this process deleted: their last events are
    /// its own doing, not news (a macvlan replaced by one of the same name).
    deleted: std::collections::HashSet<u32>,
    /// What `bases` and `rp_filter` are to put back, also on disk.
    journal: Journal,
}

fn sysctl_path(family: &str, ifname: &str, key: &str) -> String {
    format!("/proc/sys/net/{family}/conf/{ifname}/{key}")
}

fn set_sysctl(family: &str, ifname: &str, key: &str, value: &str) -> io::Result<()> {
    let path = sysctl_path(family, ifname, key);
    std::fs::write(&path, value).map_err(|e| context(e, format!("writing {value} to {path}")))
}

fn get_sysctl(family: &str, ifname: &str, key: &str) -> Option<String> {
    std::fs::read_to_string(sysctl_path(family, ifname, key))
        .ok()
        .map(|s| s.trim().to_string())
}

/// Whether a link message is a macvlan's.
fn is_macvlan(msg: &netlink_packet_route::link::LinkMessage) -> bool {
    msg.attributes.iter().any(|a| match a {
        LinkAttribute::LinkInfo(infos) => infos
            .iter()
            .any(|i| matches!(i, LinkInfo::Kind(InfoKind::MacVlan))),
        _ => false,
    })
}

impl Vmacs {
    pub fn new() -> Vmacs {
        Vmacs::default()
    }

    /// Keeps what is to be put back in `path` too (see the journal's
    /// module docs); [`Vmacs::recover`] applies what a run left there.
    pub fn with_journal(path: PathBuf) -> Vmacs {
        Vmacs {
            journal: Journal::at(path),
            ..Vmacs::default()
        }
    }

    /// Puts back the sysctls an earlier run changed and did not (it was
    /// killed); returns `KEY=VALUE` for each. Call before making anything.
    pub fn recover(&self) -> io::Result<Vec<String>> {
        self.journal.recover()
    }

    /// The journal, as `bases` and `rp_filter` now say.
    fn sync_journal(&self) -> io::Result<()> {
        let mut entries: Vec<Entry> = Vec::new();
        for (base, s) in &self.bases {
            for (key, v) in [
                ("arp_ignore", &s.arp_ignore),
                ("arp_filter", &s.arp_filter),
                ("arp_announce", &s.arp_announce),
            ] {
                if let Some(v) = v {
                    entries.push((sysctl_path("ipv4", base, key), v.clone()));
                }
            }
        }
        if let Some(held) = &self.rp_filter {
            entries.push((sysctl_path("ipv4", "all", "rp_filter"), held.all.clone()));
            for (name, old) in &held.raised {
                entries.push((sysctl_path("ipv4", name, "rp_filter"), old.clone()));
            }
        }
        entries.sort();
        self.journal.write(&entries)
    }

    /// Creates the macvlan (a leftover macvlan of that name is replaced; any
    /// other link of that name is an error), sets its sysctls and brings it
    /// up. Returns the new link.
    pub async fn create(&mut self, nl: &Netlink, v: &VmacLink<'_>) -> io::Result<Link> {
        let what = format!("creating macvlan {} on {}", v.name, v.base);
        let base = nl.link_by_name(v.base).await.map_err(|e| context(e, &what))?;
        self.remove_leftover(nl, v.name)
            .await
            .map_err(|e| context(e, &what))?;
        let msg = LinkMacVlan::new(v.name, base.index, MacVlanMode::Private)
            .address(v.mac.to_vec())
            .build();
        nl.handle
            .link()
            .add(msg)
            .execute()
            .await
            .map_err(|e| nl_error(e, &what))?;
        let link = nl.link_by_name(v.name).await.map_err(|e| context(e, &what))?;
        self.all.insert(v.name.to_string(), v.base.to_string());
        // Before it is up: no report leaves with the virtual MAC.
        let made = match self.move_reports() {
            Ok(()) => self.configure(nl, v, &link).await,
            Err(e) => Err(e),
        };
        if let Err(e) = made {
            // Half made is not made: leave nothing behind.
            let _ = nl.handle.link().del(link.index).execute().await;
            let _ = self.forget(v.name);
            return Err(context(e, &what));
        }
        nl.link_by_index(link.index).await.map_err(|e| context(e, &what))
    }

    async fn configure(&mut self, nl: &Netlink, v: &VmacLink<'_>, link: &Link) -> io::Result<()> {
        set_sysctl("ipv4", v.name, "arp_ignore", "1")?;
        if v.ipv6 || v.v6 {
            // 1: no link-local from the (shared) virtual MAC.
            set_sysctl("ipv6", v.name, "addr_gen_mode", "1")?;
        } else {
            // A kernel without IPv6 has nothing to turn off.
            match set_sysctl("ipv6", v.name, "disable_ipv6", "1") {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        if !v.v6 {
            set_sysctl("ipv4", v.name, "accept_local", "1")?;
            set_sysctl("ipv4", v.name, "rp_filter", "0")?;
            set_sysctl("ipv4", v.name, "promote_secondaries", "1")?;
            self.hold_base(v.base)?;
            self.hold_rp_filter()?;
            self.made.insert(v.name.to_string(), v.base.to_string());
        }
        let up = LinkUnspec::new_with_index(link.index).up().build();
        nl.handle
            .link()
            .set(up)
            .execute()
            .await
            .map_err(|e| nl_error(e, format!("bringing {} up", v.name)))?;
        if v.v6 {
            let base = nl.link_by_name(v.base).await?;
            let ll = nl
                .addresses(Some(base.index))
                .await?
                .into_iter()
                .find(|a| matches!(a.addr, IpAddr::V6(a6) if a6.is_unicast_link_local()))
                .ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::AddrNotAvailable,
                        format!("{} has no link-local address", v.base),
                    )
                })?;
            nl.add_address(link.index, ll.addr, 64, None).await?;
        }
        Ok(())
    }

    /// arp_ignore / arp_filter on the base, the old values kept for the last
    /// macvlan's end.
    fn hold_base(&mut self, base: &str) -> io::Result<()> {
        if let Some(s) = self.bases.get_mut(base) {
            s.users += 1;
            return Ok(());
        }
        let saved = Saved {
            arp_ignore: get_sysctl("ipv4", base, "arp_ignore"),
            arp_filter: get_sysctl("ipv4", base, "arp_filter"),
            arp_announce: get_sysctl("ipv4", base, "arp_announce"),
            users: 1,
        };
        // Kept (and on disk) first: a change is never unknown to the journal.
        self.bases.insert(base.to_string(), saved);
        self.sync_journal()?;
        set_sysctl("ipv4", base, "arp_ignore", "1")?;
        set_sysctl("ipv4", base, "arp_filter", "1")?;
        set_sysctl("ipv4", base, "arp_announce", "2")
    }

    /// As keepalived does: `all.rp_filter` to 0, every other interface
    /// (and `default`, for those made later) raised to its old value first.
    fn hold_rp_filter(&mut self) -> io::Result<()> {
        if self.rp_filter.is_some() {
            return Ok(());
        }
        let Some(all) = get_sysctl("ipv4", "all", "rp_filter") else {
            return Ok(());
        };
        let level: u8 = all.parse().unwrap_or(0);
        if level == 0 {
            return Ok(());
        }
        let mut held = RpHeld {
            all,
            raised: Vec::new(),
        };
        let conf = std::fs::read_dir("/proc/sys/net/ipv4/conf")
            .map_err(|e| context(e, "listing interfaces' sysctls"))?;
        for entry in conf.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name == "all" || self.all.contains_key(&name) {
                continue;
            }
            let Some(old) = get_sysctl("ipv4", &name, "rp_filter") else {
                continue;
            };
            if old.parse::<u8>().unwrap_or(0) < level {
                held.raised.push((name, old));
            }
        }
        let (all, raise): (String, Vec<String>) = (
            held.all.clone(),
            held.raised.iter().map(|(n, _)| n.clone()).collect(),
        );
        self.rp_filter = Some(held);
        self.sync_journal()?;
        for name in &raise {
            set_sysctl("ipv4", name, "rp_filter", &all)?;
        }
        set_sysctl("ipv4", "all", "rp_filter", "0")
    }

    /// `all.rp_filter` and the raised interfaces as they were (those gone
    /// took theirs with them).
    fn release_rp_filter(&mut self) -> io::Result<()> {
        let Some(held) = self.rp_filter.take() else {
            return Ok(());
        };
        let all = set_sysctl("ipv4", "all", "rp_filter", &held.all);
        for (name, old) in &held.raised {
            let _ = set_sysctl("ipv4", name, "rp_filter", old);
        }
        all.and(self.sync_journal())
    }

    fn release_base(&mut self, base: &str) -> io::Result<()> {
        let Some(s) = self.bases.get_mut(base) else {
            return Ok(());
        };
        s.users -= 1;
        if s.users > 0 {
            return Ok(());
        }
        let s = self.bases.remove(base).expect("present");
        // A base that is gone took its settings with it.
        if let Some(v) = s.arp_ignore {
            let _ = set_sysctl("ipv4", base, "arp_ignore", &v);
        }
        if let Some(v) = s.arp_filter {
            let _ = set_sysctl("ipv4", base, "arp_filter", &v);
        }
        if let Some(v) = s.arp_announce {
            let _ = set_sysctl("ipv4", base, "arp_announce", &v);
        }
        self.sync_journal()
    }

    /// A macvlan of `name` left by an earlier run is deleted; another kind
    /// of link by that name is not ours to touch.
    async fn remove_leftover(&mut self, nl: &Netlink, name: &str) -> io::Result<()> {
        let Some(msg) = find(nl, name).await? else {
            // Deleted by someone else: what it changed is to be held again.
            return self.forget(name);
        };
        if !is_macvlan(&msg) {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{name} exists and is not a macvlan"),
            ));
        }
        self.delete_index(nl, name, msg.header.index).await
    }

    /// Deletes the macvlan (absent is done) and restores its base.
    pub async fn delete(&mut self, nl: &Netlink, name: &str) -> io::Result<()> {
        let what = format!("deleting macvlan {name}");
        let Some(msg) = find(nl, name).await.map_err(|e| context(e, &what))? else {
            self.forget(name)?;
            return Ok(());
        };
        if !is_macvlan(&msg) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{what}: not a macvlan"),
            ));
        }
        self.delete_index(nl, name, msg.header.index)
            .await
            .map_err(|e| context(e, &what))
    }

    async fn delete_index(&mut self, nl: &Netlink, name: &str, index: u32) -> io::Result<()> {
        self.deleted.insert(index);
        match nl.handle.link().del(index).execute().await {
            Ok(()) => {}
            Err(e) if super::errno_of(&e) == Some(nix::libc::ENODEV) => {}
            Err(e) => {
                // Still there: what it says next is news.
                self.deleted.remove(&index);
                return Err(nl_error(e, format!("deleting link {name}")));
            }
        }
        self.forget(name)
    }

    /// Whether an event of link `index` comes from this process deleting
    /// it; forgotten with its removal.
    pub fn deleted_by_us(&mut self, index: u32, removed: bool) -> bool {
        match removed {
            true => self.deleted.remove(&index),
            false => self.deleted.contains(&index),
        }
    }

    fn move_reports(&self) -> io::Result<()> {
        let list: Vec<(String, String)> = self.all.iter().map(|(a, b)| (a.clone(), b.clone())).collect();
        crate::firewall::set_vmac_reports(&list)
    }

    fn forget(&mut self, name: &str) -> io::Result<()> {
        let fw = match self.all.remove(name) {
            Some(_) => self.move_reports(),
            None => Ok(()),
        };
        let base = match self.made.remove(name) {
            Some(base) => self.release_base(&base),
            None => Ok(()),
        };
        let rp = match self.made.is_empty() {
            true => self.release_rp_filter(),
            false => Ok(()),
        };
        fw.and(base).and(rp)
    }
}

/// The link message of `name`, if there is such a link.
async fn find(nl: &Netlink, name: &str) -> io::Result<Option<netlink_packet_route::link::LinkMessage>> {
    use futures_util::TryStreamExt;
    let req = nl.handle.link().get().match_name(name.to_string()).execute();
    futures_util::pin_mut!(req);
    match req.try_next().await {
        Ok(m) => Ok(m),
        Err(e) if super::errno_of(&e) == Some(nix::libc::ENODEV) => Ok(None),
        Err(e) => Err(nl_error(e, format!("looking up {name}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysctl_paths_keep_dots_in_names() {
        assert_eq!(
            sysctl_path("ipv4", "vrrp.51", "arp_ignore"),
            "/proc/sys/net/ipv4/conf/vrrp.51/arp_ignore"
        );
    }
}
