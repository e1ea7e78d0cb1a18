//! The real `baton` binary elects and reports: two daemons in a namespace
//! lab elect lb01 within Master_Down_Interval, hold the VIP only there, and
//! answer on their control socket (mode 0600) as `baton status` text and
//! `--json`; without a daemon `baton status` fails clearly. And `baton check`
//! (no root needed) accepts the examples and refuses bad configs with
//! line:col diagnostics.
//!
//! Helpers and the timing reference: `baton_e2e::scenario`. The lab test
//! needs root; without it it prints "SKIPPED (needs root)" and passes, except
//! under CI=true where it fails.

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use baton_e2e::baton::{BatonNode, logs};
use baton_e2e::scenario::{ADVERT, MARGIN, VIP4, ip, mdi, ms, new_lab, serial, v3_config, wait_for};
use baton_e2e::{baton_bin, check, note, require_root};

fn baton_cmd(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(baton_bin())
        .args(args)
        .output()
        .expect("running baton")
}

#[test]
fn election_and_status() {
    if !require_root("election_and_status") {
        return;
    }
    let _serial = serial();
    let lab = new_lab();
    let vip = format!("{VIP4}/24 dev eth0 label eth0:1");
    let a = BatonNode::start(&lab, "lb01", &v3_config("lb01", 150, &vip));
    let b = BatonNode::start(&lab, "lb02", &v3_config("lb02", 100, &vip));
    let nodes = [&a, &b];
    wait_for(
        &lab,
        &nodes,
        "lb01 master with the VIP, lb02 backup",
        Duration::from_secs(5),
        || lab.holders(ip(VIP4)) == ["lb01"] && a.state("VI_1") == "master" && b.state("VI_1") == "backup",
    );
    let seen = a.started().elapsed();
    // When lb01 became Master, by its own clock: uptime minus "ms ago".
    let st = a.status();
    let t = st.instances[0].last_transition.clone().expect("a transition");
    let became = Duration::from_millis(st.uptime_ms - t.ms_ago);
    note(&format!(
        "*** election_and_status: lb01 became master {:.0} ms after its daemon started \
         (Master_Down_Interval {:.1} ms); VIP seen on lb01 {:.0} ms after spawning it",
        ms(became),
        ms(mdi(ADVERT, 150)),
        ms(seen)
    ));
    // lb01 starts as Backup and takes over after its Master_Down_Interval: not before, not much later.
    check!(
        &nodes,
        became + Duration::from_millis(2) >= mdi(ADVERT, 150) && became < mdi(ADVERT, 150) + MARGIN,
        "lb01 became master {became:?} after start: {t:?}"
    );

    // stderr is a file here, not a terminal: plain text, no colour codes.
    check!(
        &nodes,
        !a.log().contains('\u{1b}'),
        "ANSI escape codes in a log that is not a terminal:\n{}",
        a.log_block()
    );

    // The VIP with its label, on lb01 only.
    let out = lab
        .ip(
            "lb01",
            &["-o", "-4", "addr", "show", "dev", "eth0", "label", "eth0:1"],
        )
        .expect("ip addr");
    let text = String::from_utf8_lossy(&out.stdout);
    check!(
        &nodes,
        text.contains(&format!("{VIP4}/24")) && text.contains("eth0:1"),
        "ip addr label eth0:1 on lb01: {text:?}"
    );
    check!(
        &nodes,
        lab.addresses("lb01").contains(&(ip(VIP4), 24)),
        "{:?}",
        lab.addresses("lb01")
    );
    check!(
        &nodes,
        !lab.addresses("lb02").iter().any(|(x, _)| *x == ip(VIP4)),
        "{:?}",
        lab.addresses("lb02")
    );
    // And the client reaches it.
    let ping = lab
        .exec("client", &["ping", "-n", "-q", "-c", "1", "-W", "2", VIP4])
        .expect("ping");
    check!(&nodes, ping.status.success(), "client cannot ping the VIP");

    // The control socket: a socket, owner-only.
    let meta = std::fs::metadata(a.socket_path()).expect("control socket");
    check!(
        &nodes,
        meta.file_type().is_socket(),
        "{} is not a socket",
        a.socket_path().display()
    );
    check!(
        &nodes,
        meta.permissions().mode() & 0o7777 == 0o600,
        "control socket mode {:o}",
        meta.permissions().mode() & 0o7777
    );

    // `baton status --json`, run as a user would.
    let status_json = |n: &BatonNode<'_>| -> (serde_json::Value, baton_e2e::baton::status::Status) {
        let out = baton_cmd(&[
            "status".as_ref(),
            "--socket".as_ref(),
            n.socket_path().as_os_str(),
            "--json".as_ref(),
        ]);
        check!(
            &nodes,
            out.status.success(),
            "baton status --json: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status is JSON");
        let s = serde_json::from_value(v.clone()).expect("status has the Status shape");
        (v, s)
    };
    // lb02 has received a few adverts by now (one every 100 ms).
    std::thread::sleep(ADVERT * 3);
    let (va, sa) = status_json(&a);
    let (vb, sb) = status_json(&b);
    check!(
        &nodes,
        va["router_id"] == "lb01" && vb["router_id"] == "lb02",
        "{va}\n{vb}"
    );
    check!(
        &nodes,
        sa.pid == a.pid().expect("pid"),
        "status pid {} vs {:?}",
        sa.pid,
        a.pid()
    );
    let ia = &sa.instances[0];
    let ib = &sb.instances[0];
    let show = format!("lb01: {ia:#?}\nlb02: {ib:#?}");
    check!(
        &nodes,
        sa.instances.len() == 1
            && ia.name == "VI_1"
            && ia.vrid == 51
            && ia.version == 3
            && ia.family == "ipv4",
        "{show}"
    );
    check!(
        &nodes,
        ia.interface == "eth0" && ia.primary_address == "192.0.2.11" && ib.primary_address == "192.0.2.12",
        "{show}"
    );
    check!(&nodes, ia.state == "master" && ib.state == "backup", "{show}");
    check!(
        &nodes,
        ia.base_priority == 150 && ia.effective_priority == 150 && ib.effective_priority == 100,
        "{show}"
    );
    for i in [ia, ib] {
        let m = i
            .master
            .as_ref()
            .unwrap_or_else(|| panic!("no master in {show}\n{}", logs(&nodes)));
        check!(&nodes, m.address == "192.0.2.11" && m.priority == 150, "{show}");
        check!(&nodes, i.vips == [format!("{VIP4}/24")], "{show}");
        check!(&nodes, (i.advert_interval_ms - 100.0).abs() < 1e-6, "{show}");
    }
    check!(&nodes, ia.master.as_ref().is_some_and(|m| m.is_self), "{show}");
    check!(
        &nodes,
        ib.master
            .as_ref()
            .is_some_and(|m| !m.is_self && m.last_seen_ms_ago < 250),
        "{show}"
    );
    check!(&nodes, ia.holding_vips && !ib.holding_vips, "{show}");
    // lb02 learned lb01's interval: 3 * 100 + (256 - 100) / 256 * 100 ms.
    check!(
        &nodes,
        (ib.master_down_interval_ms - ms(mdi(ADVERT, 100))).abs() < 0.01,
        "{show}"
    );
    let ta = ia.last_transition.as_ref().expect("lb01 transitioned");
    check!(
        &nodes,
        ta.from == "backup" && ta.to == "master" && ta.reason.contains("master down"),
        "{show}"
    );
    let tb = ib.last_transition.as_ref().expect("lb02 transitioned");
    check!(&nodes, tb.to == "backup" && !tb.reason.is_empty(), "{show}");
    check!(
        &nodes,
        ia.counters.became_master == 1 && ia.counters.adverts_tx >= 3,
        "{show}"
    );
    check!(
        &nodes,
        ib.counters.adverts_rx >= 3 && ib.counters.adverts_tx == 0 && ib.counters.became_master == 0,
        "{show}"
    );
    check!(
        &nodes,
        ib.counters.drops.is_empty(),
        "lb02 dropped adverts in a clean lab: {show}"
    );
    check!(&nodes, ia.faults.is_empty() && ib.faults.is_empty(), "{show}");
    check!(
        &nodes,
        sa.sockets.len() == 1
            && sa.sockets[0].source == "192.0.2.11"
            && sb.sockets.iter().all(|k| k.drops.is_empty()),
        "sockets: {:#?} {:#?}",
        sa.sockets,
        sb.sockets
    );
    // The raw JSON names the fields as documented.
    check!(
        &nodes,
        vb["instances"][0]["counters"]["adverts_rx"]
            .as_u64()
            .is_some_and(|n| n > 0),
        "{vb}"
    );
    check!(
        &nodes,
        va["instances"][0]["last_transition"]["reason"].is_string(),
        "{va}"
    );
    check!(
        &nodes,
        va["instances"][0]["master"]["address"] == "192.0.2.11",
        "{va}"
    );
    note(&format!(
        "*** election_and_status: lb02 saw {} adverts, lb01 sent {}; lb02's Master_Down_Interval {:.3} ms",
        ib.counters.adverts_rx, ia.counters.adverts_tx, ib.master_down_interval_ms
    ));

    // The table.
    let out = baton_cmd(&[
        "status".as_ref(),
        "--socket".as_ref(),
        a.socket_path().as_os_str(),
    ]);
    let table = String::from_utf8_lossy(&out.stdout).to_string();
    check!(
        &nodes,
        out.status.success() && table.contains("MASTER") && table.contains("VI_1") && table.contains("self"),
        "{table}"
    );
    check!(
        &nodes,
        table.contains(&format!("{VIP4}/24")) && table.contains("router lb01"),
        "{table}"
    );
    let out = baton_cmd(&[
        "status".as_ref(),
        "--socket".as_ref(),
        b.socket_path().as_os_str(),
    ]);
    let table = String::from_utf8_lossy(&out.stdout).to_string();
    check!(
        &nodes,
        table.contains("BACKUP") && table.contains("192.0.2.11 (150)"),
        "{table}"
    );
    // No daemon: a clear error, non-zero.
    let out = baton_cmd(&[
        "status".as_ref(),
        "--socket".as_ref(),
        lab.dir().join("nobody.sock").as_os_str(),
    ]);
    check!(
        &nodes,
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("is baton running"),
        "{out:?}"
    );
}

#[test]
fn check_command() {
    // No root needed: `baton check` only reads files.
    let dir = std::env::temp_dir().join(format!("baton-e2e-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).expect("write");
        p
    };
    let good = write(
        "good.toml",
        &v3_config("lb01", 150, &format!("{VIP4}/24 dev eth0 label eth0:1")),
    );
    let head = "router_id = \"lb01\"\n\n[[instance]]\nname = \"VI_1\"\ninterface = \"eth0\"\nvrid = 51\n";
    let unknown = write(
        "unknown.toml",
        &format!("{head}prority = 150\nvips = [\"192.0.2.100/24\"]\n"),
    );
    let bracket = write(
        "bracket.toml",
        &format!("{head}vips = [\"192.0.2.100/24\"\npriority = 150\n"),
    );
    let v2v6 = write(
        "v2v6.toml",
        &format!("{head}version = 2\nadvert_interval = \"1s\"\nvips = [\"2001:db8::100/64\"]\n"),
    );
    let run = |files: &[&Path]| {
        let mut args: Vec<&std::ffi::OsStr> = vec!["check".as_ref()];
        args.extend(files.iter().map(|p| p.as_os_str()));
        let out = baton_cmd(&args);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };

    let (code, stdout, stderr) = run(&[&good]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(stdout, format!("{}: ok\n", good.display()));
    // The shipped examples of the seed's scenarios are good too.
    let root = baton_e2e::workspace_root();
    let examples: Vec<_> = [
        "seed-ch4/lb01.toml",
        "seed-ch4/lb02.toml",
        "seed-dual-master/lb01.toml",
        "seed-dual-master/lb02.toml",
    ]
    .iter()
    .map(|f| root.join("examples").join(f))
    .collect();
    // Each pair is one LAN: checked together, the files are cross-checked.
    for pair in examples.chunks(2) {
        let refs: Vec<&Path> = pair.iter().map(|p| p.as_path()).collect();
        let (code, stdout, stderr) = run(&refs);
        assert_eq!(code, Some(0), "{stdout}{stderr}");
        assert_eq!(stdout.matches(": ok").count(), 2, "{stdout}");
        assert_eq!(stderr, "", "{refs:?}");
    }
    // Two pairs that reuse VRIDs and VIPs are no one LAN: the cross check says so.
    let refs: Vec<&Path> = examples.iter().map(|p| p.as_path()).collect();
    let (code, stdout, stderr) = run(&refs);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains("error: VI_1 (") && stderr.contains("peers for 192.0.2.3: VRID 50 and 51"),
        "{stderr}"
    );

    let cases: [(&Path, String, &str); 3] = [
        (
            &unknown,
            format!("{}:7:1: ", unknown.display()),
            "unknown key `prority`",
        ),
        (&bracket, format!("{}:7:8: ", bracket.display()), "unclosed array"),
        (&v2v6, format!("{}:7:11: ", v2v6.display()), "VRRPv2 is IPv4 only"),
    ];
    let mut seen = Vec::new();
    for (file, at, what) in &cases {
        let (code, stdout, stderr) = run(&[file]);
        seen.push(stderr.trim().to_string());
        assert_eq!(code, Some(1), "{}: {stdout}{stderr}", file.display());
        assert!(!stdout.contains(": ok"), "{stdout}");
        let line = stderr
            .lines()
            .find(|l| l.starts_with(at.as_str()))
            .unwrap_or_else(|| panic!("no {at:?} in {stderr:?}"));
        assert!(line.contains(what), "{line}");
    }
    assert!(seen[0].contains("did you mean `priority`"), "{}", seen[0]);
    // All at once: every error, the good file still ok, non-zero.
    let (code, stdout, stderr) = run(&[&unknown, &good, &bracket, &v2v6]);
    assert_eq!(code, Some(1));
    assert_eq!(stdout, format!("{}: ok\n", good.display()));
    for (file, at, _) in &cases {
        assert!(
            stderr.contains(at.as_str()),
            "{} missing from {stderr}",
            file.display()
        );
    }
    // `baton run` refuses the same file before touching the network (exit 2).
    let out = baton_cmd(&[
        "run".as_ref(),
        "--config".as_ref(),
        v2v6.as_os_str(),
        "--socket".as_ref(),
        dir.join("never.sock").as_os_str(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(&cases[2].1), "{err}");
    note(&format!("*** check_command: diagnostics:\n{}", seen.join("\n")));
    let _ = std::fs::remove_dir_all(&dir);
}
