//! Routes, addresses with `brd` / `scope`, and `use_vmac` macvlans against a
//! real kernel, in throwaway network namespaces (root only).

mod common;

use std::io::ErrorKind;
use std::net::IpAddr;

use baton_net::{Netlink, RouteSpec, VmacLink, Vmacs};
use common::{ip, lab};

fn addr(s: &str) -> IpAddr {
    s.parse().expect("address literal")
}

fn sysctl(key: &str) -> String {
    std::fs::read_to_string(format!("/proc/sys/net/{key}"))
        .unwrap_or_else(|e| panic!("{key}: {e}"))
        .trim()
        .to_string()
}

fn route(dst: &str, len: u8, via: Option<&str>) -> RouteSpec {
    RouteSpec {
        dst: addr(dst),
        prefix_len: len,
        blackhole: false,
        src: None,
        via: via.map(addr),
        oif: None,
        scope: None,
        table: Some(100),
        metric: Some(7),
    }
}

#[test]
fn routes_are_added_and_removed_idempotently() {
    let Some(lab) = lab("routes_are_added_and_removed_idempotently") else {
        return;
    };
    let va = lab.ifindex(&lab.a, "va");
    let ns = lab.a.clone();
    lab.block_on(async {
        let (nl, _events) = Netlink::new().await.expect("netlink");
        let r = RouteSpec {
            oif: Some(va),
            src: Some(addr("192.0.2.1")),
            ..route("198.51.100.0", 24, Some("192.0.2.2"))
        };
        for _ in 0..2 {
            nl.add_route(&r).await.expect("add (twice is fine)");
        }
        let shown = ip(&["-n", &ns, "route", "show", "table", "100"]);
        assert!(
            shown.contains("198.51.100.0/24 via 192.0.2.2 dev va")
                && shown.contains("src 192.0.2.1 metric 7"),
            "{shown}"
        );
        let hole = RouteSpec {
            blackhole: true,
            ..route("198.51.100.128", 25, None)
        };
        nl.add_route(&hole).await.expect("blackhole");
        let shown = ip(&["-n", &ns, "route", "show", "table", "100"]);
        assert!(shown.contains("blackhole 198.51.100.128/25"), "{shown}");
        for _ in 0..2 {
            nl.del_route(&r).await.expect("del (twice is fine)");
            nl.del_route(&hole).await.expect("del blackhole");
        }
        let shown = ip(&["-n", &ns, "route", "show", "table", "100"]);
        assert!(shown.trim().is_empty(), "{shown}");
        // A gateway no link reaches: an error value that says what.
        let e = nl
            .add_route(&route("198.51.100.0", 24, Some("203.0.113.1")))
            .await
            .expect_err("unreachable gateway");
        assert!(e.to_string().contains("adding route to 198.51.100.0/24"), "{e}");
    });
}

#[test]
fn an_address_keeps_its_broadcast_and_scope() {
    let Some(lab) = lab("an_address_keeps_its_broadcast_and_scope") else {
        return;
    };
    let va = lab.ifindex(&lab.a, "va");
    let ns = lab.a.clone();
    lab.block_on(async {
        let (nl, _events) = Netlink::new().await.expect("netlink");
        let brd = Some("192.0.2.127".parse().unwrap());
        nl.add_address_with(va, addr("192.0.2.100"), 25, Some("va:3"), brd, Some(254))
            .await
            .expect("add");
        let shown = ip(&["-n", &ns, "-4", "-o", "addr", "show", "dev", "va"]);
        let line = shown
            .lines()
            .find(|l| l.contains("192.0.2.100/25"))
            .unwrap_or_else(|| panic!("{shown}"));
        assert!(
            line.contains("brd 192.0.2.127") && line.contains("scope host") && line.contains("va:3"),
            "{line}"
        );
        nl.del_address(va, addr("192.0.2.100"), 25).await.expect("del");
    });
}

#[test]
fn a_vmac_is_a_private_macvlan_and_its_base_is_put_back() {
    let Some(lab) = lab("a_vmac_is_a_private_macvlan_and_its_base_is_put_back") else {
        return;
    };
    if std::process::Command::new("nft")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("SKIPPED: no nft");
        return;
    }
    let ns = lab.a.clone();
    ip(&[
        "-n", &ns, "link", "add", "other7", "type", "veth", "peer", "name", "other7p",
    ]);
    lab.block_on(async {
        let (nl, _events) = Netlink::new().await.expect("netlink");
        let before: Vec<String> = ["arp_ignore", "arp_filter", "arp_announce"]
            .iter()
            .map(|k| sysctl(&format!("ipv4/conf/va/{k}")))
            .collect();
        let mut vmacs = Vmacs::new();
        let v = VmacLink {
            name: "vrrp.7",
            base: "va",
            mac: [0, 0, 0x5e, 0, 1, 7],
            v6: false,
            ipv6: false,
        };
        let link = vmacs.create(&nl, &v).await.expect("create");
        assert_eq!(link.mac, Some(v.mac));
        assert!(link.up, "{link:?}");
        let shown = ip(&["-n", &ns, "-d", "-o", "link", "show", "vrrp.7"]);
        assert!(
            shown.contains("macvlan mode private") && shown.contains("00:00:5e:00:01:07"),
            "{shown}"
        );
        assert_eq!(sysctl("ipv4/conf/vrrp.7/arp_ignore"), "1");
        assert_eq!(sysctl("ipv4/conf/vrrp.7/rp_filter"), "0");
        assert_eq!(sysctl("ipv4/conf/vrrp.7/accept_local"), "1");
        assert_eq!(sysctl("ipv6/conf/vrrp.7/disable_ipv6"), "1");
        assert_eq!(sysctl("ipv4/conf/va/arp_ignore"), "1");
        assert_eq!(sysctl("ipv4/conf/va/arp_filter"), "1");
        assert_eq!(sysctl("ipv4/conf/va/arp_announce"), "2");
        let rules = std::process::Command::new("nft")
            .args(["list", "table", "ip", "baton_vmac"])
            .output()
            .expect("nft");
        let rules = String::from_utf8_lossy(&rules.stdout).to_string();
        assert!(
            rules.contains("oifname \"vrrp.7\"") && rules.contains("device \"va\""),
            "{rules}"
        );
        // A leftover of ours (same name, a macvlan) is replaced.
        let again = vmacs.create(&nl, &v).await.expect("create over a leftover");
        assert_ne!(again.index, link.index);
        // Another kind of link by that name is not ours to delete.
        let other = VmacLink {
            name: "other7",
            ..v.clone()
        };
        let e = vmacs.create(&nl, &other).await.expect_err("a veth");
        assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{e}");
        vmacs.delete(&nl, "vrrp.7").await.expect("delete");
        vmacs.delete(&nl, "vrrp.7").await.expect("delete twice is fine");
        let gone = nl.link_by_name("vrrp.7").await.expect_err("gone");
        assert_eq!(gone.kind(), ErrorKind::NotFound);
        let after: Vec<String> = ["arp_ignore", "arp_filter", "arp_announce"]
            .iter()
            .map(|k| sysctl(&format!("ipv4/conf/va/{k}")))
            .collect();
        assert_eq!(after, before, "the base's ARP settings are put back");
        let rules = std::process::Command::new("nft")
            .args(["list", "table", "ip", "baton_vmac"])
            .output()
            .expect("nft");
        assert!(!rules.status.success(), "the table outlived the last macvlan");
    });
}
