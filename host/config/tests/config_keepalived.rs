//! The keepalived.conf front end through the public API: the seed's
//! configurations (examples/*/*.conf) read into the model they describe,
//! every mistake keepalived runs on after is an error at FILE:LINE:COL, and
//! `convert` gives TOML that reads back into the same model.

use std::path::{Path, PathBuf};
use std::time::Duration;

use baton_config::{Config, Diagnostic, Format, LoadOptions, PolicySource};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn load(rel: &str, id: &str) -> Config {
    let path = examples().join(rel);
    let opts = LoadOptions {
        keepalived: None,
        config_id: Some(id.to_string()),
    };
    baton_config::load_with(&path, &opts).unwrap_or_else(|d| panic!("{rel}: {}", render(&d)))
}

fn render(d: &[Diagnostic]) -> String {
    d.iter().map(|d| format!("\n  {d}")).collect()
}

/// The errors for a keepalived.conf text, as "LINE:COL: message".
fn errors(text: &str) -> Vec<String> {
    match baton_config::parse_keepalived(text, Path::new("/t/keepalived.conf"), "lb01") {
        Ok(_) => Vec::new(),
        Err(d) => d.iter().map(|d| format!("{}:{}: {}", d.line, d.col, d.message)).collect(),
    }
}

const GOOD: &str = "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 50\n    priority 150\n    \
                    virtual_ipaddress {\n        192.0.2.3/24 dev eth0 label eth0:1\n    }\n}\n";

#[test]
fn every_example_reads_and_converts_to_toml_that_reads_back_the_same() {
    let mut seen = 0;
    for dir in std::fs::read_dir(examples()).unwrap() {
        let dir = dir.unwrap().path();
        for f in std::fs::read_dir(&dir).into_iter().flatten() {
            let f = f.unwrap().path();
            if f.extension().is_none_or(|e| e != "conf") {
                continue;
            }
            seen += 1;
            let rel = f.strip_prefix(examples()).unwrap().to_string_lossy().into_owned();
            let id = f.file_stem().unwrap().to_string_lossy().into_owned();
            let cfg = load(&rel, &id);
            assert!(matches!(cfg.format, Format::Keepalived { .. }), "{rel}: recognised by its content");
            let toml = baton_config::convert_keepalived(&f, &LoadOptions::of(&cfg.format))
                .unwrap_or_else(|d| panic!("{rel}: {}", render(&d)));
            let mut back = baton_config::parse(&toml, &dir.join("converted.toml"))
                .unwrap_or_else(|d| panic!("{rel} converted:\n{toml}\n{}", render(&d)));
            back.path = cfg.path.clone();
            back.format = cfg.format.clone();
            assert_eq!(back, cfg, "{rel} converted:\n{toml}");
            golden(&f.with_extension("converted.toml"), &toml);
        }
    }
    assert!(seen >= 11, "only {seen} examples");
}

/// The converted TOML is committed beside each example; BATON_BLESS=1
/// rewrites it.
fn golden(path: &Path, toml: &str) {
    if std::env::var_os("BATON_BLESS").is_some() {
        std::fs::write(path, toml).unwrap();
        return;
    }
    let want = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e} (BATON_BLESS=1 writes it)", path.display()));
    assert_eq!(toml, want, "{}: `baton convert` gives another TOML (BATON_BLESS=1 rewrites it)", path.display());
}

#[test]
fn the_seed_pair_is_the_model_it_describes() {
    let lb01 = load("seed-ch4/lb01.conf", "lb01");
    assert_eq!(lb01.router_id, "lb01");
    let vi = &lb01.instances[0];
    assert_eq!((vi.name.as_str(), vi.interface.as_str(), vi.vrid, vi.priority), ("VI_1", "eth0", 50, 150));
    assert_eq!(vi.advert_interval, Duration::from_secs(1));
    assert_eq!(vi.version, baton_vrrp::Version::V2, "keepalived's default version");
    assert_eq!(vi.auth, baton_vrrp::Auth::pass("1111").unwrap());
    // The seed's bare address: /32 on the instance's interface, as keepalived.
    assert_eq!(vi.vips[0].to_string(), "192.0.2.3/32 dev eth0");
    let lb02 = load("seed-ch4/lb02.conf", "lb02");
    assert_eq!(lb02.instances[0].priority, 100);
    // The hand-written TOML of the same chapter is the same pair.
    let toml = baton_config::load(&examples().join("seed-ch4/lb01.toml")).unwrap();
    assert_eq!(toml.instances[0].vips[0].addr, vi.vips[0].addr);
    assert_eq!(toml.instances[0].vrid, vi.vrid);
}

#[test]
fn the_seed_s_scripts_become_builtin_checks_and_a_split_brain_policy() {
    let lb01 = load("seed-check-web/lb01.conf", "lb01");
    let web = lb01.check("check_web").expect("check_web is a [[check]]");
    let policy = lb01.policy(&web.policy).unwrap();
    assert_eq!(policy.source, PolicySource::Builtin(baton_config::Builtin::ProcessAlive));
    assert_eq!(web.config.get("name").map(String::as_str), Some("nginx"));
    let remedy = lb01.remedy(&web.config["remedy"]).unwrap();
    assert_eq!(remedy.command, ["systemctl", "start", "nginx"]);
    let tracked: Vec<_> = lb01.instances.iter().flat_map(|i| &i.tracks).collect();
    assert!(tracked.iter().all(|t| t.weight == 0), "the script stops keepalived: FAULT");
    let lb02 = load("seed-split-brain/lb02.conf", "lb02");
    let sb = lb02.instances.iter().find_map(|i| i.split_brain.as_ref()).expect("a split-brain policy");
    let p = lb02.policy(&sb.policy).unwrap();
    assert_eq!(p.source, PolicySource::Builtin(baton_config::Builtin::SplitBrainPeerHttp));
}

#[test]
fn mistakes_keepalived_runs_on_after_are_errors_at_their_place() {
    let cases: &[(&str, &str)] = &[
        // An unbalanced brace.
        ("vrrp_instance VI_1 {\n    interface eth0\n", "1:20: this `{` is never closed"),
        ("global_defs {\n}\n}\n", "3:1: `}` closes no block"),
        // An unknown keyword, with did-you-mean.
        ("vrrp_instance VI_1 {\n    advent_int 1\n}\n", "2:5: `advent_int` is no keyword of vrrp_instance (did you mean `advert_int`?)"),
        ("global_defs {\n  route_id lb01\n}\n", "2:3: `route_id` is no keyword of global_defs (did you mean `router_id`?)"),
        ("vrrp_isntance VI_1 {\n}\n", "1:1: `vrrp_isntance` is no keyword of the top level (did you mean `vrrp_instance`?)"),
        // LVS.
        ("virtual_server 192.0.2.100 80 {\n}\n", "1:1: `virtual_server`: LVS is not part of Baton"),
        // A bad value.
        ("vrrp_instance VI_1 {\n priority 300\n}\n", "2:11: `priority` 300 is out of range (1 to 255)"),
        ("vrrp_instance VI_1 {\n advert_int 1s\n}\n", "2:13: `advert_int`: `1s` is not a number of seconds"),
        ("vrrp_instance VI_1 {\n state master\n}\n", "2:8: state: `master` is not MASTER or BACKUP"),
        // A track_script naming no vrrp_script.
        (
            "vrrp_script chk_nginx {\n script \"killall -0 nginx\"\n}\nvrrp_instance VI_1 {\n track_script {\n  chk_ngnix\n }\n}\n",
            "6:3: track_script `chk_ngnix` names no vrrp_script (did you mean `chk_nginx`?)",
        ),
        // An include that matches nothing.
        ("include /nonexistent-baton-test/*.conf\n", "1:9: include `/nonexistent-baton-test/*.conf` matches no file"),
    ];
    for (text, want) in cases {
        let errs = errors(text);
        assert!(errs.iter().any(|e| e.starts_with(want)), "{text}\nwant {want}\ngot {errs:#?}");
    }
}

#[test]
fn the_validation_speaks_keepalived_s_names() {
    let text = GOOD.replace("priority 150", "priority 150\n    advert_int 0.001");
    let errs = errors(&text);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].starts_with("9:16: advert_int:") || errs[0].contains("advert_int"), "{errs:?}");
    assert_eq!(errors(GOOD), Vec::<String>::new());
}

const VMAC: &str = "vrrp_instance VI_1 {
    interface eth0
    use_vmac
    vmac_xmit_base
    virtual_router_id 51
    virtual_ipaddress {
        192.0.2.3/24 brd 192.0.2.255 scope global
    }
    virtual_ipaddress_excluded {
        198.51.100.50/32
        2001:db8::50
    }
    virtual_routes {
        src 192.0.2.3 to 198.51.100.0/24 via 192.0.2.1 dev eth0 metric 5
        blackhole 198.51.100.128/25
    }
}
";

#[test]
fn use_vmac_routes_and_excluded_addresses_read_into_the_model_and_convert() {
    let c = baton_config::parse_keepalived(VMAC, Path::new("/t/keepalived.conf"), "lb01")
        .unwrap_or_else(|d| panic!("{}", render(&d)));
    let i = &c.instances[0];
    let vmac = i.vmac.as_ref().expect("use_vmac");
    assert_eq!((vmac.name.as_str(), vmac.xmit_base), ("vrrp.51", true));
    assert_eq!(i.vips.len(), 1);
    assert_eq!(i.vips[0].brd, Some("192.0.2.255".parse().unwrap()));
    assert_eq!(i.vips[0].scope, Some(0));
    let ex: Vec<String> = i.excluded_vips.iter().map(|v| v.addr.to_string()).collect();
    assert_eq!(
        ex,
        ["198.51.100.50", "2001:db8::50"],
        "any family, not in adverts"
    );
    assert_eq!(i.routes.len(), 2);
    assert_eq!(
        i.routes[0].to_string(),
        "src 192.0.2.3 198.51.100.0/24 via 192.0.2.1 dev eth0 metric 5"
    );
    assert!(i.routes[1].blackhole);
    // The VIP goes on the macvlan, the base keeps the adverts (xmit_base).
    assert_eq!(i.held_addresses()[0].dev, "vrrp.51");
    assert_eq!(i.advert_interface(), "eth0");
    // Converted, it reads back the same.
    let dir = std::env::temp_dir().join(format!("baton-ka-vmac-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("keepalived.conf");
    std::fs::write(&f, VMAC).unwrap();
    let toml = baton_config::convert_keepalived(&f, &LoadOptions::of(&c.format));
    let _ = std::fs::remove_dir_all(&dir);
    let toml = toml.unwrap_or_else(|d| panic!("{}", render(&d)));
    let mut back = baton_config::parse(&toml, &dir.join("converted.toml"))
        .unwrap_or_else(|d| panic!("{toml}\n{}", render(&d)));
    back.path = c.path.clone();
    back.format = c.format.clone();
    assert_eq!(back.instances, c.instances, "{toml}");
    assert!(
        toml.contains("use_vmac = true") && toml.contains("vmac_xmit_base = true"),
        "{toml}"
    );
}

#[test]
fn use_vmac_mistakes_are_errors_at_their_place() {
    let named = VMAC.replace("    use_vmac\n", "    use_vmac vip51\n");
    let c = baton_config::parse_keepalived(&named, Path::new("/t/keepalived.conf"), "lb01").expect("named");
    assert_eq!(c.instances[0].vmac.as_ref().unwrap().name, "vip51");
    let cases: &[(String, &str)] = &[
        (
            VMAC.replace("    use_vmac\n", ""),
            "3:5: `vmac_xmit_base` without `use_vmac`",
        ),
        (
            VMAC.replace("use_vmac", "use_vmac a/b"),
            "3:14: use_vmac: interface name `a/b` contains '/'",
        ),
        (
            VMAC.replace("to 198.51.100.0/24", "to 198.51.100.1/24"),
            "14:9: virtual_routes: 198.51.100.1/24 has host bits set",
        ),
        (
            VMAC.replace("brd 192.0.2.255", "brd x"),
            "7:9: virtual_ipaddress: brd `x` is not an IPv4 address",
        ),
        (
            VMAC.replace("2001:db8::50", "2001:db8::50 bogus 1"),
            "11:22: virtual_ipaddress_excluded: `bogus` is no option",
        ),
    ];
    for (text, want) in cases {
        let errs = errors(text);
        assert!(
            errs.iter().any(|e| e.starts_with(want)),
            "want {want}\ngot {errs:#?}"
        );
    }
}
