//! `baton check`: every config rule, with the exact line:col of its error.

mod common;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use baton_config::{self as config, Builtin, Config, Family, Garp, PolicySource};
use baton_vrrp::{Auth, V3Checksum, Version};

const FILE: &str = "t.toml";

/// The config text from its lines: line N of the file is `lines[N - 1]`.
fn text<S: AsRef<str>>(lines: &[S]) -> String {
    let mut s = lines.iter().map(AsRef::as_ref).collect::<Vec<&str>>().join("\n");
    s.push('\n');
    s
}

fn parse<S: AsRef<str>>(lines: &[S]) -> Result<Config, Vec<config::Diagnostic>> {
    config::parse(&text(lines), Path::new(FILE))
}

#[track_caller]
fn ok<S: AsRef<str>>(lines: &[S]) -> Config {
    match parse(lines) {
        Ok(c) => c,
        Err(d) => panic!("expected ok, got:\n{}", render(&d)),
    }
}

fn render(d: &[config::Diagnostic]) -> String {
    d.iter().map(|d| format!("{d}\n")).collect()
}

/// All diagnostics, as `t.toml:LINE:COL: message`.
#[track_caller]
fn errors<S: AsRef<str>>(lines: &[S]) -> Vec<String> {
    match parse(lines) {
        Ok(_) => panic!("expected errors for:\n{}", text(lines)),
        Err(d) => d.iter().map(ToString::to_string).collect(),
    }
}

/// Exactly one diagnostic, at `line:col`, containing `fragment`.
#[track_caller]
fn one_error<S: AsRef<str>>(lines: &[S], line: usize, col: usize, fragment: &str) {
    common::assert_one_error(&errors(lines), FILE, line, col, fragment);
}

/// Among the diagnostics, one at `line:col` containing `fragment`.
#[track_caller]
fn has_error(errs: &[String], line: usize, col: usize, fragment: &str) {
    let prefix = format!("{FILE}:{line}:{col}: ");
    assert!(
        errs.iter()
            .any(|e| e.starts_with(&prefix) && e.contains(fragment)),
        "expected `{prefix}...{fragment}...` among:\n{}",
        errs.join("\n")
    );
}

/// A valid instance occupying lines 1-5; tests add lines after it.
const BASE: [&str; 5] = [
    "[[instance]]",
    "name = \"VI_1\"",
    "interface = \"eth0\"",
    "vrid = 50",
    "vips = [\"192.0.2.3\"]",
];

fn base_with(extra: &[&str]) -> Vec<String> {
    BASE.iter().chain(extra).map(|s| s.to_string()).collect()
}

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("baton-config-test-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("address")
}

// ---------------------------------------------------------------- good configs

#[test]
fn example_configs_pass() {
    let files: Vec<PathBuf> = [
        "seed-ch4/lb01.toml",
        "seed-ch4/lb02.toml",
        "seed-dual-master/lb01.toml",
        "seed-dual-master/lb02.toml",
        "seed-check-web/lb01.toml",
        "seed-check-web/lb02.toml",
        "seed-notify/lb01.toml",
        "seed-notify/lb02.toml",
    ]
    .iter()
    .map(|f| examples_dir().join(f))
    .collect();
    for f in &files {
        if let Err(d) = config::load(f) {
            panic!("{}:\n{}", f.display(), render(&d));
        }
    }
    // Each pair is one LAN: `baton check` of both files cross-checks them.
    for pair in files.chunks(2) {
        assert!(config::check_files(pair, &Default::default()), "{pair:?}");
    }
}

#[test]
fn seed_chapter_4_pair_means_what_keepalived_means() {
    let lb01 = config::load(&examples_dir().join("seed-ch4/lb01.toml")).expect("lb01");
    let lb02 = config::load(&examples_dir().join("seed-ch4/lb02.toml")).expect("lb02");
    assert_eq!(
        (lb01.router_id.as_str(), lb02.router_id.as_str()),
        ("lb01", "lb02")
    );
    let (a, b) = (&lb01.instances[0], &lb02.instances[0]);
    assert_eq!((a.vrid, b.vrid), (50, 50));
    assert_eq!((a.priority, b.priority), (150, 100));
    assert_eq!(a.version, Version::V2);
    assert_eq!(a.advert_interval, Duration::from_secs(1));
    assert_eq!(a.auth, Auth::pass("1111").expect("password"));
    assert_eq!(a.auth, b.auth);
    assert_eq!(a.vips.len(), 1);
    assert_eq!(a.vips[0].addr, ip("192.0.2.3"));
    assert_eq!(a.vips[0].prefix_len, 32);
    assert_eq!(a.vips[0].dev, "eth0");
    assert!(a.preempt);
    let core = a.vrrp_config(ip("192.0.2.1"));
    assert_eq!(core.validate(), Ok(()));
    assert_eq!(core.vips, vec![ip("192.0.2.3")]);
    assert_eq!(core.primary_addr, ip("192.0.2.1"));
}

#[test]
fn seed_dual_master_pair() {
    let lb01 = config::load(&examples_dir().join("seed-dual-master/lb01.toml")).expect("lb01");
    let lb02 = config::load(&examples_dir().join("seed-dual-master/lb02.toml")).expect("lb02");
    for (c, p1, p2) in [(&lb01, 150, 100), (&lb02, 100, 150)] {
        let vi1 = c.instance("VI_1").expect("VI_1");
        let vi2 = c.instance("VI_2").expect("VI_2");
        assert_eq!((vi1.vrid, vi2.vrid), (51, 52));
        assert_eq!((vi1.priority, vi2.priority), (p1, p2));
        assert_eq!(vi1.vips[0].prefix_len, 24);
        assert_eq!(vi1.vips[0].label.as_deref(), Some("eth0:1"));
        assert_eq!(vi2.vips[0].label.as_deref(), Some("eth0:2"));
        assert_eq!(vi2.vips[0].addr, ip("192.0.2.4"));
    }
}

/// The seed's chapter 7 configs (check_web on VI_2, check_brain on lb02), as
/// Baton writes them: policies instead of scripts.
#[test]
fn seed_chapter_7_with_policies() {
    let c = ok(&[
        "router_id = \"lb02\"",
        "log_file = \"/var/log/baton.log\"",
        "[[policy]]",
        "name = \"check_web\"",
        "source = \"builtin:process-alive\"",
        "config = { process = \"nginx\" }",
        "[[policy]]",
        "name = \"check_brain\"",
        "source = \"builtin:split-brain-peer-http\"",
        "config = { url = \"http://198.51.100.5/\", expect = 200, proxy = true }",
        "[[instance]]",
        "name = \"VI_1\"",
        "interface = \"eth0\"",
        "vrid = 50",
        "priority = 100",
        "version = 2",
        "auth = { type = \"pass\", password = \"1111\" }",
        "vips = [\"192.0.2.3\"]",
        "[[instance]]",
        "name = \"VI_2\"",
        "interface = \"eth1\"",
        "vrid = 55",
        "priority = 150",
        "version = 2",
        "auth = { type = \"pass\", password = \"2222\" }",
        "vips = [\"198.51.100.4\"]",
        "[[instance.track]]",
        "policy = \"check_web\"",
        "interval = \"5s\"",
        "weight = 50",
        "[instance.split_brain]",
        "policy = \"check_brain\"",
        "interval = \"5s\"",
    ]);
    assert_eq!(c.log_file, Some(PathBuf::from("/var/log/baton.log")));
    assert_eq!(c.policies.len(), 2);
    let brain = c.policy("check_brain").expect("policy");
    assert_eq!(brain.source, PolicySource::Builtin(Builtin::SplitBrainPeerHttp));
    assert_eq!(brain.config["expect"], "200");
    assert_eq!(brain.config["proxy"], "true");
    let vi2 = c.instance("VI_2").expect("VI_2");
    assert_eq!(vi2.tracks.len(), 1);
    let t = &vi2.tracks[0];
    assert_eq!(
        (t.policy.as_str(), t.weight, t.rise, t.fall),
        ("check_web", 50, 1, 1)
    );
    assert_eq!(
        (t.interval, t.timeout),
        (Duration::from_secs(5), Duration::from_secs(5))
    );
    let sb = vi2.split_brain.as_ref().expect("split brain");
    assert_eq!(
        (sb.policy.as_str(), sb.interval),
        ("check_brain", Duration::from_secs(5))
    );
    assert!(c.instance("VI_1").expect("VI_1").tracks.is_empty());
}

#[test]
fn defaults() {
    let c = ok(&BASE);
    assert_eq!(c.path, PathBuf::from(FILE));
    assert!(!c.router_id.is_empty());
    assert_eq!(c.socket, PathBuf::from("/run/baton/baton.sock"));
    assert_eq!(c.log_file, None);
    assert_eq!(c.garp, Garp::default());
    assert_eq!(
        c.garp,
        Garp {
            delay: Duration::from_secs(5),
            repeat: 5,
            interval: Duration::ZERO,
            refresh: Duration::ZERO
        }
    );
    let i = &c.instances[0];
    assert_eq!(i.name, "VI_1");
    assert_eq!(i.interface, "eth0");
    assert_eq!(i.vrid, 50);
    assert_eq!(i.priority, 100);
    assert_eq!(i.advert_interval, Duration::from_secs(1));
    assert_eq!(i.version, Version::V3);
    assert!(i.preempt);
    assert_eq!(i.preempt_delay, Duration::ZERO);
    // keepalived's default without vrrp_strict: a non-owner Master serves its VIPs.
    assert!(i.accept);
    assert!(i.no_accept_vips().is_empty());
    assert_eq!(i.auth, Auth::None);
    assert_eq!(i.unicast_src, None);
    assert!(i.unicast_peers.is_empty());
    // Unlike keepalived: adverts from a non-peer are dropped.
    assert!(i.check_unicast_src);
    assert!(i.track_interfaces.is_empty());
    assert_eq!(i.v3_checksum, V3Checksum::PseudoHeader);
    assert!(i.check_adv_addr);
    assert_eq!(i.garp, Garp::default());
    assert!(i.tracks.is_empty());
    assert_eq!(i.split_brain, None);
    assert_eq!(i.family(), Family::V4);
}

#[test]
fn every_setting_reaches_the_types() {
    let c = ok(&[
        "router_id = \"lb01\"",
        "socket = \"/run/baton/other.sock\"",
        "[garp]",
        "delay = \"2s\"",
        "repeat = 3",
        "interval = \"10ms\"",
        "refresh = \"60s\"",
        "[[policy]]",
        "name = \"web\"",
        "source = \"builtin:http-status\"",
        "sha256 = \"00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF\"",
        "config = { url = \"http://127.0.0.1/\", expect = \"200\" }",
        "[[policy]]",
        "name = \"brain\"",
        "source = \"builtin:split-brain-arp\"",
        "[[instance]]",
        "name = \"VI_1\"",
        "interface = \"eth0\"",
        "vrid = 50",
        "priority = 255",
        "advert_interval = \"40.95s\"",
        "version = 3",
        "preempt = false",
        "preempt_delay = \"1000s\"",
        "accept = true",
        "vips = [\"192.0.2.3/24 dev eth0 label eth0:1\", \"192.0.2.4\", \"192.0.2.5 dev eth1\"]",
        "unicast_src = \"192.0.2.1\"",
        "unicast_peers = [\"192.0.2.2\", \"198.51.100.2\"]",
        "check_unicast_src = false",
        "track_interfaces = [\"eth1\", \"eth0\"]",
        "v3_checksum = \"no-pseudo-header\"",
        "check_adv_addr = false",
        "garp = { delay = \"0s\" }",
        "[[instance.track]]",
        "policy = \"web\"",
        "interval = \"50ms\"",
        "timeout = \"40ms\"",
        "weight = -60",
        "rise = 2",
        "fall = 3",
        "[instance.split_brain]",
        "policy = \"brain\"",
        "interval = \"200ms\"",
    ]);
    assert_eq!(c.router_id, "lb01");
    assert_eq!(c.socket, PathBuf::from("/run/baton/other.sock"));
    let g = Garp {
        delay: Duration::from_secs(2),
        repeat: 3,
        interval: Duration::from_millis(10),
        refresh: Duration::from_secs(60),
    };
    assert_eq!(c.garp, g);
    let web = c.policy("web").expect("web");
    let sha = web.sha256.expect("sha256");
    assert_eq!((sha[0], sha[1], sha[31]), (0x00, 0x11, 0xff));
    assert_eq!(
        web.config.get("url").map(String::as_str),
        Some("http://127.0.0.1/")
    );
    let i = &c.instances[0];
    assert_eq!(i.priority, 255);
    assert_eq!(i.advert_interval, Duration::from_millis(40_950));
    assert!(!i.preempt);
    assert_eq!(i.preempt_delay, Duration::from_secs(1000));
    assert!(i.accept);
    assert!(i.no_accept_vips().is_empty());
    assert_eq!(i.vips.len(), 3);
    assert_eq!(i.vips[2].dev, "eth1");
    assert_eq!(i.unicast_src, Some(ip("192.0.2.1")));
    assert_eq!(i.unicast_peers, vec![ip("192.0.2.2"), ip("198.51.100.2")]);
    assert!(!i.check_unicast_src);
    assert!(i.vrrp_config(ip("192.0.2.1")).allowed_sources.is_empty());
    // The instance's own interface is always tracked: not repeated.
    assert_eq!(i.track_interfaces, vec![config::TrackInterface::fault("eth1")]);
    assert_eq!(i.v3_checksum, V3Checksum::NoPseudoHeader);
    assert!(!i.check_adv_addr);
    // The override changes `delay` only; the rest comes from [garp].
    assert_eq!(
        i.garp,
        Garp {
            delay: Duration::ZERO,
            ..g
        }
    );
    let t = &i.tracks[0];
    assert_eq!(
        (t.interval, t.timeout, t.weight, t.rise, t.fall),
        (Duration::from_millis(50), Duration::from_millis(40), -60, 2, 3)
    );
    let core = i.vrrp_config(ip("192.0.2.1"));
    assert_eq!(core.validate(), Ok(()));
    assert!(core.accept_mode);
    assert!(!core.check_adv_addr);
    assert_eq!(core.v3_ipv4_checksum, V3Checksum::NoPseudoHeader);
    assert_eq!(core.preempt_delay, Duration::from_secs(1000));
}

#[test]
fn ipv6_instance() {
    let c = ok(&[
        "[[instance]]",
        "name = \"VI_6\"",
        "interface = \"eth0\"",
        "vrid = 50",
        "advert_interval = \"10ms\"",
        "vips = [\"2001:db8::3/64\", \"2001:db8::4\"]",
        "unicast_peers = [\"2001:db8::2\"]",
    ]);
    let i = &c.instances[0];
    assert_eq!(i.family(), Family::V6);
    assert_eq!((i.vips[0].prefix_len, i.vips[1].prefix_len), (64, 128));
    assert_eq!(i.vrrp_config(ip("fe80::1")).validate(), Ok(()));
}

#[test]
fn same_vrid_on_other_interface_or_family_is_fine() {
    ok(&[
        "[[instance]]",
        "name = \"a\"",
        "interface = \"eth0\"",
        "vrid = 50",
        "vips = [\"192.0.2.3\"]",
        "[[instance]]",
        "name = \"b\"",
        "interface = \"eth1\"",
        "vrid = 50",
        "vips = [\"192.0.2.4\"]",
        "[[instance]]",
        "name = \"c\"",
        "interface = \"eth0\"",
        "vrid = 50",
        "vips = [\"2001:db8::4\"]",
    ]);
}

#[test]
fn policy_paths_are_relative_to_the_config_file() {
    let dir = temp_dir("policy-path");
    std::fs::write(dir.join("web.wasm"), b"\0asm").expect("write");
    let cfg = dir.join("baton.toml");
    let mut body = vec!["[[policy]]", "name = \"web\"", "source = \"web.wasm\""];
    body.extend_from_slice(&BASE);
    body.extend_from_slice(&["[[instance.track]]", "policy = \"web\""]);
    std::fs::write(&cfg, text(&body)).expect("write");
    let c = config::load(&cfg).unwrap_or_else(|d| panic!("{}", render(&d)));
    assert_eq!(c.policies[0].source, PolicySource::Path(dir.join("web.wasm")));
    // A missing file is an error at the source value.
    let mut body = vec!["[[policy]]", "name = \"web\"", "source = \"gone.wasm\""];
    body.extend_from_slice(&BASE);
    std::fs::write(&cfg, text(&body)).expect("write");
    let errs: Vec<String> = config::load(&cfg)
        .expect_err("missing")
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(errs.len(), 1, "{errs:?}");
    let want = format!(
        "{}:3:10: source: policy file {} not found",
        cfg.display(),
        dir.join("gone.wasm").display()
    );
    assert!(errs[0].starts_with(&want), "{}", errs[0]);
    std::fs::remove_dir_all(&dir).ok();
}

// ---------------------------------------------------------------- files and CLI

#[test]
fn unreadable_file_is_one_diagnostic_at_1_1() {
    let p = PathBuf::from("/nonexistent/baton.toml");
    let d = config::load(&p).expect_err("missing file");
    assert_eq!(d.len(), 1);
    assert_eq!((d[0].line, d[0].col), (1, 1));
    assert!(
        d[0].to_string()
            .starts_with("/nonexistent/baton.toml:1:1: cannot read: "),
        "{}",
        d[0]
    );
    assert!(!config::check_files(&[p], &Default::default()));
}

#[test]
fn invalid_utf8_is_reported_where_it_is() {
    let dir = temp_dir("utf8");
    let p = dir.join("bad.toml");
    std::fs::write(&p, b"router_id = \"lb01\"\nsocket = \"\xff\"\n").expect("write");
    let d = config::load(&p).expect_err("bad utf-8");
    assert_eq!((d[0].line, d[0].col), (2, 11));
    assert!(d[0].message.contains("UTF-8"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn check_files_is_false_if_any_file_is_bad() {
    let dir = temp_dir("check-files");
    let good = dir.join("good.toml");
    let bad = dir.join("bad.toml");
    std::fs::write(&good, text(&BASE)).expect("write");
    std::fs::write(&bad, text(&base_with(&["priorty = 1"]))).expect("write");
    assert!(config::check_files(
        std::slice::from_ref(&good),
        &Default::default()
    ));
    assert!(!config::check_files(
        &[good.clone(), bad.clone()],
        &Default::default()
    ));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn diagnostic_display() {
    let d = config::Diagnostic {
        path: PathBuf::from("/etc/baton/baton.toml"),
        line: 7,
        col: 3,
        message: "boom".into(),
    };
    assert_eq!(d.to_string(), "/etc/baton/baton.toml:7:3: boom");
}

// ---------------------------------------------------------------- syntax errors

#[test]
fn unclosed_multiline_array_is_reported_at_its_bracket() {
    one_error(
        &[
            "[[instance]]",
            "name = \"VI_1\"",
            "interface = \"eth0\"",
            "vrid = 50",
            "vips = [\"192.0.2.3\",",
            "        \"192.0.2.4\"",
            "",
            "[[instance]]",
            "name = \"VI_2\"",
        ],
        5,
        8,
        "unclosed array: this `[` has no matching `]`",
    );
}

#[test]
fn unclosed_array_on_one_line() {
    one_error(
        &base_with(&["unicast_peers = [\"192.0.2.2\""]),
        6,
        17,
        "unclosed array",
    );
}

#[test]
fn unclosed_inline_table() {
    one_error(
        &base_with(&["auth = { type = \"pass\", password = \"1111\"", "version = 2"]),
        6,
        8,
        "unclosed inline table: this `{` has no matching `}`",
    );
}

#[test]
fn unclosed_basic_string() {
    one_error(
        &[
            "[[instance]]",
            "name = \"VI_1",
            "interface = \"eth0\"",
            "vrid = 50",
            "vips = [\"192.0.2.3\"]",
        ],
        2,
        8,
        "unclosed string: this `\"` has no closing `\"`",
    );
}

#[test]
fn unclosed_string_inside_an_array_blames_the_string() {
    one_error(
        &[
            "[[instance]]",
            "name = \"VI_1\"",
            "interface = \"eth0\"",
            "vrid = 50",
            "vips = [\"192.0.2.3\", \"192.0.2.4]",
        ],
        5,
        22,
        "unclosed string",
    );
}

#[test]
fn unclosed_literal_string() {
    one_error(
        &[
            "[[instance]]",
            "name = 'VI_1",
            "interface = \"eth0\"",
            "vrid = 50",
            "vips = [\"192.0.2.3\"]",
        ],
        2,
        8,
        "unclosed string: this `'` has no closing `'`",
    );
}

#[test]
fn unclosed_multi_line_strings() {
    one_error(
        &base_with(&["name2 = \"\"\"abc", "x = 1"]),
        6,
        9,
        "unclosed multi-line string: this `\"\"\"` has no closing `\"\"\"`",
    );
    one_error(
        &base_with(&["name2 = '''abc", "x = 1"]),
        6,
        9,
        "this `'''` has no closing `'''`",
    );
}

#[test]
fn unclosed_inline_table_holding_an_unclosed_array() {
    one_error(
        &base_with(&["garp = { delay = \"1s\", x = [1, 2 }", "version = 2"]),
        6,
        28,
        "unclosed array: this `[` has no matching `]`",
    );
}

#[test]
fn missing_comma_in_an_array() {
    let mut l = BASE.to_vec();
    l[4] = "vips = [\"192.0.2.3\" \"192.0.2.4\"]";
    one_error(&l, 5, 21, "missing comma between array elements");
}

#[test]
fn unclosed_table_headers() {
    one_error(
        &["router_id = \"x\"", "[garp", "delay = \"1s\""],
        2,
        1,
        "unclosed table header: missing `]`",
    );
    one_error(
        &["router_id = \"x\"", "  [[instance]", "name = \"VI_1\""],
        2,
        3,
        "unclosed array-of-tables header: missing `]]`",
    );
}

#[test]
fn missing_equals() {
    one_error(
        &base_with(&["priority 150"]),
        6,
        10,
        "key with no value, expected `=`",
    );
}

#[test]
fn unquoted_string() {
    let mut l = BASE.to_vec();
    l[2] = "interface = eth0";
    one_error(&l, 3, 13, "string values must be quoted");
}

#[test]
fn duplicate_key() {
    one_error(&base_with(&["vrid = 51"]), 6, 1, "duplicate key `vrid`");
}

#[test]
fn duplicate_table() {
    one_error(
        &["[garp]", "delay = \"1s\"", "[garp]", "repeat = 2"],
        3,
        2,
        "duplicate key `garp`",
    );
}

#[test]
fn several_syntax_errors_are_all_reported() {
    let errs = errors(&[
        "router_id = \"lb01\"",
        "socket = \"/run/x.sock\"",
        "socket = \"/run/y.sock\"",
        "[[instance]]",
        "name = \"VI_1",
        "priority 1",
    ]);
    assert_eq!(errs.len(), 3, "{errs:#?}");
    has_error(&errs, 3, 1, "duplicate key `socket`");
    has_error(&errs, 5, 8, "unclosed string");
    has_error(&errs, 6, 10, "expected `=`");
}

// ---------------------------------------------------------------- unknown keys

#[test]
fn unknown_key_in_instance_suggests_the_right_one() {
    one_error(
        &base_with(&["priorty = 150"]),
        6,
        1,
        "unknown key `priorty` in [[instance]] (did you mean `priority`?)",
    );
}

#[test]
fn keepalived_names_get_a_translation() {
    one_error(
        &base_with(&["virtual_router_id = 50"]),
        6,
        1,
        "keepalived's `virtual_router_id` is `vrid` here",
    );
    one_error(
        &base_with(&["advert_int = 1"]),
        6,
        1,
        "`advert_int` is `advert_interval` here",
    );
    one_error(&base_with(&["state = \"MASTER\""]), 6, 1, "there is no `state`");
    one_error(
        &with_policies(&["[global_defs]", "router_id = \"x\""], &[]),
        1,
        2,
        "unknown key `global_defs` in the top level",
    );
}

#[test]
fn unknown_keys_everywhere() {
    one_error(
        &with_policies(&["routr_id = \"x\""], &[]),
        1,
        1,
        "unknown key `routr_id` in the top level (did you mean `router_id`?)",
    );
    one_error(
        &with_policies(&["[garp]", "dealy = \"1s\""], &[]),
        2,
        1,
        "unknown key `dealy` in [garp] (did you mean `delay`?)",
    );
    one_error(
        &base_with(&["garp = { repeats = 2 }"]),
        6,
        10,
        "unknown key `repeats` in the instance's garp",
    );
    let errs = errors(&base_with(&[
        "version = 2",
        "auth = { type = \"pass\", pass = \"1111\" }",
    ]));
    has_error(&errs, 7, 25, "unknown key `pass` in auth (it is `password` here)");
    has_error(&errs, 7, 8, "auth: type = \"pass\" needs a `password`");
    one_error(
        &with_policies(
            &[
                "[[policy]]",
                "name = \"w\"",
                "source = \"builtin:file\"",
                "confg = {}",
            ],
            &[],
        ),
        4,
        1,
        "unknown key `confg` in [[policy]] (did you mean `config`?)",
    );
    let mut l = vec!["[[policy]]", "name = \"w\"", "source = \"builtin:file\""];
    l.extend_from_slice(&BASE);
    l.extend_from_slice(&["[[instance.track]]", "policy = \"w\"", "wieght = 2"]);
    one_error(
        &l,
        11,
        1,
        "unknown key `wieght` in [[instance.track]] (did you mean `weight`?)",
    );
    let mut l = vec![
        "[[policy]]",
        "name = \"b\"",
        "source = \"builtin:split-brain-arp\"",
    ];
    l.extend_from_slice(&BASE);
    l.extend_from_slice(&["[instance.split_brain]", "policy = \"b\"", "intervall = \"1s\""]);
    one_error(
        &l,
        11,
        1,
        "unknown key `intervall` in [instance.split_brain] (did you mean `interval`?)",
    );
}

// ---------------------------------------------------------------- instance values

#[test]
fn required_instance_keys() {
    let errs = errors(&["router_id = \"x\"", "[[instance]]", "priority = 100"]);
    assert_eq!(errs.len(), 4, "{errs:#?}");
    has_error(&errs, 2, 1, "[[instance]] without `name`");
    has_error(&errs, 2, 1, "[[instance]] without `interface`");
    has_error(&errs, 2, 1, "[[instance]] without `vrid`");
    has_error(&errs, 2, 1, "[[instance]] without `vips`");
}

#[test]
fn no_instance_at_all() {
    one_error(&["router_id = \"x\""], 1, 1, "no [[instance]]");
    one_error(&["router_id = \"x\"", "instance = []"], 2, 12, "no [[instance]]");
}

#[test]
fn instance_must_be_an_array_of_tables() {
    one_error(
        &["[instance]", "name = \"VI_1\""],
        1,
        1,
        "write [[instance]] (an array of tables), not [instance]",
    );
}

#[test]
fn vrid_range_and_type() {
    let mut l = BASE.to_vec();
    l[3] = "vrid = 0";
    one_error(&l, 4, 8, "vrid: 0 is out of range (must be 1..=255)");
    l[3] = "vrid = 256";
    one_error(&l, 4, 8, "vrid: 256 is out of range (must be 1..=255)");
    l[3] = "vrid = \"50\"";
    one_error(
        &l,
        4,
        8,
        "vrid: expected an integer, found a string (write it without quotes: 50)",
    );
    l[3] = "vrid = 99999999999999999999999999999999999999999";
    one_error(&l, 4, 8, "out of range");
}

#[test]
fn priority_range() {
    one_error(
        &base_with(&["priority = 0"]),
        6,
        12,
        "priority: 0 is out of range (must be 1..=255)",
    );
    one_error(
        &base_with(&["priority = 256"]),
        6,
        12,
        "priority: 256 is out of range",
    );
    one_error(
        &base_with(&["priority = -1"]),
        6,
        12,
        "priority: -1 is out of range",
    );
}

#[test]
fn version_must_be_2_or_3() {
    one_error(
        &base_with(&["version = 4"]),
        6,
        11,
        "version: 4 is not a VRRP version (2 or 3)",
    );
}

#[test]
fn advert_interval_v2_takes_whole_seconds() {
    one_error(
        &base_with(&["version = 2", "advert_interval = \"1.5s\""]),
        7,
        19,
        "advert_interval: VRRPv2 takes whole seconds from 1s to 255s, got 1.5s",
    );
    one_error(
        &base_with(&["version = 2", "advert_interval = \"256s\""]),
        7,
        19,
        "VRRPv2 takes whole seconds",
    );
    ok(&base_with(&["version = 2", "advert_interval = \"255s\""]));
    ok(&base_with(&["version = 2", "advert_interval = \"4m\""]));
}

#[test]
fn advert_interval_v3_takes_10ms_steps() {
    let msg = "advert_interval: VRRPv3 takes multiples of 10ms from 10ms to 40.95s";
    one_error(&base_with(&["advert_interval = \"5ms\""]), 6, 19, msg);
    one_error(&base_with(&["advert_interval = \"15ms\""]), 6, 19, msg);
    one_error(&base_with(&["advert_interval = \"41s\""]), 6, 19, msg);
    one_error(&base_with(&["advert_interval = \"0s\""]), 6, 19, msg);
    ok(&base_with(&["advert_interval = \"10ms\""]));
    ok(&base_with(&["advert_interval = \"0.1s\""]));
}

#[test]
fn durations_need_a_unit() {
    one_error(
        &base_with(&["advert_interval = \"1\""]),
        6,
        19,
        "advert_interval: \"1\" needs a unit (us, ms, s, m, h)",
    );
    one_error(
        &base_with(&["advert_interval = 1"]),
        6,
        19,
        "advert_interval: a duration is a string with a unit (us, ms, s, m, h), e.g. \"1s\"",
    );
    one_error(
        &base_with(&["preempt_delay = \"5 sec\""]),
        6,
        17,
        "preempt_delay: \"5 sec\": unknown unit `sec`",
    );
    one_error(
        &base_with(&["preempt_delay = \"-5s\""]),
        6,
        17,
        "cannot be negative",
    );
}

#[test]
fn preempt_delay_at_most_1000s() {
    one_error(
        &base_with(&["preempt_delay = \"1001s\""]),
        6,
        17,
        "preempt_delay: 1001s is out of range (must be 0s to 1000s)",
    );
}

#[test]
fn booleans_are_booleans() {
    one_error(
        &base_with(&["preempt = \"false\""]),
        6,
        11,
        "preempt: expected true or false, found a string (write it without quotes: false)",
    );
    one_error(
        &base_with(&["accept = 1"]),
        6,
        10,
        "accept: expected true or false, found an integer",
    );
    one_error(
        &base_with(&["check_adv_addr = \"yes\""]),
        6,
        18,
        "check_adv_addr: expected true or false",
    );
}

#[test]
fn name_and_interface() {
    let mut l = BASE.to_vec();
    l[1] = "name = \"\"";
    one_error(&l, 2, 8, "name: cannot be empty");
    l[1] = "name = \"VI 1\"";
    one_error(&l, 2, 8, "name: \"VI 1\" contains ' '");
    let mut l = BASE.to_vec();
    l[2] = "interface = \"eth0:1\"";
    one_error(&l, 3, 13, "interface name `eth0:1` contains ':'");
    l[2] = "interface = \"a-very-long-ifname\"";
    one_error(&l, 3, 13, "Linux allows at most 15");
}

#[test]
fn vips_empty_or_not_an_array() {
    let mut l = BASE.to_vec();
    l[4] = "vips = []";
    one_error(&l, 5, 8, "vips: at least one virtual address is needed");
    l[4] = "vips = \"192.0.2.3\"";
    one_error(&l, 5, 8, "vips: expected an array of addresses, found a string");
    l[4] = "vips = [3]";
    one_error(&l, 5, 9, "vips: expected a string, found an integer");
}

#[test]
fn vip_syntax_errors_point_inside_the_string() {
    let mut l = BASE.to_vec();
    l[4] = "vips = [\"192.0.2.300\"]";
    one_error(&l, 5, 10, "vips: `192.0.2.300` is not an IPv4 or IPv6 address");
    l[4] = "vips = [\"192.0.2.3/33\"]";
    one_error(&l, 5, 20, "vips: prefix length `/33` must be 1..=32");
    l[4] = "vips = [\"2001:db8::3/129\"]";
    one_error(&l, 5, 22, "prefix length `/129` must be 1..=128");
    l[4] = "vips = [\"192.0.2.3/24 dev eth0 lable eth0:1\"]";
    one_error(&l, 5, 32, "unexpected `lable`");
    l[4] = "vips = [\"192.0.2.3 metric 5\"]";
    one_error(&l, 5, 20, "`metric` (keepalived option) is not supported");
    l[4] = "vips = [\"192.0.2.3 brd x\"]";
    one_error(&l, 5, 24, "brd `x` is not an IPv4 address");
    l[4] = "vips = [\"192.0.2.3 dev\"]";
    one_error(&l, 5, 20, "`dev` needs a value");
    l[4] = "vips = [\"224.0.0.18\"]";
    one_error(&l, 5, 10, "multicast");
}

#[test]
fn vip_label_must_start_with_its_dev() {
    let mut l = BASE.to_vec();
    l[4] = "vips = [\"192.0.2.3/24 dev eth0 label eth1:1\"]";
    one_error(&l, 5, 38, "label `eth1:1` must start with the device name `eth0`");
    // The default dev is the instance's interface.
    l[4] = "vips = [\"192.0.2.3/24 label bond0:1\"]";
    one_error(&l, 5, 29, "must start with the device name `eth0`");
    l[4] = "vips = [\"192.0.2.3/24 dev bond0 label bond0:1\"]";
    ok(&l);
}

#[test]
fn vip_label_is_ipv4_only() {
    let mut l = BASE.to_vec();
    l[4] = "vips = [\"2001:db8::3/64 dev eth0 label eth0:1\"]";
    one_error(&l, 5, 34, "`label` is for IPv4 addresses only");
}

#[test]
fn vips_of_one_family() {
    let mut l = BASE.to_vec();
    l[4] = "vips = [\"192.0.2.3\", \"2001:db8::3\"]";
    one_error(
        &l,
        5,
        22,
        "vips: 2001:db8::3 is IPv6, but the first address is IPv4: an instance's addresses are all of one family",
    );
}

#[test]
fn vip_listed_twice() {
    let mut l = BASE.to_vec();
    l[4] = "vips = [\"192.0.2.3/24\", \"192.0.2.3\"]";
    one_error(&l, 5, 25, "vips: 192.0.2.3 is listed twice");
}

#[test]
fn vrrpv2_is_ipv4_only() {
    let mut l = base_with(&["version = 2"]);
    l[4] = "vips = [\"2001:db8::3\"]".into();
    one_error(
        &l,
        6,
        11,
        "version: VRRPv2 is IPv4 only; use version = 3 for IPv6 addresses",
    );
}

#[test]
fn auth_is_v2_only() {
    one_error(
        &base_with(&["auth = { type = \"pass\", password = \"1111\" }"]),
        6,
        8,
        "auth: VRRPv3 (the default) has no authentication (RFC 9568 §9); set version = 2 to use a password",
    );
    one_error(
        &base_with(&["version = 3", "auth = { type = \"pass\", password = \"1111\" }"]),
        7,
        8,
        "auth: VRRPv3 has no authentication",
    );
    ok(&base_with(&["auth = { type = \"none\" }"]));
}

#[test]
fn password_length() {
    one_error(
        &base_with(&[
            "version = 2",
            "auth = { type = \"pass\", password = \"123456789\" }",
        ]),
        7,
        36,
        "auth.password: 9 bytes; VRRPv2 carries at most 8 (keepalived would silently use only \"12345678\")",
    );
    one_error(
        &base_with(&["version = 2", "auth = { type = \"pass\", password = \"\" }"]),
        7,
        36,
        "auth.password: cannot be empty",
    );
    let c = ok(&base_with(&[
        "version = 2",
        "auth = { type = \"pass\", password = \"12345678\" }",
    ]));
    assert_eq!(c.instances[0].auth, Auth::pass("12345678").expect("8 bytes"));
}

#[test]
fn auth_type_and_password_presence() {
    one_error(
        &base_with(&["version = 2", "auth = { type = \"PASS\", password = \"1111\" }"]),
        7,
        17,
        "auth.type: `PASS` is not \"pass\" or \"hmac\" or \"none\" (write it in lower case: \"pass\")",
    );
    one_error(
        &base_with(&["version = 2", "auth = { type = \"pass\" }"]),
        7,
        8,
        "needs a `password`",
    );
    one_error(
        &base_with(&["version = 2", "auth = { password = \"1111\" }"]),
        7,
        8,
        "auth: missing `type`",
    );
    one_error(
        &base_with(&["version = 2", "auth = { type = \"none\", password = \"1111\" }"]),
        7,
        36,
        "auth.password: not used with type = \"none\"",
    );
}

#[test]
fn unicast_addresses_match_the_family() {
    one_error(
        &base_with(&["unicast_src = \"2001:db8::1\""]),
        6,
        15,
        "unicast_src: 2001:db8::1 is IPv6, but the instance's addresses are IPv4",
    );
    one_error(
        &base_with(&["unicast_peers = [\"192.0.2.2\", \"2001:db8::2\"]"]),
        6,
        31,
        "unicast_peers: 2001:db8::2 is IPv6, but the instance's addresses are IPv4",
    );
}

#[test]
fn unicast_address_mistakes() {
    one_error(
        &base_with(&["unicast_src = \"192.0.2.1/24\""]),
        6,
        15,
        "not an IPv4 or IPv6 address (no prefix length here)",
    );
    one_error(
        &base_with(&["unicast_src = \"192.0.2.3\""]),
        6,
        15,
        "is one of the instance's virtual addresses",
    );
    one_error(
        &base_with(&["unicast_peers = [\"224.0.0.18\"]"]),
        6,
        18,
        "is not a unicast address",
    );
    one_error(
        &base_with(&["unicast_peers = [\"192.0.2.2\", \"192.0.2.2\"]"]),
        6,
        31,
        "192.0.2.2 is listed twice",
    );
    one_error(
        &base_with(&["unicast_src = \"192.0.2.1\"", "unicast_peers = [\"192.0.2.1\"]"]),
        7,
        18,
        "is this router's own unicast_src",
    );
}

#[test]
fn track_interfaces_are_interface_names() {
    one_error(
        &base_with(&["track_interfaces = [\"eth1\", \"eth1\"]"]),
        6,
        29,
        "`eth1` is listed twice",
    );
    one_error(
        &base_with(&["track_interfaces = [\"\"]"]),
        6,
        21,
        "an interface name cannot be empty",
    );
}

#[test]
fn v3_checksum_values() {
    one_error(
        &base_with(&["v3_checksum = \"none\""]),
        6,
        15,
        "v3_checksum: `none` is not \"pseudo-header\" or \"no-pseudo-header\"",
    );
    one_error(
        &base_with(&["version = 2", "v3_checksum = \"no-pseudo-header\""]),
        7,
        15,
        "only applies to VRRPv3 over IPv4",
    );
}

#[test]
fn garp_values() {
    one_error(
        &with_policies(&["[garp]", "repeat = 0"], &[]),
        2,
        10,
        "garp.repeat: 0 is out of range (must be 1..=255)",
    );
    one_error(
        &with_policies(&["[garp]", "refresh = \"500ms\""], &[]),
        2,
        11,
        "garp.refresh: 500ms is too often",
    );
    one_error(
        &with_policies(&["[garp]", "delay = 5"], &[]),
        2,
        9,
        "garp.delay: a duration is a string with a unit",
    );
    one_error(
        &with_policies(&["[[garp]]", "delay = \"5s\""], &[]),
        1,
        1,
        "garp: expected a table ([garp]), found an array",
    );
    one_error(
        &base_with(&["garp = { interval = \"11s\" }"]),
        6,
        21,
        "garp.interval: 11s is out of range (must be 0s to 10s)",
    );
}

// ---------------------------------------------------------------- across instances

#[test]
fn duplicate_instance_names() {
    let errs = errors(&[
        "[[instance]]",
        "name = \"VI_1\"",
        "interface = \"eth0\"",
        "vrid = 50",
        "vips = [\"192.0.2.3\"]",
        "[[instance]]",
        "name = \"VI_1\"",
        "interface = \"eth0\"",
        "vrid = 51",
        "vips = [\"192.0.2.4\"]",
    ]);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    has_error(&errs, 7, 8, "name: another [[instance]] is named `VI_1` (line 2)");
}

#[test]
fn duplicate_interface_family_vrid() {
    let errs = errors(&[
        "[[instance]]",
        "name = \"VI_1\"",
        "interface = \"eth0\"",
        "vrid = 50",
        "vips = [\"192.0.2.3\"]",
        "[[instance]]",
        "name = \"VI_2\"",
        "interface = \"eth0\"",
        "vrid = 50",
        "vips = [\"192.0.2.4\"]",
    ]);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    has_error(
        &errs,
        9,
        8,
        "vrid: 50 on eth0 (IPv4) is already used by instance `VI_1` (line 1)",
    );
}

#[test]
fn a_vip_belongs_to_one_instance() {
    let errs = errors(&[
        "[[instance]]",
        "name = \"VI_1\"",
        "interface = \"eth0\"",
        "vrid = 50",
        "vips = [\"192.0.2.3\"]",
        "[[instance]]",
        "name = \"VI_2\"",
        "interface = \"eth0\"",
        "vrid = 51",
        "vips = [\"192.0.2.3/24\"]",
    ]);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    has_error(
        &errs,
        10,
        9,
        "vips: 192.0.2.3 is also a virtual address of instance `VI_1` (line 5)",
    );
}

// ---------------------------------------------------------------- policies

fn with_policies(policies: &[&str], instance_extra: &[&str]) -> Vec<String> {
    policies
        .iter()
        .chain(&BASE)
        .chain(instance_extra)
        .map(|s| s.to_string())
        .collect()
}

const WEB: [&str; 3] = ["[[policy]]", "name = \"web\"", "source = \"builtin:http-status\""];

#[test]
fn track_must_name_a_policy() {
    one_error(
        &with_policies(&WEB, &["[[instance.track]]", "policy = \"wbe\""]),
        10,
        10,
        "track.policy: no [[policy]] named `wbe` (did you mean `web`?)",
    );
    one_error(
        &base_with(&["[[instance.track]]", "interval = \"1s\""]),
        6,
        1,
        "[[instance.track]] without `policy`",
    );
}

#[test]
fn split_brain_must_name_a_split_brain_policy() {
    one_error(
        &with_policies(&WEB, &["[instance.split_brain]", "policy = \"brain\""]),
        10,
        10,
        "split_brain.policy: no [[policy]] named `brain`",
    );
    one_error(
        &with_policies(&WEB, &["[instance.split_brain]", "policy = \"web\""]),
        10,
        10,
        "is a health check, not a split-brain policy",
    );
    one_error(
        &with_policies(
            &[
                "[[policy]]",
                "name = \"b\"",
                "source = \"builtin:split-brain-arp\"",
            ],
            &["[[instance.track]]", "policy = \"b\""],
        ),
        10,
        10,
        "is a split-brain policy: use it in [instance.split_brain]",
    );
}

#[test]
fn track_values() {
    let t = |line: &'static str| with_policies(&WEB, &["[[instance.track]]", "policy = \"web\"", line]);
    one_error(
        &t("interval = \"5ms\""),
        11,
        12,
        "track.interval: 5ms is out of range (must be 10ms to 1h)",
    );
    one_error(
        &t("interval = \"2h\""),
        11,
        12,
        "track.interval: 2h is out of range",
    );
    one_error(
        &t("timeout = \"61m\""),
        11,
        11,
        "track.timeout: 61m is out of range",
    );
    one_error(
        &t("weight = 254"),
        11,
        10,
        "track.weight: 254 is out of range (must be -253..=253)",
    );
    one_error(&t("weight = -254"), 11, 10, "track.weight: -254 is out of range");
    one_error(
        &t("rise = 0"),
        11,
        8,
        "track.rise: 0 is out of range (must be at least 1)",
    );
    one_error(
        &t("fall = 0"),
        11,
        8,
        "track.fall: 0 is out of range (must be at least 1)",
    );
    let c = ok(&t("interval = \"50ms\""));
    assert_eq!(c.instances[0].tracks[0].timeout, Duration::from_millis(50));
    one_error(
        &with_policies(
            &WEB,
            &[
                "[[instance.track]]",
                "policy = \"web\"",
                "[[instance.track]]",
                "policy = \"web\"",
            ],
        ),
        12,
        10,
        "`web` is already tracked by this instance (line 10)",
    );
}

#[test]
fn split_brain_interval() {
    one_error(
        &with_policies(
            &[
                "[[policy]]",
                "name = \"b\"",
                "source = \"builtin:split-brain-arp\"",
            ],
            &["[instance.split_brain]", "policy = \"b\"", "interval = \"1ms\""],
        ),
        11,
        12,
        "split_brain.interval: 1ms is out of range",
    );
}

#[test]
fn policy_definitions() {
    one_error(
        &with_policies(
            &["[[policy]]", "name = \"w\"", "source = \"builtin:http-stats\""],
            &[],
        ),
        3,
        19,
        "source: no builtin policy `http-stats` (did you mean `builtin:http-status`?)",
    );
    one_error(
        &with_policies(&["[[policy]]", "name = \"w\""], &[]),
        1,
        1,
        "[[policy]] without `source`",
    );
    one_error(
        &with_policies(&["[[policy]]", "source = \"builtin:file\""], &[]),
        1,
        1,
        "[[policy]] without `name`",
    );
    one_error(
        &with_policies(
            &[
                "[[policy]]",
                "name = \"w\"",
                "source = \"builtin:file\"",
                "sha256 = \"abc\"",
            ],
            &[],
        ),
        4,
        10,
        "sha256: expected 64 hexadecimal digits",
    );
    one_error(
        &with_policies(
            &[
                "[[policy]]",
                "name = \"w\"",
                "source = \"builtin:file\"",
                "config = { ratio = 1.5 }",
            ],
            &[],
        ),
        4,
        20,
        "config.ratio: values are strings, integers or booleans, found a float",
    );
    one_error(
        &with_policies(
            &[
                "[[policy]]",
                "name = \"w\"",
                "source = \"builtin:file\"",
                "[[policy]]",
                "name = \"w\"",
                "source = \"builtin:tcp-port\"",
            ],
            &[],
        ),
        5,
        8,
        "duplicate policy name `w` (first defined at line 2)",
    );
}

#[test]
fn a_bad_policy_is_reported_once_not_at_each_use() {
    one_error(
        &with_policies(
            &[
                "[[policy]]",
                "name = \"web\"",
                "source = \"builtin:http-status\"",
                "sha256 = \"xyz\"",
            ],
            &["[[instance.track]]", "policy = \"web\""],
        ),
        4,
        10,
        "sha256: expected 64 hexadecimal digits",
    );
}

// ---------------------------------------------------------------- many errors

#[test]
fn all_semantic_errors_are_reported_in_file_order() {
    let errs = errors(&[
        "routr_id = \"lb01\"",
        "[[instance]]",
        "name = \"VI_1\"",
        "interface = \"eth0\"",
        "vrid = 0",
        "priority = 300",
        "advert_interval = \"1\"",
        "vips = [\"192.0.2.3/24 dev eth0 label eth1:1\"]",
        "auth = { type = \"pass\", password = \"1111\" }",
        "[[instance]]",
        "name = \"VI_2\"",
        "interface = \"eth0\"",
        "vrid = 51",
        "priorty = 100",
        "vips = [\"2001:db8::4\"]",
        "unicast_peers = [\"192.0.2.2\"]",
    ]);
    let want = [
        (1, 1, "unknown key `routr_id`"),
        (5, 8, "vrid: 0 is out of range"),
        (6, 12, "priority: 300 is out of range"),
        (7, 19, "needs a unit"),
        (8, 38, "must start with the device name"),
        (9, 8, "auth: VRRPv3"),
        (14, 1, "unknown key `priorty`"),
        (16, 18, "unicast_peers: 192.0.2.2 is IPv4"),
    ];
    assert_eq!(errs.len(), want.len(), "{errs:#?}");
    for ((line, col, frag), got) in want.iter().zip(&errs) {
        let prefix = format!("{FILE}:{line}:{col}: ");
        assert!(
            got.starts_with(&prefix) && got.contains(frag),
            "want {prefix}{frag}, got {got}"
        );
    }
}

#[test]
fn columns_count_characters_not_bytes() {
    // "é" is two bytes, one column.
    one_error(
        &with_policies(&["# é", "router_id = \"é\"; x"], &[]),
        2,
        16,
        "unexpected key or value",
    );
}

// ---------------------------------------------------------------- policies: grants, remedies, tracks

/// A policy `web` (lines 1-3 plus `policy_extra`), then BASE, then one track
/// of `web` with `track_extra`.
fn web_tracked(policy_extra: &[&str], track_extra: &[&str]) -> Vec<String> {
    let mut l: Vec<&str> = vec!["[[policy]]", "name = \"web\"", "source = \"builtin:http-status\""];
    l.extend_from_slice(policy_extra);
    l.extend_from_slice(&BASE);
    l.extend_from_slice(&["[[instance.track]]", "policy = \"web\""]);
    l.extend_from_slice(track_extra);
    l.iter().map(|s| s.to_string()).collect()
}

#[test]
fn grants_remedies_and_track_settings_reach_the_types() {
    let c = ok(&[
        "[[remedy]]",
        "name = \"restart-nginx\"",
        "command = [\"systemctl\", \"restart\", \"nginx\"]",
        "timeout = \"5s\"",
        "[[remedy]]",
        "name = \"noop\"",
        "command = [\"/bin/true\"]",
        "[[policy]]",
        "name = \"web\"",
        "source = \"builtin:http-status\"",
        "config = { url = \"http://127.0.0.1/\", expect = 200 }",
        "allow = [\"127.0.0.1:80\", \"192.0.2.0/24:8080\", \"[::1]:*\", \"localhost:443\"]",
        "allow_files = [\"/run/app/weight\"]",
        "remedies = [\"restart-nginx\"]",
        "[[instance]]",
        "name = \"VI_1\"",
        "interface = \"eth0\"",
        "vrid = 50",
        "vips = [\"192.0.2.3\"]",
        "[[instance.track]]",
        "policy = \"web\"",
        "interval = \"10ms\"",
        "timeout = \"8ms\"",
        "weight = -60",
        "rise = 2",
        "init_fail = true",
        "config = { url = \"http://192.0.2.11/\", timeout-ms = 5 }",
    ]);
    assert_eq!(c.remedies.len(), 2);
    let r = c.remedy("restart-nginx").expect("remedy");
    assert_eq!(r.command, vec!["systemctl", "restart", "nginx"]);
    assert_eq!(r.timeout, Duration::from_secs(5));
    assert_eq!(c.remedy("noop").expect("noop").timeout, Duration::from_secs(10));
    let p = c.policy("web").expect("web");
    assert_eq!(
        p.allow,
        vec!["127.0.0.1:80", "192.0.2.0/24:8080", "[::1]:*", "localhost:443"]
    );
    assert_eq!(p.allow_files, vec!["/run/app/weight"]);
    assert_eq!(p.remedies, vec!["restart-nginx"]);
    let t = &c.instance("VI_1").expect("VI_1").tracks[0];
    assert_eq!(t.interval, Duration::from_millis(10));
    assert_eq!(t.timeout, Duration::from_millis(8));
    assert!(t.init_fail);
    assert_eq!(t.config["url"], "http://192.0.2.11/");
    assert_eq!(t.config["timeout-ms"], "5");
    // Defaults.
    let c = ok(&web_tracked(&[], &[]));
    let p = c.policy("web").expect("web");
    assert!(p.allow.is_empty() && p.allow_files.is_empty() && p.remedies.is_empty());
    let t = &c.instance("VI_1").expect("VI_1").tracks[0];
    assert!(!t.init_fail);
    assert!(t.config.is_empty());
}

#[test]
fn allow_patterns_are_checked() {
    one_error(
        &web_tracked(&["allow = [\"127.0.0.1:80\", \"example.com:80\"]"], &[]),
        4,
        26,
        "allow: `example.com:80` is not ADDR:PORT",
    );
    one_error(
        &web_tracked(&["allow = [\"127.0.0.1\"]"], &[]),
        4,
        10,
        "allow: `127.0.0.1` is not ADDR:PORT",
    );
    one_error(
        &web_tracked(&["allow = [\"10.0.0.0/33:1\"]"], &[]),
        4,
        10,
        "is not ADDR:PORT",
    );
    one_error(
        &web_tracked(&["allow = [\"127.0.0.1:80\", \"127.0.0.1:80\"]"], &[]),
        4,
        26,
        "allow: `127.0.0.1:80` is listed twice",
    );
    one_error(
        &web_tracked(&["allow = \"127.0.0.1:80\""], &[]),
        4,
        9,
        "allow: expected an array",
    );
    one_error(
        &web_tracked(&["allow_net = [\"127.0.0.1:80\"]"], &[]),
        4,
        1,
        "unknown key `allow_net` in [[policy]] (network targets are `allow`)",
    );
}

#[test]
fn allow_files_are_absolute() {
    one_error(
        &web_tracked(&["allow_files = [\"run/app/weight\"]"], &[]),
        4,
        16,
        "allow_files: `run/app/weight` must be an absolute path",
    );
    one_error(
        &web_tracked(&["allow_files = [\"/run/../etc/shadow\"]"], &[]),
        4,
        16,
        "must be an absolute path without . or ..",
    );
}

#[test]
fn remedies_name_remedy_tables() {
    let mut l = vec![
        "[[remedy]]",
        "name = \"restart-nginx\"",
        "command = [\"systemctl\", \"restart\", \"nginx\"]",
    ];
    let w = web_tracked(&["remedies = [\"restart-ngnix\"]"], &[]);
    l.extend(w.iter().map(String::as_str));
    one_error(
        &l,
        7,
        13,
        "remedies: no [[remedy]] named `restart-ngnix` (did you mean `restart-nginx`?)",
    );
    one_error(
        &web_tracked(&["remedies = [\"restart\"]"], &[]),
        4,
        13,
        "remedies: no [[remedy]] named `restart` (define it as a top-level [[remedy]])",
    );
}

#[test]
fn remedy_tables_are_checked() {
    let with = |lines: &[&str]| -> Vec<String> {
        let mut l: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
        l.extend(BASE.iter().map(|s| s.to_string()));
        l
    };
    one_error(
        &with(&[
            "[[remedy]]",
            "name = \"r\"",
            "command = \"systemctl restart nginx\"",
        ]),
        3,
        11,
        "command: an array of program and arguments, run without a shell (e.g. [\"systemctl\", \"restart\", \"nginx\"])",
    );
    one_error(
        &with(&["[[remedy]]", "name = \"r\"", "command = []"]),
        3,
        11,
        "command: cannot be empty",
    );
    one_error(
        &with(&["[[remedy]]", "name = \"r\"", "command = [\"\"]"]),
        3,
        12,
        "command: the program cannot be empty",
    );
    one_error(
        &with(&["[[remedy]]", "name = \"r\""]),
        1,
        1,
        "[[remedy]] without `command`",
    );
    one_error(
        &with(&["[[remedy]]", "command = [\"true\"]"]),
        1,
        1,
        "[[remedy]] without `name`",
    );
    one_error(
        &with(&[
            "[[remedy]]",
            "name = \"r\"",
            "command = [\"true\"]",
            "timeout = 10",
        ]),
        4,
        11,
        "timeout: a duration is a string with a unit",
    );
    let errs = errors(&with(&["[[remedy]]", "name = \"r\"", "comand = [\"true\"]"]));
    has_error(
        &errs,
        3,
        1,
        "unknown key `comand` in [[remedy]] (did you mean `command`?)",
    );
    let errs = errors(&with(&[
        "[[remedy]]",
        "name = \"r\"",
        "command = [\"true\"]",
        "[[remedy]]",
        "name = \"r\"",
        "command = [\"false\"]",
    ]));
    has_error(&errs, 5, 8, "duplicate remedy name `r` (first defined at line 2)");
    one_error(
        &with(&["[remedy]", "name = \"r\"", "command = [\"true\"]"]),
        1,
        1,
        "remedy: write [[remedy]]",
    );
}

#[test]
fn track_init_fail_config_and_interval() {
    one_error(
        &web_tracked(&[], &["init_fail = \"yes\""]),
        11,
        13,
        "track.init_fail: expected true or false",
    );
    one_error(
        &web_tracked(&[], &["config = { url = 1.5 }"]),
        11,
        18,
        "track.config.url: values are strings, integers or booleans, found a float",
    );
    one_error(
        &web_tracked(&[], &["config = \"url=x\""]),
        11,
        10,
        "track.config: expected a table",
    );
    one_error(
        &web_tracked(&[], &["settings = {}"]),
        11,
        1,
        "unknown key `settings` in [[instance.track]] (per-instance settings are `config`)",
    );
    // Policy intervals go down to 10 ms.
    ok(&web_tracked(&[], &["interval = \"10ms\""]));
    one_error(
        &web_tracked(&[], &["interval = \"5ms\""]),
        11,
        12,
        "track.interval: 5ms is out of range (must be 10ms to 1h)",
    );
}

/// accept = false drops traffic to the VIPs, except on their owner (255).
#[test]
fn accept_false_names_the_vips_to_drop() {
    let c = ok(&base_with(&["accept = false"]));
    let i = &c.instances[0];
    assert!(!i.accept);
    assert_eq!(
        i.no_accept_vips(),
        i.vips.iter().map(|v| v.addr).collect::<Vec<_>>()
    );
    assert!(!i.no_accept_vips().is_empty());
    let mut owner = i.clone();
    owner.priority = 255;
    assert!(owner.no_accept_vips().is_empty());
}

// ---------------------------------------------------------------- builtins

#[test]
fn builtin_names_round_trip() {
    assert_eq!(Builtin::all().len(), config::BUILTIN_POLICIES.len());
    for (b, name) in Builtin::all().iter().zip(config::BUILTIN_POLICIES) {
        assert_eq!(b.name(), *name);
        assert_eq!(Builtin::from_name(name), Some(*b));
        assert_eq!(PolicySource::Builtin(*b).to_string(), format!("builtin:{name}"));
        let c = ok(&with_policies(
            &[
                "[[policy]]",
                "name = \"p\"",
                &format!("source = \"builtin:{name}\""),
            ],
            &[],
        ));
        assert_eq!(c.policies[0].source, PolicySource::Builtin(*b));
    }
    assert_eq!(
        config::BUILTIN_POLICIES,
        [
            "process-alive",
            "tcp-port",
            "http-status",
            "file",
            "interface-up",
            "exec",
            "split-brain-peer-http",
            "split-brain-arp"
        ]
    );
    let split: Vec<&str> = Builtin::all()
        .iter()
        .filter(|b| b.is_split_brain())
        .map(|b| b.name())
        .collect();
    assert_eq!(split, ["split-brain-peer-http", "split-brain-arp"]);
    assert_eq!(Builtin::from_name("http-stats"), None);
}

// ---------------------------------------------------------------- network targets and grants

/// The grants of the first track of the first instance.
fn track_grants(c: &Config) -> Vec<String> {
    let t = &c.instances[0].tracks[0];
    let p = c.policy(&t.policy).expect("policy");
    p.net_grants(&config::merge_settings(&p.config, &t.config))
}

#[test]
fn a_builtin_reaches_the_targets_its_settings_name() {
    let url = |u: &str| format!("config = {{ url = \"{u}\" }}");
    for (u, want) in [
        ("http://192.0.2.11:8080/", "192.0.2.11:8080"),
        ("http://192.0.2.11/health", "192.0.2.11:80"),
        ("https://192.0.2.11/", "192.0.2.11:443"),
        ("http://[2001:db8::11]/", "[2001:db8::11]:80"),
        ("http://[2001:db8::11]:8443/x", "[2001:db8::11]:8443"),
        ("http://localhost:81/", "localhost:81"),
    ] {
        let c = ok(&web_tracked(&[&url(u)], &[]));
        assert_eq!(track_grants(&c), [want], "{u}");
        let p = c.policy("web").expect("web");
        let t = p.declared_targets(&p.config);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].keys, ["url"]);
        assert_eq!(t[0].target.as_ref().map(|t| t.pattern()).as_deref(), Ok(want));
    }
    // An allow adds to them; the track's url wins over the policy's.
    let c = ok(&web_tracked(
        &[&url("http://192.0.2.11/"), "allow = [\"127.0.0.1:*\"]"],
        &["config = { url = \"http://192.0.2.12:8080/\" }"],
    ));
    assert_eq!(track_grants(&c), ["127.0.0.1:*", "192.0.2.12:8080"]);
    // tcp-port: host (default 127.0.0.1) and port.
    let tcp = |cfg: &str| {
        ok(&with_policies(
            &[
                "[[policy]]",
                "name = \"db\"",
                "source = \"builtin:tcp-port\"",
                cfg,
            ],
            &["[[instance.track]]", "policy = \"db\""],
        ))
    };
    assert_eq!(
        track_grants(&tcp("config = { host = \"192.0.2.7\", port = 5432 }")),
        ["192.0.2.7:5432"]
    );
    assert_eq!(track_grants(&tcp("config = { port = 6379 }")), ["127.0.0.1:6379"]);
    assert_eq!(
        track_grants(&tcp("config = { host = \"2001:db8::7\", port = 22 }")),
        ["[2001:db8::7]:22"]
    );
}

#[test]
fn a_host_name_is_refused_where_it_is_written() {
    let dns =
        "is a host name, and Baton does not resolve names (no DNS): write a literal address or localhost";
    let tcp = |cfg: &str| {
        with_policies(
            &[
                "[[policy]]",
                "name = \"db\"",
                "source = \"builtin:tcp-port\"",
                cfg,
            ],
            &[],
        )
    };
    let cases = [
        (
            web_tracked(&["config = { url = \"http://example.com:8080/\" }"], &[]),
            4,
            18,
            format!("config.url: `example.com` {dns}"),
        ),
        (
            web_tracked(&[], &["config = { url = \"http://db.example/\" }"]),
            11,
            18,
            format!("track.config.url: `db.example` {dns}"),
        ),
        (
            tcp("config = { host = \"db.example\", port = 5432 }"),
            4,
            19,
            format!("config.host: `db.example` {dns}"),
        ),
        (
            tcp("config = { port = \"pg\" }"),
            4,
            19,
            "config.port: `pg` is not a port (0 to 65535)".into(),
        ),
        (
            web_tracked(&["config = { url = \"ftp://192.0.2.1/\" }"], &[]),
            4,
            18,
            "config.url: `ftp://192.0.2.1/` is not an http:// or https:// URL".into(),
        ),
        (
            web_tracked(&["config = { url = \"http://192.0.2.1:80000/\" }"], &[]),
            4,
            18,
            "config.url: `80000` is not a port".into(),
        ),
    ];
    for (lines, line, col, message) in &cases {
        one_error(lines, *line, *col, message);
    }
}

/// A policy from a file (`web.wasm`, lines 1-3 plus `policy_extra`), BASE,
/// a track of it with `track_extra`; loaded from a temporary directory.
/// Errors come as `LINE:COL: message`.
fn component_tracked(tag: &str, policy_extra: &[&str], track_extra: &[&str]) -> Result<Config, Vec<String>> {
    let dir = temp_dir(tag);
    std::fs::write(dir.join("web.wasm"), b"\0asm").expect("write");
    let mut l: Vec<&str> = vec!["[[policy]]", "name = \"web\"", "source = \"web.wasm\""];
    l.extend_from_slice(policy_extra);
    l.extend_from_slice(&BASE);
    l.extend_from_slice(&["[[instance.track]]", "policy = \"web\""]);
    l.extend_from_slice(track_extra);
    let cfg = dir.join("baton.toml");
    std::fs::write(&cfg, text(&l)).expect("write");
    let r = config::load(&cfg).map_err(|d| {
        d.iter()
            .map(|d| format!("{}:{}: {}", d.line, d.col, d.message))
            .collect()
    });
    std::fs::remove_dir_all(&dir).ok();
    r
}

#[test]
fn a_components_targets_need_its_allow() {
    let url = "config = { url = \"http://192.0.2.11:8080/\" }";
    assert_eq!(
        component_tracked("grant-url", &[url], &[]).expect_err("not covered"),
        [
            "4:18: policy web: config url http://192.0.2.11:8080/ names 192.0.2.11:8080, which its `allow` does not cover; add allow = [\"192.0.2.11:8080\"]"
        ]
    );
    // Covered: exactly, by a block, by any port; the grants are the allow.
    for allow in ["192.0.2.11:8080", "192.0.2.0/24:8080", "192.0.2.11:*"] {
        let a = format!("allow = [\"{allow}\"]");
        let c = component_tracked("grant-ok", &[url, &a], &[]).unwrap_or_else(|e| panic!("{allow}: {e:?}"));
        assert_eq!(track_grants(&c), [allow]);
    }
    assert_eq!(
        component_tracked("grant-port", &[url, "allow = [\"192.0.2.11:80\"]"], &[]).expect_err("port"),
        [
            "4:18: policy web: config url http://192.0.2.11:8080/ names 192.0.2.11:8080, which its `allow` does not cover; add allow = [\"192.0.2.11:8080\"]"
        ]
    );
    // The default ports.
    let e = component_tracked(
        "grant-https",
        &["config = { url = \"https://[2001:db8::1]/\" }"],
        &[],
    )
    .expect_err("https");
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with("4:18: policy web: config url https://[2001:db8::1]/ names [2001:db8::1]:443,"),
        "{e:?}"
    );
    // host and port.
    assert_eq!(
        component_tracked(
            "grant-host",
            &["config = { host = \"192.0.2.7\", port = 5432 }"],
            &[]
        )
        .expect_err("host"),
        [
            "4:19: policy web: config host 192.0.2.7, port 5432 names 192.0.2.7:5432, which its `allow` does not cover; add allow = [\"192.0.2.7:5432\"]"
        ]
    );
    // A port alone names nothing (no default host for a component).
    component_tracked("grant-port-only", &["config = { port = 5432 }"], &[]).expect("port alone");
}

#[test]
fn a_tracks_settings_are_checked_against_its_policys_allow() {
    let allow = "allow = [\"192.0.2.11:80\"]";
    assert_eq!(
        component_tracked(
            "grant-track",
            &[allow],
            &["config = { url = \"http://192.0.2.12/\" }"]
        )
        .expect_err("track"),
        [
            "12:18: track.config: url http://192.0.2.12/ names 192.0.2.12:80, which the `allow` of policy `web` does not cover; add \"192.0.2.12:80\" to it"
        ]
    );
    component_tracked(
        "grant-track-ok",
        &[allow],
        &["config = { url = \"http://192.0.2.11/\" }"],
    )
    .expect("covered");
    // The policy's host, the track's port: reported at the track's port.
    assert_eq!(
        component_tracked(
            "grant-track-port",
            &[
                "config = { host = \"192.0.2.7\" }",
                "allow = [\"192.0.2.7:5432\"]"
            ],
            &["config = { port = 5433 }"]
        )
        .expect_err("port"),
        [
            "13:19: track.config: host 192.0.2.7, port 5433 names 192.0.2.7:5433, which the `allow` of policy `web` does not cover; add \"192.0.2.7:5433\" to it"
        ]
    );
    // A policy's own uncovered url is reported once, at the policy, not at
    // each track that does not change it.
    let e = component_tracked(
        "grant-once",
        &["config = { url = \"http://192.0.2.11/\" }"],
        &["weight = 10"],
    )
    .expect_err("policy");
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].starts_with("4:18: policy web:"), "{e:?}");
}

// ---------------------------------------------------------------- [[check]] and track.check

/// A policy `web`, a check `web-check` of it (lines 4-7 plus `check_extra`),
/// BASE, then the instance's lines.
fn checked(check_extra: &[&str], instance_extra: &[&str]) -> Vec<String> {
    let mut l: Vec<&str> = WEB.to_vec();
    l.extend_from_slice(&[
        "[[check]]",
        "name = \"web-check\"",
        "policy = \"web\"",
        "interval = \"2s\"",
    ]);
    l.extend_from_slice(check_extra);
    l.extend_from_slice(&BASE);
    l.extend_from_slice(instance_extra);
    l.iter().map(|s| s.to_string()).collect()
}

#[test]
fn a_check_is_declared_once_and_tracked_by_many() {
    let mut l = checked(
        &["timeout = \"500ms\"", "config = { url = \"http://192.0.2.11/\" }"],
        &[
            "[[instance.track]]",
            "check = \"web-check\"",
            "weight = -20",
            "rise = 3",
        ],
    );
    l.extend(
        [
            "[[instance]]",
            "name = \"VI_2\"",
            "interface = \"eth0\"",
            "vrid = 51",
            "vips = [\"192.0.2.4\"]",
            "[[instance.track]]",
            "check = \"web-check\"",
            "[[instance.track]]",
            "policy = \"web\"",
        ]
        .map(String::from),
    );
    let c = ok(&l);
    let check = c.check("web-check").expect("check");
    assert_eq!(check.policy, "web");
    assert_eq!(
        (check.interval, check.timeout),
        (Duration::from_secs(2), Duration::from_millis(500))
    );
    assert_eq!(check.config["url"], "http://192.0.2.11/");
    let t = &c.instance("VI_1").expect("VI_1").tracks[0];
    assert_eq!(t.check.as_deref(), Some("web-check"));
    assert_eq!(t.name(), "web-check");
    assert_eq!(
        (t.policy.as_str(), t.interval, t.timeout, t.weight, t.rise, t.fall),
        (
            "web",
            Duration::from_secs(2),
            Duration::from_millis(500),
            -20,
            3,
            1
        )
    );
    // Its settings are the check's, merged over the policy's like a track's.
    assert_eq!(t.config, check.config);
    let vi2 = c.instance("VI_2").expect("VI_2");
    assert_eq!(vi2.tracks.len(), 2);
    assert_eq!(vi2.tracks[0].name(), "web-check");
    assert_eq!(
        (vi2.tracks[1].name(), vi2.tracks[1].check.as_deref()),
        ("web", None)
    );
    // The timeout defaults to the interval.
    let c = ok(&checked(&[], &["[[instance.track]]", "check = \"web-check\""]));
    assert_eq!(c.checks[0].timeout, Duration::from_secs(2));
}

#[test]
fn check_rules() {
    let track = |lines: &[&str]| {
        let mut l = vec!["[[instance.track]]"];
        l.extend_from_slice(lines);
        checked(&[], &l)
    };
    let split_brain_check = with_policies(
        &[
            "[[policy]]",
            "name = \"b\"",
            "source = \"builtin:split-brain-arp\"",
            "[[check]]",
            "name = \"c\"",
            "policy = \"b\"",
        ],
        &[],
    );
    let cases: [(Vec<String>, usize, usize, &str); 12] = [
        (
            track(&["check = \"web-chek\""]),
            14,
            9,
            "track.check: no [[check]] named `web-chek` (did you mean `web-check`?)",
        ),
        (
            track(&["check = \"web-check\"", "interval = \"1s\""]),
            15,
            1,
            "track.interval: a track with `check` takes its interval from the [[check]]",
        ),
        (
            track(&["check = \"web-check\"", "policy = \"web\""]),
            15,
            1,
            "track.policy: a track with `check` takes its policy from the [[check]]",
        ),
        (
            track(&[
                "check = \"web-check\"",
                "[[instance.track]]",
                "check = \"web-check\"",
            ]),
            16,
            9,
            "track.check: `web-check` is already tracked by this instance (line 14)",
        ),
        (
            checked(&["timeout = \"61m\""], &[]),
            8,
            11,
            "check.timeout: 61m is out of range (must be 1ms to 1h)",
        ),
        (
            checked(&["weight = 2"], &[]),
            8,
            1,
            "unknown key `weight` in [[check]] (weight, rise and fall belong to each [[instance.track]] that tracks the check)",
        ),
        (
            checked(&["[[check]]", "name = \"web-check\"", "policy = \"web\""], &[]),
            9,
            8,
            "duplicate check name `web-check` (first defined at line 5)",
        ),
        (
            checked(&["[[check]]", "policy = \"web\""], &[]),
            8,
            1,
            "[[check]] without `name`",
        ),
        (
            checked(&["[[check]]", "name = \"c\"", "policy = \"wbe\""], &[]),
            10,
            10,
            "check.policy: no [[policy]] named `wbe` (did you mean `web`?)",
        ),
        (
            split_brain_check,
            6,
            10,
            "check.policy: policy `b` (builtin:split-brain-arp) is a split-brain policy",
        ),
        (
            checked(&["config = { url = \"http://h.example/\" }"], &[]),
            8,
            18,
            "check.config.url: `h.example` is a host name",
        ),
        (
            checked(&["[[check]]", "name = \"c\""], &[]),
            8,
            1,
            "[[check]] without `policy`",
        ),
    ];
    for (lines, line, col, fragment) in &cases {
        one_error(lines, *line, *col, fragment);
    }
}

#[test]
fn a_checks_settings_are_checked_against_its_policys_allow() {
    let dir = temp_dir("grant-check");
    std::fs::write(dir.join("web.wasm"), b"\0asm").expect("write");
    let mut l = vec![
        "[[policy]]",
        "name = \"web\"",
        "source = \"web.wasm\"",
        "[[check]]",
        "name = \"c\"",
        "policy = \"web\"",
        "config = { url = \"http://192.0.2.12/\" }",
    ];
    l.extend_from_slice(&BASE);
    let cfg = dir.join("baton.toml");
    std::fs::write(&cfg, text(&l)).expect("write");
    let d = config::load(&cfg).expect_err("not covered");
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!((d[0].line, d[0].col), (7, 18));
    assert_eq!(
        d[0].message,
        "check.config: url http://192.0.2.12/ names 192.0.2.12:80, which the `allow` of policy `web` does not cover; add \"192.0.2.12:80\" to it"
    );
}

#[test]
fn a_bad_check_is_reported_once_not_at_each_use() {
    one_error(
        &checked(&["timeout = 5"], &["[[instance.track]]", "check = \"web-check\""]),
        8,
        11,
        "check.timeout: a duration is a string with a unit",
    );
    one_error(
        &base_with(&["[[instance.track]]", "check = 5"]),
        7,
        9,
        "track.check: expected a string, found an integer",
    );
}
