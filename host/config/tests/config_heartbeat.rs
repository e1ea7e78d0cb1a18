//! `[[instance.heartbeat]]`: more advert paths of an instance, each to one
//! peer by unicast over another interface. What they mean, and each mistake
//! at its line:col.

mod common;

use std::net::IpAddr;
use std::path::Path;

use baton_config::{self as config, Config, Heartbeat};

const FILE: &str = "t.toml";

/// The config text from its lines: line N of the file is `lines[N - 1]`.
fn text(lines: &[&str]) -> String {
    let mut s = lines.join("\n");
    s.push('\n');
    s
}

#[track_caller]
fn ok(lines: &[&str]) -> Config {
    match config::parse(&text(lines), Path::new(FILE)) {
        Ok(c) => c,
        Err(d) => panic!(
            "expected ok, got:\n{}",
            d.iter().map(|d| format!("{d}\n")).collect::<String>()
        ),
    }
}

/// All diagnostics, as `t.toml:LINE:COL: message`.
#[track_caller]
fn errors(lines: &[&str]) -> Vec<String> {
    match config::parse(&text(lines), Path::new(FILE)) {
        Ok(_) => panic!("expected errors for:\n{}", text(lines)),
        Err(d) => d.iter().map(ToString::to_string).collect(),
    }
}

/// Exactly one diagnostic, at `line:col`, containing `fragment`.
#[track_caller]
fn one_error(lines: &[&str], line: usize, col: usize, fragment: &str) {
    common::assert_one_error(&errors(lines), FILE, line, col, fragment);
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("address")
}

/// An IPv4 instance on lines 1-5; its main path follows.
const INSTANCE: [&str; 5] = [
    "[[instance]]",
    "name = \"VI_1\"",
    "interface = \"eth0\"",
    "vrid = 50",
    "vips = [\"192.0.2.3\"]",
];

/// The instance, then `lines` (from line 6).
fn with<'a>(lines: &[&'a str]) -> Vec<&'a str> {
    INSTANCE.iter().copied().chain(lines.iter().copied()).collect()
}

/// The instance with one unicast peer (lines 6-7), then `lines` (from line 8).
fn unicast<'a>(lines: &[&'a str]) -> Vec<&'a str> {
    let main: &[&'a str] = &["unicast_src = \"192.0.2.11\"", "unicast_peers = [\"192.0.2.12\"]"];
    with(&[main, lines].concat())
}

/// The instance with one unicast peer and a good heartbeat path whose line
/// 9, 10, 11 or 12 (interface, peer, primary, source) is `line` instead.
fn path_but(n: usize, line: &'static str) -> Vec<&'static str> {
    let mut hb = [
        "[[instance.heartbeat]]",
        "interface = \"hb0\"",
        "peer = \"198.51.100.12\"",
        "primary = \"192.0.2.12\"",
        "source = \"198.51.100.11\"",
    ];
    hb[n - 8] = line;
    unicast(&hb)
}

// ---------------------------------------------------------------- the model

#[test]
fn without_heartbeat_there_is_only_the_main_path() {
    let c = ok(&unicast(&[]));
    assert!(c.instances[0].heartbeat.is_empty());
}

#[test]
fn a_path_to_the_only_unicast_peer_defaults_its_primary() {
    let c = ok(&unicast(&[
        "[[instance.heartbeat]]",
        "interface = \"hb0\"",
        "peer = \"198.51.100.12\"",
    ]));
    assert_eq!(
        c.instances[0].heartbeat,
        [Heartbeat {
            interface: "hb0".into(),
            peer: ip("198.51.100.12"),
            primary: ip("192.0.2.12"),
            source: None,
        }]
    );
}

#[test]
fn every_key_given() {
    let c = ok(&path_but(9, "interface = \"hb0\""));
    assert_eq!(
        c.instances[0].heartbeat,
        [Heartbeat {
            interface: "hb0".into(),
            peer: ip("198.51.100.12"),
            primary: ip("192.0.2.12"),
            source: Some(ip("198.51.100.11")),
        }]
    );
}

#[test]
fn a_multicast_instance_names_the_primary() {
    let c = ok(&with(&[
        "[[instance.heartbeat]]",
        "interface = \"hb0\"",
        "peer = \"198.51.100.12\"",
        "primary = \"192.0.2.12\"",
    ]));
    assert_eq!(
        c.instances[0].heartbeat,
        [Heartbeat {
            interface: "hb0".into(),
            peer: ip("198.51.100.12"),
            primary: ip("192.0.2.12"),
            source: None,
        }]
    );
}

#[test]
fn several_paths_and_peers() {
    // Two peers on the main path; two paths to the first, one to the second.
    let c = ok(&with(&[
        "unicast_peers = [\"192.0.2.12\", \"192.0.2.13\"]",
        "[[instance.heartbeat]]",
        "interface = \"hb0\"",
        "peer = \"198.51.100.12\"",
        "primary = \"192.0.2.12\"",
        "[[instance.heartbeat]]",
        "interface = \"hb1\"",
        "peer = \"198.51.100.12\"",
        "primary = \"192.0.2.12\"",
        "[[instance.heartbeat]]",
        "interface = \"hb0\"",
        "peer = \"198.51.100.13\"",
        "primary = \"192.0.2.13\"",
        "source = \"198.51.100.11\"",
    ]));
    let hb = &c.instances[0].heartbeat;
    let paths: Vec<(&str, IpAddr, IpAddr, Option<IpAddr>)> = hb
        .iter()
        .map(|h| (h.interface.as_str(), h.peer, h.primary, h.source))
        .collect();
    assert_eq!(
        paths,
        [
            ("hb0", ip("198.51.100.12"), ip("192.0.2.12"), None),
            ("hb1", ip("198.51.100.12"), ip("192.0.2.12"), None),
            (
                "hb0",
                ip("198.51.100.13"),
                ip("192.0.2.13"),
                Some(ip("198.51.100.11"))
            ),
        ]
    );
}

#[test]
fn an_ipv6_instance_and_an_inline_array() {
    let c = ok(&[
        "[[instance]]",
        "name = \"VI_6\"",
        "interface = \"eth0\"",
        "vrid = 60",
        "vips = [\"2001:db8::3\"]",
        "unicast_peers = [\"fe80::12\"]",
        "heartbeat = [{ interface = \"hb0\", peer = \"fe80::1:12\" }]",
    ]);
    assert_eq!(
        c.instances[0].heartbeat,
        [Heartbeat {
            interface: "hb0".into(),
            peer: ip("fe80::1:12"),
            primary: ip("fe80::12"),
            source: None,
        }]
    );
}

#[test]
fn eight_paths_at_most() {
    let ifaces: Vec<String> = (0..9).map(|n| format!("interface = \"hb{n}\"")).collect();
    let mut lines = unicast(&[]);
    for iface in &ifaces {
        lines.extend([
            "[[instance.heartbeat]]",
            iface.as_str(),
            "peer = \"198.51.100.12\"",
        ]);
    }
    // Paths 1 to 8 on lines 8-31; the ninth on line 32.
    let eight = &lines[..lines.len() - 3];
    assert_eq!(ok(eight).instances[0].heartbeat.len(), 8);
    one_error(
        &lines,
        32,
        1,
        "[[instance.heartbeat]]: 9 heartbeat paths; an instance has at most 8",
    );
}

// ---------------------------------------------------------------- mistakes

#[test]
fn interface_and_peer_are_required() {
    one_error(
        &unicast(&["[[instance.heartbeat]]", "peer = \"198.51.100.12\""]),
        8,
        1,
        "[[instance.heartbeat]] without `interface`",
    );
    one_error(
        &unicast(&["[[instance.heartbeat]]", "interface = \"hb0\""]),
        8,
        1,
        "[[instance.heartbeat]] without `peer`",
    );
}

#[test]
fn primary_is_required_unless_there_is_one_unicast_peer() {
    let path = [
        "[[instance.heartbeat]]",
        "interface = \"hb0\"",
        "peer = \"198.51.100.12\"",
    ];
    // Multicast: no peer to default to.
    one_error(
        &with(&path),
        6,
        1,
        "[[instance.heartbeat]] needs `primary`: the peer's address on the main path (eth0), by which it is known",
    );
    one_error(&with(&path), 6, 1, "it has none");
    // Two peers: which one is meant?
    let two = with(&[&["unicast_peers = [\"192.0.2.12\", \"192.0.2.13\"]"], &path[..]].concat());
    one_error(&two, 7, 1, "needs `primary`");
    one_error(&two, 7, 1, "it has 2");
    // unicast_peers that do not parse: only their own error.
    let bad = with(&[&["unicast_peers = [\"192.0.2.12\", \"x\"]"], &path[..]].concat());
    one_error(&bad, 6, 32, "unicast_peers: `x` is not an IPv4 or IPv6 address");
}

#[test]
fn interface_mistakes() {
    one_error(
        &path_but(9, "interface = \"eth0\""),
        9,
        13,
        "heartbeat.interface: `eth0` is the instance's own interface: a heartbeat path is another one",
    );
    one_error(
        &path_but(9, "interface = \"\""),
        9,
        13,
        "heartbeat.interface: an interface name cannot be empty",
    );
    one_error(
        &path_but(9, "interface = \"hb 0\""),
        9,
        13,
        "heartbeat.interface: interface name `hb 0` contains ' '",
    );
    one_error(
        &path_but(9, "interface = \"a-very-long-name0\""),
        9,
        13,
        "Linux allows at most 15",
    );
    one_error(
        &path_but(9, "interface = 0"),
        9,
        13,
        "heartbeat.interface: expected a string, found an integer",
    );
}

#[test]
fn peer_mistakes() {
    one_error(
        &path_but(10, "peer = \"198.51.100.12/24\""),
        10,
        8,
        "heartbeat.peer: `198.51.100.12/24` is not an IPv4 or IPv6 address (no prefix length here)",
    );
    one_error(
        &path_but(10, "peer = \"2001:db8::12\""),
        10,
        8,
        "heartbeat.peer: 2001:db8::12 is IPv6, but the instance's addresses are IPv4",
    );
    one_error(
        &path_but(10, "peer = \"224.0.0.18\""),
        10,
        8,
        "heartbeat.peer: 224.0.0.18 is not a unicast address",
    );
    one_error(
        &path_but(10, "peer = \"0.0.0.0\""),
        10,
        8,
        "is not a unicast address",
    );
    one_error(
        &path_but(10, "peer = \"192.0.2.3\""),
        10,
        8,
        "heartbeat.peer: 192.0.2.3 is one of the instance's virtual addresses",
    );
    one_error(
        &path_but(10, "peer = [\"198.51.100.12\"]"),
        10,
        8,
        "heartbeat.peer: expected a string, found an array",
    );
}

#[test]
fn source_mistakes() {
    one_error(
        &path_but(12, "source = \"198.51.100.12\""),
        12,
        10,
        "heartbeat.source: 198.51.100.12 is the path's `peer`; `source` is this router's own address on hb0",
    );
    one_error(
        &path_but(12, "source = \"2001:db8::11\""),
        12,
        10,
        "heartbeat.source: 2001:db8::11 is IPv6, but the instance's addresses are IPv4",
    );
    one_error(
        &path_but(12, "source = \"192.0.2.3\""),
        12,
        10,
        "heartbeat.source: 192.0.2.3 is one of the instance's virtual addresses",
    );
}

#[test]
fn primary_mistakes() {
    one_error(
        &path_but(11, "primary = \"192.0.2.13\""),
        11,
        11,
        "heartbeat.primary: 192.0.2.13 is not one of the instance's unicast_peers (192.0.2.12): the path must name a peer the main path knows",
    );
    one_error(
        &path_but(11, "primary = \"192.0.2.11\""),
        11,
        11,
        "heartbeat.primary: 192.0.2.11 is this router's own unicast_src",
    );
    one_error(
        &path_but(11, "primary = \"2001:db8::12\""),
        11,
        11,
        "heartbeat.primary: 2001:db8::12 is IPv6, but the instance's addresses are IPv4",
    );
    one_error(
        &path_but(11, "primary = \"192.0.2.3\""),
        11,
        11,
        "heartbeat.primary: 192.0.2.3 is one of the instance's virtual addresses",
    );
    one_error(
        &path_but(11, "primary = true"),
        11,
        11,
        "heartbeat.primary: expected a string, found a boolean",
    );
}

#[test]
fn the_same_path_twice() {
    let path = [
        "[[instance.heartbeat]]",
        "interface = \"hb0\"",
        "peer = \"198.51.100.12\"",
    ];
    one_error(
        &unicast(&[&path[..], &path[..]].concat()),
        13,
        8,
        "heartbeat.peer: 198.51.100.12 on hb0 is already a heartbeat path of this instance (line 8)",
    );
}

#[test]
fn unknown_keys_and_the_wrong_table() {
    one_error(
        &unicast(&[
            "[[instance.heartbeat]]",
            "interface = \"hb0\"",
            "peer = \"198.51.100.12\"",
            "unicast_src = \"198.51.100.11\"",
        ]),
        11,
        1,
        "unknown key `unicast_src` in [[instance.heartbeat]] (it is `source` here)",
    );
    one_error(
        &unicast(&[
            "[[instance.heartbeat]]",
            "interface = \"hb0\"",
            "peer = \"198.51.100.12\"",
            "primry = \"192.0.2.12\"",
        ]),
        11,
        1,
        "unknown key `primry` in [[instance.heartbeat]] (did you mean `primary`?)",
    );
    let errs = errors(&unicast(&[
        "[instance.heartbeat]",
        "interface = \"hb0\"",
        "peer = \"198.51.100.12\"",
    ]));
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].contains("write [[instance.heartbeat]] (an array of tables), not [instance.heartbeat]"),
        "{errs:?}"
    );
    one_error(
        &unicast(&["heartbeat = \"hb0\""]),
        8,
        13,
        "expected [[instance.heartbeat]] tables, found a string",
    );
}

#[test]
fn every_mistake_of_a_file_is_reported() {
    let errs = errors(&with(&[
        "unicast_peers = [\"192.0.2.12\", \"192.0.2.13\"]",
        "[[instance.heartbeat]]",
        "interface = \"eth0\"",
        "peer = \"2001:db8::12\"",
        "[[instance.heartbeat]]",
        "interface = \"hb1\"",
        "peer = \"198.51.100.12\"",
        "primary = \"192.0.2.14\"",
        "source = \"198.51.100.12\"",
    ]));
    let at: Vec<&str> = errs.iter().map(|e| e.split(": ").next().unwrap_or("")).collect();
    assert_eq!(
        at,
        [
            "t.toml:7:1",
            "t.toml:8:13",
            "t.toml:9:8",
            "t.toml:13:11",
            "t.toml:14:10"
        ],
        "{errs:#?}"
    );
}
