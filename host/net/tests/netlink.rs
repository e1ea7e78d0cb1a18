//! Netlink against a real kernel, in throwaway network namespaces (root only).

mod common;

use std::io::ErrorKind;
use std::net::IpAddr;
use std::time::Duration;

use baton_net::{IfAddr, LinkEvent, Netlink, primary_address};
use baton_vrrp::Family;
use common::{LL_A, MAC_A, V4_A, ip, lab};
use tokio::sync::mpsc::UnboundedReceiver;

fn addr(s: &str) -> IpAddr {
    s.parse().expect("address literal")
}

#[test]
fn link_lookup_by_name_and_index() {
    let Some(lab) = lab("link_lookup_by_name_and_index") else {
        return;
    };
    let va = lab.ifindex(&lab.a, "va");
    lab.block_on(async {
        let (nl, _events) = Netlink::new().await.expect("netlink");
        let link = nl.link_by_name("va").await.expect("va");
        assert_eq!(link.index, va);
        assert_eq!(link.name, "va");
        assert_eq!(link.mac, Some(MAC_A));
        assert!(link.up, "va and its peer are up: {link:?}");
        assert_eq!(nl.link_by_index(va).await.expect("by index"), link);

        let lo = nl.link_by_name("lo").await.expect("lo");
        assert_eq!(lo.index, 1);

        let e = nl.link_by_name("nosuch0").await.expect_err("absent");
        assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
        let e = nl.link_by_index(99_999).await.expect_err("absent");
        assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
        let e = nl
            .link_by_name("a-name-far-too-long")
            .await
            .expect_err("too long");
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    });
}

#[test]
fn ipv4_address_add_del_idempotent_with_label() {
    let Some(lab) = lab("ipv4_address_add_del_idempotent_with_label") else {
        return;
    };
    let va = lab.ifindex(&lab.a, "va");
    let ns = lab.a.clone();
    lab.block_on(async {
        let (nl, _events) = Netlink::new().await.expect("netlink");
        let vip = addr("192.0.2.100");
        let want = IfAddr {
            index: va,
            addr: vip,
            prefix_len: 24,
            label: Some("va:1".into()),
        };
        for _ in 0..2 {
            nl.add_address(va, vip, 24, Some("va:1"))
                .await
                .expect("add (twice is fine)");
        }
        let addrs = nl.addresses(Some(va)).await.expect("list");
        assert!(addrs.contains(&want), "{addrs:?}");
        assert!(addrs.iter().all(|a| a.index == va));
        // The kernel made it a secondary of 192.0.2.1/24 and kept the label.
        let shown = ip(&["-n", &ns, "-4", "-o", "addr", "show", "dev", "va"]);
        let line = shown
            .lines()
            .find(|l| l.contains("192.0.2.100/24"))
            .unwrap_or_else(|| panic!("{shown}"));
        assert!(line.contains("secondary") && line.contains("va:1"), "{line}");

        let all = nl.addresses(None).await.expect("list all");
        assert!(
            all.iter().any(|a| a.addr == addr("127.0.0.1") && a.index == 1),
            "{all:?}"
        );
        assert!(all.contains(&want));

        let e = nl
            .add_address(va, addr("192.0.2.101"), 24, Some("vb:1"))
            .await
            .expect_err("label of another interface");
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
        let e = nl
            .add_address(va, addr("192.0.2.101"), 33, None)
            .await
            .expect_err("prefix");
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");

        for _ in 0..2 {
            nl.del_address(va, vip, 24).await.expect("del (twice is fine)");
        }
        let addrs = nl.addresses(Some(va)).await.expect("list");
        assert!(!addrs.iter().any(|a| a.addr == vip), "{addrs:?}");
        assert!(
            addrs.iter().any(|a| a.addr == IpAddr::V4(V4_A)),
            "primary untouched: {addrs:?}"
        );
        // A vanished interface: nothing to delete.
        nl.del_address(99_999, vip, 24)
            .await
            .expect("del on absent interface");
    });
}

#[test]
fn ipv6_address_is_added_nodad_and_idempotent() {
    let Some(lab) = lab("ipv6_address_is_added_nodad_and_idempotent") else {
        return;
    };
    let va = lab.ifindex(&lab.a, "va");
    let ns = lab.a.clone();
    lab.block_on(async {
        let (nl, _events) = Netlink::new().await.expect("netlink");
        let vip = addr("2001:db8::100");
        for _ in 0..2 {
            nl.add_address(va, vip, 64, None)
                .await
                .expect("add (twice is fine)");
        }
        let addrs = nl.addresses(Some(va)).await.expect("list");
        assert!(
            addrs.contains(&IfAddr {
                index: va,
                addr: vip,
                prefix_len: 64,
                label: None
            }),
            "{addrs:?}"
        );
        let shown = ip(&["-n", &ns, "-6", "-o", "addr", "show", "dev", "va"]);
        let line = shown
            .lines()
            .find(|l| l.contains("2001:db8::100/64"))
            .unwrap_or_else(|| panic!("{shown}"));
        assert!(line.contains("nodad") && !line.contains("tentative"), "{line}");

        let e = nl
            .add_address(va, vip, 64, Some("va:6"))
            .await
            .expect_err("no v6 labels");
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");

        for _ in 0..2 {
            nl.del_address(va, vip, 64).await.expect("del (twice is fine)");
        }
        let addrs = nl.addresses(Some(va)).await.expect("list");
        assert!(!addrs.iter().any(|a| a.addr == vip), "{addrs:?}");
    });
}

#[test]
fn primary_address_skips_vips_and_secondaries() {
    let Some(lab) = lab("primary_address_skips_vips_and_secondaries") else {
        return;
    };
    let ns = lab.a.clone();
    // A second, empty veth pair inside A, both ends up (IPv6 addresses stay
    // tentative on a link without carrier).
    ip(&[
        "-n", &ns, "link", "add", "vp", "type", "veth", "peer", "name", "vq",
    ]);
    ip(&["-n", &ns, "link", "set", "vp", "addrgenmode", "none", "up"]);
    ip(&["-n", &ns, "link", "set", "vq", "addrgenmode", "none", "up"]);
    let vp = lab.ifindex(&ns, "vp");
    let va = lab.ifindex(&ns, "va");
    lab.block_on(async {
        let (nl, _events) = Netlink::new().await.expect("netlink");
        let e = primary_address(&nl, vp, Family::V4, &[])
            .await
            .expect_err("no address yet");
        assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");

        // A VIP first, alone in its /25 and so a primary; then the real address.
        let (vip, vip2, real, real2) = (
            addr("192.0.2.129"),
            addr("192.0.2.200"),
            addr("192.0.2.10"),
            addr("192.0.2.11"),
        );
        for a in [vip, vip2, real, real2] {
            nl.add_address(vp, a, 25, None).await.expect("add");
        }
        let got = primary_address(&nl, vp, Family::V4, &[]).await.expect("primary");
        assert_eq!(got, vip, "without exclusions the first primary");
        let got = primary_address(&nl, vp, Family::V4, &[vip, vip2])
            .await
            .expect("primary");
        assert_eq!(got, real, "VIPs excluded, secondary .11 skipped");
        let e = primary_address(&nl, vp, Family::V4, &[vip, vip2, real])
            .await
            .expect_err("only secondaries");
        assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");

        // IPv6: the link-local, whatever global comes first.
        nl.add_address(vp, addr("2001:db8::5"), 64, None)
            .await
            .expect("add");
        let e = primary_address(&nl, vp, Family::V6, &[])
            .await
            .expect_err("no link-local");
        assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
        nl.add_address(vp, addr("fe80::1:2"), 64, None)
            .await
            .expect("add");
        let got = primary_address(&nl, vp, Family::V6, &[])
            .await
            .expect("link-local");
        assert_eq!(got, addr("fe80::1:2"));

        // The lab's own interface.
        assert_eq!(
            primary_address(&nl, va, Family::V4, &[]).await.expect("va v4"),
            IpAddr::V4(V4_A)
        );
        assert_eq!(
            primary_address(&nl, va, Family::V6, &[]).await.expect("va v6"),
            IpAddr::V6(LL_A)
        );
    });
}

/// Waits (at most 5 s) for an event about `index` that `want` accepts.
async fn wait_event(
    events: &mut UnboundedReceiver<LinkEvent>,
    what: &str,
    want: impl Fn(&LinkEvent) -> bool,
) {
    let got = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match events.recv().await {
                Some(e) if want(&e) => return e,
                Some(_) => {}
                None => panic!("link event stream ended while waiting for {what}"),
            }
        }
    })
    .await;
    assert!(got.is_ok(), "no link event for {what} within 5 s");
}

#[test]
fn link_events_follow_admin_state_and_carrier() {
    let Some(lab) = lab("link_events_follow_admin_state_and_carrier") else {
        return;
    };
    let va = lab.ifindex(&lab.a, "va");
    let (a, b) = (lab.a.clone(), lab.b.clone());
    lab.block_on(async {
        let (_nl, mut events) = Netlink::new().await.expect("netlink");
        let is =
            |up: bool| move |e: &LinkEvent| matches!(e, LinkEvent::Changed(l) if l.index == va && l.up == up);

        ip(&["-n", &a, "link", "set", "va", "down"]);
        wait_event(&mut events, "va admin down", is(false)).await;
        ip(&["-n", &a, "link", "set", "va", "up"]);
        wait_event(&mut events, "va up again", is(true)).await;

        // Carrier: the peer going down takes va's carrier with it.
        ip(&["-n", &b, "link", "set", "vb", "down"]);
        wait_event(&mut events, "va losing carrier", is(false)).await;
        ip(&["-n", &b, "link", "set", "vb", "up"]);
        wait_event(&mut events, "va regaining carrier", is(true)).await;

        ip(&[
            "-n", &a, "link", "add", "vx", "type", "veth", "peer", "name", "vy",
        ]);
        wait_event(
            &mut events,
            "vx created",
            |e| matches!(e, LinkEvent::Changed(l) if l.name == "vx" && !l.up),
        )
        .await;
        ip(&["-n", &a, "link", "del", "vx"]);
        wait_event(
            &mut events,
            "vx removed",
            |e| matches!(e, LinkEvent::Removed { name, .. } if name == "vx"),
        )
        .await;
    });
}
