//! Accept_Mode false (RFC 9568 §6.1): a Master that is not the address owner
//! must not accept packets addressed to the VIPs. Linux delivers to any local
//! address, so this takes one nftables table, `inet baton`, that drops IP
//! traffic to those VIPs at the input hook. The rule can stay in place in
//! every state: a VIP is a local address only while this node is Master.
//! ARP is not IP and passes; IPv6 neighbour discovery to a VIP is let through
//! so that neighbours can still resolve it. keepalived does the same with
//! `vrrp_strict`.
//!
//! The table is written with `nft -f -` in one transaction, at start and
//! shutdown only, never on the failover path.

use std::io::{self, Write};
use std::net::IpAddr;
use std::process::{Command, Stdio};

/// The table's family and name.
pub const TABLE: &str = "inet baton";

/// The nft script that makes the table exactly this (an empty list removes it).
pub fn no_accept_script(vips: &[IpAddr]) -> String {
    // Declaring then deleting makes the delete succeed whether or not the
    // table exists; the whole script is one transaction.
    let mut s = format!("table {TABLE}\ndelete table {TABLE}\n");
    if vips.is_empty() {
        return s;
    }
    let list = |v4: bool| {
        let mut v: Vec<String> = vips
            .iter()
            .filter(|a| a.is_ipv4() == v4)
            .map(|a| a.to_string())
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let (v4, v6) = (list(true), list(false));
    s.push_str(&format!("table {TABLE} {{\n"));
    for (name, ty, addrs) in [("noaccept4", "ipv4_addr", &v4), ("noaccept6", "ipv6_addr", &v6)] {
        s.push_str(&format!("  set {name} {{\n    type {ty}\n"));
        if !addrs.is_empty() {
            s.push_str(&format!("    elements = {{ {} }}\n", addrs.join(", ")));
        }
        s.push_str("  }\n");
    }
    s.push_str(
        "  chain input {\n\
         \x20   type filter hook input priority filter; policy accept;\n\
         \x20   ip daddr @noaccept4 counter drop\n\
         \x20   ip6 daddr @noaccept6 icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept\n\
         \x20   ip6 daddr @noaccept6 counter drop\n\
         \x20 }\n}\n",
    );
    s
}

/// Makes the `inet baton` table drop traffic to `vips` (replacing whatever a
/// previous run left); with no VIPs, removes the table.
pub fn set_no_accept(vips: &[IpAddr]) -> io::Result<()> {
    nft(&no_accept_script(vips))
}

fn nft(script: &str) -> io::Result<()> {
    let mut child = Command::new("nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| crate::context(e, "running nft (nftables) for accept = false"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(script.as_bytes())?;
    }
    let out = child.wait_with_output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "nft -f - ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// The tables of [`vmac_reports_script`]: one per family, as `dup` wants.
pub const VMAC_TABLES: [&str; 2] = ["ip baton_vmac", "ip6 baton_vmac"];

/// The nft script that moves IGMP and MLD reports off each `(macvlan,
/// base)`, as keepalived does: a Backup's macvlan joins the VRRP group
/// too, and a report from it, sent with the virtual MAC, would teach the
/// switch that the Master's MAC sits behind the Backup's port. The report
/// leaves from the base instead (a copy, with the base's MAC), so snooping
/// switches still deliver adverts. No macvlans: the tables go.
pub fn vmac_reports_script(vmacs: &[(String, String)]) -> String {
    let mut s = String::new();
    for t in VMAC_TABLES {
        s.push_str(&format!("table {t}\ndelete table {t}\n"));
    }
    if vmacs.is_empty() {
        return s;
    }
    let rules = |family: &str, what: &str| {
        let mut r = String::new();
        for (vmac, base) in vmacs {
            r.push_str(&format!(
                "    oifname \"{vmac}\" {what} dup to {family} daddr device \"{base}\" counter drop\n"
            ));
        }
        r
    };
    let chain = |t: &str, rules: String| {
        format!(
            "table {t} {{\n  chain out {{\n    type filter hook output priority filter; policy accept;\n{rules}  }}\n}}\n"
        )
    };
    s.push_str(&chain(VMAC_TABLES[0], rules("ip", "ip protocol igmp")));
    let mld = "icmpv6 type { mld-listener-report, mld-listener-done, mld2-listener-report }";
    s.push_str(&chain(VMAC_TABLES[1], rules("ip6", mld)));
    s
}

/// Applies [`vmac_reports_script`] in one transaction.
pub fn set_vmac_reports(vmacs: &[(String, String)]) -> io::Result<()> {
    let mut child = Command::new("nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| crate::context(e, "running nft (nftables) for use_vmac"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(vmac_reports_script(vmacs).as_bytes())?;
    }
    let out = child.wait_with_output()?;
    if out.status.success() {
        return Ok(());
    }
    Err(io::Error::other(format!(
        "nft -f - ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_lists_each_family_once_and_keeps_nd() {
        let vips: Vec<IpAddr> = ["192.0.2.100", "2001:db8::100", "192.0.2.100", "192.0.2.9"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let s = no_accept_script(&vips);
        assert!(s.starts_with("table inet baton\ndelete table inet baton\n"));
        assert!(s.contains("elements = { 192.0.2.100, 192.0.2.9 }"));
        assert!(s.contains("elements = { 2001:db8::100 }"));
        assert!(s.contains("ip daddr @noaccept4 counter drop"));
        let nd = s.find("nd-neighbor-solicit").unwrap();
        assert!(nd < s.find("ip6 daddr @noaccept6 counter drop").unwrap());
    }

    #[test]
    fn no_vips_only_removes() {
        assert_eq!(
            no_accept_script(&[]),
            "table inet baton\ndelete table inet baton\n"
        );
        let v4: Vec<IpAddr> = vec!["192.0.2.1".parse().unwrap()];
        let s = no_accept_script(&v4);
        // An empty IPv6 set is declared without elements.
        assert!(s.contains("set noaccept6 {\n    type ipv6_addr\n  }"));
    }

    #[test]
    fn vmac_reports_leave_from_the_base() {
        let s = vmac_reports_script(&[("vrrp.51".into(), "eth0".into())]);
        assert!(s.starts_with("table ip baton_vmac\ndelete table ip baton_vmac\n"));
        assert!(
            s.contains("oifname \"vrrp.51\" ip protocol igmp dup to ip daddr device \"eth0\" counter drop")
        );
        assert!(s.contains("oifname \"vrrp.51\" icmpv6 type { mld-listener-report"));
        assert!(!vmac_reports_script(&[]).contains("chain"));
    }
}
