//! Policies from OCI registries: `source = "oci://..."`, the `sha256` pin a
//! tag needs, `policy_cache` and `insecure_registries`, each error at its
//! line:col.

mod common;

use std::path::{Path, PathBuf};

use baton_config::{self as config, Config, DEFAULT_POLICY_CACHE, OciTarget, PolicySource};

const FILE: &str = "/etc/baton/t.toml";
const HEX: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const OTHER: &str = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

fn text(lines: &[String]) -> String {
    let mut s = lines.join("\n");
    s.push('\n');
    s
}

/// `head`, a valid instance tracking policy `web`, and `policy` as the
/// policy's lines (its table header is line `head.len() + 1`).
fn config_lines(head: &[&str], policy: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = head.iter().map(|s| s.to_string()).collect();
    v.push("[[policy]]".into());
    v.push("name = \"web\"".into());
    v.extend(policy.iter().map(|s| s.to_string()));
    v.extend(
        [
            "[[instance]]",
            "name = \"VI_1\"",
            "interface = \"eth0\"",
            "vrid = 50",
            "vips = [\"192.0.2.3\"]",
            "[[instance.track]]",
            "policy = \"web\"",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    v
}

fn parse(lines: &[String]) -> Result<Config, Vec<String>> {
    config::parse(&text(lines), Path::new(FILE)).map_err(|d| d.iter().map(ToString::to_string).collect())
}

#[track_caller]
fn ok(lines: &[String]) -> Config {
    parse(lines).unwrap_or_else(|e| panic!("expected ok, got:\n{}", e.join("\n")))
}

/// Exactly one diagnostic, at `line:col`, containing `fragment`.
#[track_caller]
fn one_error(lines: &[String], line: usize, col: usize, fragment: &str) {
    common::assert_one_error(
        &parse(lines).expect_err("expected an error"),
        FILE,
        line,
        col,
        fragment,
    );
}

#[test]
fn a_policy_by_digest_is_pinned_by_it() {
    let src = format!("source = \"oci://127.0.0.1:5000/baton/web@sha256:{HEX}\"");
    let c = ok(&config_lines(&[], &[&src]));
    let web = c.policy("web").expect("web");
    let PolicySource::Oci(r) = &web.source else {
        panic!("{:?}", web.source)
    };
    assert_eq!(
        (r.registry.as_str(), r.repository.as_str()),
        ("127.0.0.1:5000", "baton/web")
    );
    assert_eq!(web.sha256, None);
    assert_eq!(web.pin(), r.digest());
    assert_eq!(
        web.source.to_string(),
        format!("oci://127.0.0.1:5000/baton/web@sha256:{HEX}")
    );
    // The same digest written again as `sha256` is fine.
    let pin = format!("sha256 = \"{HEX}\"");
    assert!(parse(&config_lines(&[], &[&src, &pin])).is_ok());
}

#[test]
fn a_tag_with_a_pin_is_accepted() {
    let pin = format!("sha256 = \"{HEX}\"");
    let c = ok(&config_lines(
        &[],
        &["source = \"oci://registry.example/baton/web:1.0\"", &pin],
    ));
    let web = c.policy("web").expect("web");
    let PolicySource::Oci(r) = &web.source else {
        panic!("{:?}", web.source)
    };
    assert_eq!(r.target, OciTarget::Tag("1.0".into()));
    assert_eq!(
        web.pin().map(|d| config::digest_string(&d)),
        Some(format!("sha256:{HEX}"))
    );
}

#[test]
fn a_tag_without_a_pin_is_an_error_at_the_source() {
    one_error(
        &config_lines(&[], &["source = \"oci://registry.example/baton/web:1.0\""]),
        3,
        10,
        "source: oci://registry.example/baton/web:1.0 names a tag, which can move: pin the component with `sha256",
    );
}

#[test]
fn a_pin_that_is_not_the_digest_is_an_error_at_the_pin() {
    let src = format!("source = \"oci://127.0.0.1:5000/baton/web@sha256:{HEX}\"");
    let pin = format!("sha256 = \"{OTHER}\"");
    one_error(
        &config_lines(&[], &[&src, &pin]),
        4,
        10,
        &format!("sha256: the pin sha256:{OTHER} is not the digest the source names (sha256:{HEX})"),
    );
}

#[test]
fn a_bad_reference_is_an_error_at_the_source() {
    for (src, why) in [
        (
            "oci://127.0.0.1:5000/baton/web",
            "name a digest (REPO@sha256:...) or a tag",
        ),
        (
            "oci://127.0.0.1:5000/baton/web@sha256:abc",
            "the digest must be sha256:<64 hex digits>",
        ),
        ("oci://127.0.0.1:5000/Baton/web:1", "must be lower-case"),
        ("oci://127.0.0.1:70000/web:1", "port `70000`"),
    ] {
        one_error(&config_lines(&[], &[&format!("source = \"{src}\"")]), 3, 10, why);
    }
}

#[test]
fn the_cache_defaults_and_resolves_against_the_config_dir() {
    let src = format!("source = \"oci://127.0.0.1:5000/baton/web@sha256:{HEX}\"");
    let c = ok(&config_lines(&[], &[&src]));
    assert_eq!(c.policy_cache, PathBuf::from(DEFAULT_POLICY_CACHE));
    assert!(c.insecure_registries.is_empty());
    let c = ok(&config_lines(
        &[
            "policy_cache = \"cache\"",
            "insecure_registries = [\"127.0.0.1:5000\", \"[::1]:5001\"]",
        ],
        &[&src],
    ));
    assert_eq!(c.policy_cache, PathBuf::from("/etc/baton/cache"));
    assert_eq!(c.insecure_registries, ["127.0.0.1:5000", "[::1]:5001"]);
    let c = ok(&config_lines(&["policy_cache = \"/var/lib/p\""], &[&src]));
    assert_eq!(c.policy_cache, PathBuf::from("/var/lib/p"));
}

#[test]
fn a_bad_insecure_registry_is_an_error_at_its_entry() {
    let src = format!("source = \"oci://127.0.0.1:5000/baton/web@sha256:{HEX}\"");
    one_error(
        &config_lines(
            &["insecure_registries = [\"127.0.0.1:5000\", \"http://x/\"]"],
            &[&src],
        ),
        1,
        42,
        "insecure_registries: registry `http://x/`: write HOST or HOST:PORT, without a scheme or path",
    );
    one_error(
        &config_lines(&["insecure_registries = [\"a:1\", \"a:1\"]"], &[&src]),
        1,
        31,
        "`a:1` is listed twice",
    );
    one_error(
        &config_lines(&["policy_cache = 5"], &[&src]),
        1,
        16,
        "policy_cache: expected a string",
    );
}

#[test]
fn a_hook_may_come_from_a_registry() {
    let mut lines = config_lines(&[], &["source = \"builtin:http-status\""]);
    lines.extend([
        "[notify.hook]".to_string(),
        "source = \"oci://127.0.0.1:5000/baton/route:1\"".to_string(),
    ]);
    let n = lines.len();
    one_error(&lines, n, 10, "names a tag, which can move");
    lines.push(format!("sha256 = \"{HEX}\""));
    let c = ok(&lines);
    let hook = c.notify.hook.expect("hook");
    assert!(matches!(hook.source, PolicySource::Oci(_)));
}
