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
        allow_exec: false,
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
        Err(d) => d
            .iter()
            .map(|d| format!("{}:{}: {}", d.line, d.col, d.message))
            .collect(),
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
            assert!(
                matches!(cfg.format, Format::Keepalived { .. }),
                "{rel}: recognised by its content"
            );
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
    assert_eq!(
        toml,
        want,
        "{}: `baton convert` gives another TOML (BATON_BLESS=1 rewrites it)",
        path.display()
    );
}

#[test]
fn the_seed_pair_is_the_model_it_describes() {
    let lb01 = load("seed-ch4/lb01.conf", "lb01");
    assert_eq!(lb01.router_id, "lb01");
    let vi = &lb01.instances[0];
    assert_eq!(
        (vi.name.as_str(), vi.interface.as_str(), vi.vrid, vi.priority),
        ("VI_1", "eth0", 50, 150)
    );
    assert_eq!(vi.advert_interval, Duration::from_secs(1));
    assert_eq!(
        vi.version,
        baton_vrrp::Version::V2,
        "keepalived's default version"
    );
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
    assert_eq!(
        policy.source,
        PolicySource::Builtin(baton_config::Builtin::ProcessAlive)
    );
    assert_eq!(web.config.get("name").map(String::as_str), Some("nginx"));
    let remedy = lb01.remedy(&web.config["remedy"]).unwrap();
    assert_eq!(remedy.command, ["systemctl", "start", "nginx"]);
    // Only VI_2 tracks it in the file, but the script stops keepalived,
    // which gives VI_1's VIP up too: both instances go to FAULT.
    for i in &lb01.instances {
        let t: Vec<_> = i.tracks.iter().map(|t| (t.name(), t.weight)).collect();
        assert_eq!(
            t,
            [("check_web", 0)],
            "{}: the script stops keepalived: FAULT",
            i.name
        );
    }
    let lb02 = load("seed-split-brain/lb02.conf", "lb02");
    // VI_2 tracks check_brain.sh, which watches 192.0.2.3: VI_1's VIP.
    let with: Vec<_> = lb02
        .instances
        .iter()
        .filter(|i| i.split_brain.is_some())
        .map(|i| i.name.as_str())
        .collect();
    assert_eq!(with, ["VI_1"]);
    let sb = lb02.instances[0].split_brain.as_ref().unwrap();
    let p = lb02.policy(&sb.policy).unwrap();
    assert_eq!(
        p.source,
        PolicySource::Builtin(baton_config::Builtin::SplitBrainPeerHttp)
    );
}

#[test]
fn mistakes_keepalived_runs_on_after_are_errors_at_their_place() {
    let cases: &[(&str, &str)] = &[
        // An unbalanced brace.
        (
            "vrrp_instance VI_1 {\n    interface eth0\n",
            "1:20: this `{` is never closed",
        ),
        ("global_defs {\n}\n}\n", "3:1: `}` closes no block"),
        // An unknown keyword, with did-you-mean.
        (
            "vrrp_instance VI_1 {\n    advent_int 1\n}\n",
            "2:5: `advent_int` is no keyword of vrrp_instance (did you mean `advert_int`?)",
        ),
        (
            "global_defs {\n  route_id lb01\n}\n",
            "2:3: `route_id` is no keyword of global_defs (did you mean `router_id`?)",
        ),
        (
            "vrrp_isntance VI_1 {\n}\n",
            "1:1: `vrrp_isntance` is no keyword of the top level (did you mean `vrrp_instance`?)",
        ),
        // keepalived 2.4's HMAC block, with a key keepalived would take.
        (
            "vrrp_instance VI_1 {\n  auth_hmac {\n    key 1 hex:00\n  }\n}\n",
            "3:11: auth_hmac: key 1 has 1 byte: a key is 32 to 64 bytes",
        ),
        // LVS.
        (
            "virtual_server 192.0.2.100 80 {\n}\n",
            "1:1: `virtual_server`: LVS is not part of Baton",
        ),
        // A bad value.
        (
            "vrrp_instance VI_1 {\n priority 300\n}\n",
            "2:11: `priority` 300 is out of range (1 to 255)",
        ),
        (
            "vrrp_instance VI_1 {\n advert_int 1s\n}\n",
            "2:13: `advert_int`: `1s` is not a number of seconds",
        ),
        (
            "vrrp_instance VI_1 {\n state master\n}\n",
            "2:8: state: `master` is not MASTER or BACKUP",
        ),
        // A track_script naming no vrrp_script.
        (
            "vrrp_script chk_nginx {\n script \"killall -0 nginx\"\n}\nvrrp_instance VI_1 {\n track_script {\n  chk_ngnix\n }\n}\n",
            "6:3: track_script `chk_ngnix` names no vrrp_script (did you mean `chk_nginx`?)",
        ),
        // An include that matches nothing.
        (
            "include /nonexistent-baton-test/*.conf\n",
            "1:9: include `/nonexistent-baton-test/*.conf` matches no file",
        ),
    ];
    for (text, want) in cases {
        let errs = errors(text);
        assert!(
            errs.iter().any(|e| e.starts_with(want)),
            "{text}\nwant {want}\ngot {errs:#?}"
        );
    }
}

#[test]
fn the_validation_speaks_keepalived_s_names() {
    let text = GOOD.replace("priority 150", "priority 150\n    advert_int 0.001");
    let errs = errors(&text);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].starts_with("9:16: advert_int:") || errs[0].contains("advert_int"),
        "{errs:?}"
    );
    assert_eq!(errors(GOOD), Vec::<String>::new());
}

/// The cross-node check over files written to a temporary directory.
fn cross(files: &[(&str, &str)]) -> Vec<String> {
    // One directory per call: tests run in parallel threads of one process.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("baton-cross-{}-{call}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let placed: Vec<_> = files
        .iter()
        .map(|(name, text)| {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            // Private: some hold HMAC keys inline.
            std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
            let opts = LoadOptions {
                config_id: Some("x".to_string()),
                ..LoadOptions::default()
            };
            baton_config::load_placed(&path, &opts).unwrap_or_else(|d| panic!("{name}: {}", render(&d)))
        })
        .collect();
    std::fs::remove_dir_all(&dir).unwrap();
    baton_config::cross_check(&placed)
        .iter()
        .map(|f| {
            let file = f.path.file_name().unwrap().to_string_lossy().into_owned();
            format!(
                "{file}:{}:{}: {}: {}",
                f.line,
                f.col,
                if f.error { "error" } else { "warning" },
                f.message
            )
        })
        .collect()
}

fn ka(state: &str, vrid: u8, prio: u8, extra: &str, vip: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{\n    state {state}\n    interface eth0\n    virtual_router_id {vrid}\n    priority {prio}\n{extra}    \
         virtual_ipaddress {{\n        {vip}\n    }}\n}}\n"
    )
}

#[test]
fn the_seed_pairs_pass_the_cross_node_check() {
    for dir in [
        "seed-ch4",
        "seed-dual-master",
        "seed-notify",
        "seed-check-web",
        "seed-split-brain",
    ] {
        let placed: Vec<_> = ["lb01", "lb02"]
            .iter()
            .map(|n| {
                let p = examples().join(format!("{dir}/{n}.conf"));
                let opts = LoadOptions {
                    config_id: Some(n.to_string()),
                    ..LoadOptions::default()
                };
                baton_config::load_placed(&p, &opts).unwrap_or_else(|d| panic!("{}", render(&d)))
            })
            .collect();
        let findings = baton_config::cross_check(&placed);
        assert!(findings.is_empty(), "{dir}: {findings:#?}");
    }
}

#[test]
fn the_cross_node_check_reports_what_the_seed_warns_about() {
    let vip = "192.0.2.3";
    let auth =
        |p: &str| format!("    authentication {{\n        auth_type PASS\n        auth_pass {p}\n    }}\n");
    let cases: Vec<(Vec<(&str, String)>, &str)> = vec![
        (
            vec![
                ("a.conf", ka("MASTER", 50, 150, "", vip)),
                ("b.conf", ka("BACKUP", 51, 100, "", vip)),
            ],
            "b.conf:4:23: error: VI_1 (a.conf) and VI_1 (b.conf), peers for 192.0.2.3: VRID 50 and 51",
        ),
        (
            vec![
                ("a.conf", ka("MASTER", 50, 150, &auth("1111"), vip)),
                ("b.conf", ka("BACKUP", 50, 100, &auth("2222"), vip)),
            ],
            "b.conf:6:5: error: VI_1 (a.conf) and VI_1 (b.conf), peers for 192.0.2.3: authentication differs",
        ),
        (
            vec![
                ("a.conf", ka("MASTER", 50, 150, "    advert_int 1\n", vip)),
                ("b.conf", ka("BACKUP", 50, 100, "    advert_int 2\n", vip)),
            ],
            "b.conf:6:16: error: VI_1 (a.conf) and VI_1 (b.conf), peers for 192.0.2.3: advert intervals 1s and 2s",
        ),
        (
            vec![
                ("a.conf", ka("MASTER", 50, 150, "    version 3\n", vip)),
                ("b.conf", ka("BACKUP", 50, 100, "", vip)),
            ],
            "error: VI_1 (a.conf) and VI_1 (b.conf), peers for 192.0.2.3: VRRP versions 3 and 2",
        ),
        (
            vec![
                ("a.conf", ka("MASTER", 50, 150, "", vip)),
                ("b.conf", ka("MASTER", 50, 150, "", "192.0.2.4")),
            ],
            "b.conf:4:23: error: VI_1 (a.conf) and VI_1 (b.conf) use VRID 50 for different VIPs",
        ),
        (
            vec![
                ("a.conf", ka("MASTER", 50, 100, "", vip)),
                ("b.conf", ka("BACKUP", 50, 150, "", vip)),
            ],
            "a.conf:5:14: error: VI_1 (a.conf) is `state MASTER` with priority 100, not above its BACKUP VI_1 (b.conf)'s 150",
        ),
        (
            vec![
                ("a.conf", ka("BACKUP", 50, 100, "", vip)),
                ("b.conf", ka("BACKUP", 50, 100, "", vip)),
            ],
            "b.conf:5:14: warning: VI_1 (a.conf) and VI_1 (b.conf) have the same priority 100",
        ),
        (
            vec![
                (
                    "a.conf",
                    ka("MASTER", 50, 150, "", &format!("{vip}\n        2001:db8::3")),
                ),
                ("b.conf", ka("BACKUP", 50, 100, "", vip)),
            ],
            "",
        ),
        (
            vec![
                (
                    "a.conf",
                    ka(
                        "MASTER",
                        50,
                        150,
                        "    unicast_src_ip 192.0.2.11\n    unicast_peer {\n        192.0.2.99\n    }\n",
                        vip,
                    ),
                ),
                (
                    "b.conf",
                    ka(
                        "BACKUP",
                        50,
                        100,
                        "    unicast_src_ip 192.0.2.12\n    unicast_peer {\n        192.0.2.11\n    }\n",
                        vip,
                    ),
                ),
            ],
            "a.conf:7:5: error: VI_1 (a.conf)'s unicast peers do not list VI_1 (b.conf)'s address 192.0.2.12",
        ),
        (
            vec![
                (
                    "a.conf",
                    ka(
                        "MASTER",
                        50,
                        150,
                        "    unicast_peer {\n        192.0.2.12\n    }\n",
                        vip,
                    ),
                ),
                ("b.conf", ka("BACKUP", 50, 100, "", vip)),
            ],
            "error: VI_1 (a.conf) sends adverts by unicast but VI_1 (b.conf) by multicast",
        ),
    ];
    for (files, want) in cases {
        let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
        if want.is_empty() {
            // A mixed-family instance is the validation's error, in one file.
            let errs = errors(files[0].1);
            assert!(
                errs.iter().any(|e| e.contains("IPv4") || e.contains("famil")),
                "{errs:?}"
            );
            continue;
        }
        let got = cross(&files);
        assert!(got.iter().any(|g| g.contains(want)), "want {want}\ngot {got:#?}");
    }
    // Peers that agree, with nopreempt and equal priorities: nothing to say.
    let quiet = ka("BACKUP", 50, 100, "    nopreempt\n", vip);
    assert_eq!(
        cross(&[("a.conf", &quiet), ("b.conf", &quiet)]),
        Vec::<String>::new()
    );
}

/// HMAC between peers: modes may differ while it is rolled out, keys may
/// not; an enforcing node needs signed adverts.
#[test]
fn the_cross_node_check_follows_an_hmac_rollout() {
    let vip = "192.0.2.3";
    let k1 = "hex:".to_string() + &"ab".repeat(32);
    let k2 = "hex:".to_string() + &"cd".repeat(32);
    let hmac = |key: &str, mode: &str| {
        format!("    auth_hmac {{\n        key 1 {key}\n        mode {mode}\n    }}\n")
    };
    let pair = |a: &str, b: &str| {
        cross(&[
            ("a.conf", &ka("MASTER", 50, 150, a, vip)),
            ("b.conf", &ka("BACKUP", 50, 100, b, vip)),
        ])
    };
    // Receive-only on one node, nothing yet on the other; then permissive and enforce.
    assert_eq!(pair(&hmac(&k1, "receive-only"), ""), Vec::<String>::new());
    assert_eq!(
        pair(&hmac(&k1, "permissive"), &hmac(&k1, "receive-only")),
        Vec::<String>::new()
    );
    assert_eq!(
        pair(&hmac(&k1, "enforce"), &hmac(&k1, "permissive")),
        Vec::<String>::new()
    );
    let got = pair("", &hmac(&k1, "enforce"));
    assert!(
        got.iter().any(|g| g
            .contains("VI_1 (b.conf) requires HMAC (mode enforce) and VI_1 (a.conf) sends unsigned adverts")),
        "{got:#?}"
    );
    let got = pair(&hmac(&k1, "enforce"), "");
    assert!(
        got.iter()
            .any(|g| g.contains("VI_1 (a.conf) signs its adverts (HMAC) and VI_1 (b.conf) has no auth_hmac")),
        "{got:#?}"
    );
    let got = pair(&hmac(&k1, "enforce"), &hmac(&k2, "enforce"));
    assert!(
        got.iter().any(|g| g.starts_with("b.conf:6:5: error:")
            && g.contains("signs with key 1, which VI_1 (b.conf) does not have")),
        "{got:#?}"
    );
}

/// Two sync groups whose members' priorities cross between the nodes.
#[test]
fn the_cross_node_check_finds_crossed_sync_groups() {
    let node = |p1: u8, p2: u8| {
        format!(
            "vrrp_sync_group G1 {{\n    group {{\n        VI_1\n        VI_2\n    }}\n}}\n{}{}",
            ka("BACKUP", 50, p1, "", "192.0.2.3"),
            ka("BACKUP", 51, p2, "", "192.0.2.4").replace("VI_1", "VI_2")
        )
    };
    let got = cross(&[("a.conf", &node(150, 100)), ("b.conf", &node(100, 150))]);
    assert!(
        got.iter().any(|g| g.contains("error: sync groups G1 (a.conf) and G1 (b.conf) cross: VI_1 is higher on a.conf (150 > 100) but VI_2 on b.conf (150 > 100)")),
        "{got:#?}"
    );
    let got = cross(&[("a.conf", &node(150, 150)), ("b.conf", &node(100, 100))]);
    assert_eq!(got, Vec::<String>::new());
}

// ------------------------------------------------ scripts that run through builtin:exec

/// A pair's lb01 with one script that matches no builtin (`script` is the
/// command line as written), tracked with weight -60.
fn exec_conf(script: &str, extra: &str, globals: &str) -> String {
    format!(
        "global_defs {{\n    router_id lb01\n{globals}}}\nvrrp_script chk_x {{\n    script \"{script}\"\n    \
         interval 2\n    weight -60\n{extra}}}\n{}",
        GOOD.replace(
            "    priority 150\n",
            "    priority 150\n    track_script {\n        chk_x\n    }\n"
        )
    )
}

fn allowing(allow_exec: bool) -> LoadOptions {
    LoadOptions {
        keepalived: Some(true),
        config_id: Some("lb01".to_string()),
        allow_exec,
    }
}

fn with(text: &str, allow_exec: bool) -> Result<(Config, Vec<Diagnostic>), Vec<Diagnostic>> {
    baton_config::parse_keepalived_with(text, Path::new("/t/keepalived.conf"), &allowing(allow_exec))
}

#[test]
fn a_script_that_matches_no_builtin_runs_only_with_allow_exec() {
    let text = exec_conf("/usr/local/bin/check_db.sh --quick 'a b'", "", "");
    let errs = with(&text, false).expect_err("refused without --allow-exec");
    assert_eq!(errs.len(), 1, "{}", render(&errs));
    let e = &errs[0];
    assert_eq!((e.line, e.col), (5, 12), "at the script: {e}");
    for part in [
        "vrrp_script chk_x",
        "`/usr/local/bin/check_db.sh --quick 'a b'`",
        "only with --allow-exec",
        "port it to a policy (docs/writing-policies.md)",
    ] {
        assert!(e.message.contains(part), "{part:?} not in {e}");
    }

    let (cfg, notes) = with(&text, true).unwrap_or_else(|d| panic!("{}", render(&d)));
    // The script is a remedy: argv split as keepalived splits it, timeout
    // the interval (no `timeout`), the daemon's user (no script_user).
    let check = cfg.check("chk_x").expect("a [[check]]");
    let policy = cfg.policy(&check.policy).unwrap();
    assert_eq!(policy.source, PolicySource::Builtin(baton_config::Builtin::Exec));
    let remedy = cfg
        .remedy(&check.config["remedy"])
        .expect("the script as a remedy");
    assert_eq!(
        policy.remedies,
        std::slice::from_ref(&remedy.name),
        "the policy may run it, and only it"
    );
    assert_eq!(remedy.command, ["/usr/local/bin/check_db.sh", "--quick", "a b"]);
    assert_eq!(remedy.timeout, Duration::from_secs(2));
    assert_eq!((remedy.user.as_deref(), remedy.group.as_deref()), (None, None));
    assert_eq!(check.interval, Duration::from_secs(2));
    assert!(
        check.timeout > remedy.timeout,
        "the evaluation outlives the script's timeout: {check:?}"
    );
    let track = &cfg.instances[0].tracks[0];
    assert_eq!((track.check.as_deref(), track.weight), (Some("chk_x"), -60));
    // The reload reads it the same way.
    assert_eq!(
        cfg.format,
        Format::Keepalived {
            config_id: "lb01".to_string(),
            allow_exec: true
        }
    );
    assert!(LoadOptions::of(&cfg.format).allow_exec);
    assert!(!LoadOptions::of(&with(GOOD, false).unwrap().0.format).allow_exec);
    // One note for `baton check`, at the script.
    let rendered: Vec<String> = notes.iter().map(ToString::to_string).collect();
    assert_eq!(
        rendered,
        [
            "/t/keepalived.conf:5:12: note: vrrp_script chk_x runs `/usr/local/bin/check_db.sh --quick 'a b'` \
          through builtin:exec; port it to a policy (docs/writing-policies.md)"
        ]
    );
    // A builtin pattern is no exec, and no note.
    let (cfg, notes) = with(&exec_conf("killall -0 nginx", "", ""), true).unwrap();
    assert_eq!(
        cfg.policies[0].source,
        PolicySource::Builtin(baton_config::Builtin::ProcessAlive)
    );
    assert!(notes.is_empty(), "{notes:?}");
}

#[test]
fn an_exec_script_keeps_keepalived_s_timeout_and_user() {
    // `timeout` is the script's; `user` beats global_defs' script_user.
    let text = exec_conf(
        "/bin/check",
        "    timeout 5\n    user www-data adm\n",
        "    script_user nobody\n",
    );
    let (cfg, _) = with(&text, true).unwrap_or_else(|d| panic!("{}", render(&d)));
    let r = &cfg.remedies[0];
    assert_eq!(r.timeout, Duration::from_secs(5));
    assert_eq!(
        (r.user.as_deref(), r.group.as_deref()),
        (Some("www-data"), Some("adm"))
    );
    // Without its own `user`: script_user, wherever global_defs is.
    let text =
        exec_conf("/bin/check", "", "").replace("global_defs {", "global_defs {\n    script_user nobody");
    let (cfg, _) = with(&text, true).unwrap();
    assert_eq!(
        (cfg.remedies[0].user.as_deref(), cfg.remedies[0].group.as_deref()),
        (Some("nobody"), None)
    );
    let (cfg, _) = with(
        &format!(
            "{}\nglobal_defs {{\n script_user daemon\n}}\n",
            exec_conf("/bin/check", "", "")
        ),
        true,
    )
    .unwrap();
    assert_eq!(cfg.remedies[0].user.as_deref(), Some("daemon"));
}

#[test]
fn a_script_that_uses_a_known_command_is_told_which_builtin_to_port_it_to() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("exec-hint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("check_api.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\nout=$(curl -s http://127.0.0.1:8080/health)\n[ \"$out\" = ok ]\n",
    )
    .unwrap();
    let text = exec_conf(&script.display().to_string(), "", "");
    let errs = with(&text, false).expect_err("refused");
    assert!(
        errs[0]
            .message
            .contains("port it to builtin:http-status (it uses `curl`)"),
        "{}",
        render(&errs)
    );
    let (_, notes) = with(&text, true).unwrap();
    assert!(notes[0].message.contains("builtin:http-status"), "{notes:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `baton convert` needs no flag: the TOML states builtin:exec, and reads
/// back (a TOML needs no opt-in) into the model `--allow-exec` gives.
#[test]
fn convert_writes_an_exec_script_as_its_remedy_and_policy() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("exec-convert-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("lb01.conf");
    std::fs::write(
        &conf,
        exec_conf(
            "/usr/local/bin/check_db.sh",
            "    timeout 1\n    user nobody\n",
            "",
        ),
    )
    .unwrap();
    let toml = baton_config::convert_keepalived(&conf, &allowing(false))
        .unwrap_or_else(|d| panic!("{}", render(&d)));
    for part in [
        "source = \"builtin:exec\"",
        "command = [\"/usr/local/bin/check_db.sh\"]",
        "user = \"nobody\"",
        "runs as keepalived ran it, through builtin:exec",
        "port it to a policy (docs/writing-policies.md)",
    ] {
        assert!(toml.contains(part), "{part:?} not in:\n{toml}");
    }
    let mut back = baton_config::parse(&toml, &dir.join("lb01.toml"))
        .unwrap_or_else(|d| panic!("{toml}\n{}", render(&d)));
    let cfg = baton_config::load_with(&conf, &allowing(true)).unwrap();
    back.path = cfg.path.clone();
    back.format = cfg.format.clone();
    assert_eq!(back, cfg, "{toml}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_remedy_s_user_and_group_are_names_and_a_group_needs_a_user() {
    let base = "[[instance]]\nname = \"VI_1\"\ninterface = \"eth0\"\nvrid = 1\nvips = [\"192.0.2.1\"]\n\
                [[remedy]]\nname = \"r\"\ncommand = [\"/bin/true\"]\n";
    let parse = |extra: &str| baton_config::parse(&format!("{base}{extra}"), Path::new("/t/b.toml"));
    let c = parse("user = \"nobody\"\ngroup = \"nogroup\"\n").unwrap();
    assert_eq!(
        (c.remedies[0].user.as_deref(), c.remedies[0].group.as_deref()),
        (Some("nobody"), Some("nogroup"))
    );
    let errs = parse("group = \"adm\"\n").unwrap_err();
    assert_eq!(errs.len(), 1, "{}", render(&errs));
    assert_eq!((errs[0].line, errs[0].col), (9, 9), "{}", render(&errs));
    assert!(errs[0].message.contains("without a `user`"), "{}", render(&errs));
    let errs = parse("user = \"no body\"\n").unwrap_err();
    assert!(errs[0].message.contains("single word"), "{}", render(&errs));
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

#[test]
fn vrrp_startup_delay_is_the_startup_delay() {
    let text = format!("global_defs {{\n    vrrp_startup_delay 2.5\n}}\n{GOOD}");
    let cfg = baton_config::parse_keepalived(&text, Path::new("/t/keepalived.conf"), "lb01").unwrap();
    assert_eq!(cfg.startup_delay, Duration::from_millis(2500));
    assert_eq!(
        baton_config::parse_keepalived(GOOD, Path::new("/t/k.conf"), "lb01")
            .unwrap()
            .startup_delay,
        Duration::ZERO
    );
    let errs = errors(&format!(
        "global_defs {{\n    vrrp_startup_delay 7200\n}}\n{GOOD}"
    ));
    assert!(errs.iter().any(|e| e.starts_with("2:24: ")), "{errs:?}");
}

/// One keepalived.conf for both nodes (`@lb01` / `@lb02` lines, as
/// keepalived's `-i`): `baton check FILE@lb01 FILE@lb02` reads it as each
/// node and checks the pair; a wrong priority split fails the pair.
#[test]
fn one_shared_file_is_checked_as_each_node() {
    let dir = std::env::temp_dir().join(format!("baton-shared-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = |lb01: u8, lb02: u8| {
        format!(
            "vrrp_instance VI_1 {{\n@lb01 state MASTER\n@lb02 state BACKUP\n    interface eth0\n    virtual_router_id 50\n\
             @lb01 priority {lb01}\n@lb02 priority {lb02}\n    virtual_ipaddress {{\n        192.0.2.3\n    }}\n}}\n"
        )
    };
    let path = dir.join("keepalived.conf");
    let args = |p: &std::path::Path| {
        [p.join("@lb01"), p.join("@lb02")]
            .map(|a| std::path::PathBuf::from(a.to_string_lossy().replace("/@", "@")))
    };
    std::fs::write(&path, text(150, 100)).unwrap();
    assert_eq!(
        baton_config::split_config_id(&args(&path)[0]),
        (path.clone(), Some("lb01".to_string()))
    );
    assert!(baton_config::check_files(&args(&path), &LoadOptions::default()));
    // The MASTER below its BACKUP: each file is good, the pair is not.
    std::fs::write(&path, text(100, 150)).unwrap();
    assert!(!baton_config::check_files(&args(&path), &LoadOptions::default()));
    // A file whose name has an `@` is that file.
    let odd = dir.join("ka@lb01");
    std::fs::write(&odd, text(150, 100)).unwrap();
    assert_eq!(baton_config::split_config_id(&odd), (odd.clone(), None));
    std::fs::remove_dir_all(&dir).unwrap();
}
