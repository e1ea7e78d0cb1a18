//! A keepalived.conf whose vrrp_script is an arbitrary shell script, run
//! by Baton with `--allow-exec` on both nodes (lb01 priority 150, lb02
//! 100): the script runs through builtin:exec with keepalived's semantics
//! (exit 0 healthy), so when lb01's script starts failing (a marker file
//! exists) its priority drops by the weight and the VIP moves to lb02; when
//! it passes again the VIP comes back. Without `script_user`, both
//! keepalived 2.2.7 and Baton run the script as `keepalived_script` where
//! the system has that user (a lab host's own /etc/passwd).
//!
//! Needs root; without it it prints "SKIPPED (needs root)" and passes,
//! except under CI=true where it fails.

use std::ffi::OsStr;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use baton_e2e::baton::{BatonNode, logs};
use baton_e2e::require_root;
use baton_lab::{self as lab, Lab, LabSpec};

const INSTANCE: &str = "VI_1";

fn vip() -> IpAddr {
    "192.0.2.3".parse().expect("the VIP")
}

/// `host`'s keepalived.conf: the seed's pair, tracking `script`.
fn conf(host: &str, priority: u8, script: &Path) -> String {
    format!(
        "global_defs {{\n    router_id {host}\n}}\n\
         vrrp_script chk {{\n    script \"{}\"\n    interval 0.1\n    weight -60\n}}\n\
         vrrp_instance VI_1 {{\n    state BACKUP\n    interface eth0\n    virtual_router_id 50\n    \
         priority {priority}\n    advert_int 1\n    authentication {{\n        auth_type PASS\n        \
         auth_pass 1111\n    }}\n    virtual_ipaddress {{\n        192.0.2.3\n    }}\n    \
         track_script {{\n        chk\n    }}\n}}\n",
        script.display()
    )
}

/// A check script as an operator writes one: fails (exit 1) while `marker` exists.
fn write_script(path: &Path, marker: &Path) {
    let body = format!(
        "#!/bin/sh\nif [ -e '{}' ]; then\n    exit 1\nfi\nexit 0\n",
        marker.display()
    );
    std::fs::write(path, body).unwrap();
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
}

#[test]
fn a_vrrp_script_runs_through_exec_and_moves_the_vip() {
    if !require_root("a_vrrp_script_runs_through_exec_and_moves_the_vip") {
        return;
    }
    let lab = Lab::new(LabSpec::new(2)).expect("lab");
    let vip = vip();
    let dir = lab.dir().to_path_buf();
    let marker = dir.join("lb01.down");
    let (s1, s2) = (dir.join("lb01-check.sh"), dir.join("lb02-check.sh"));
    write_script(&s1, &marker);
    write_script(&s2, &dir.join("lb02.down"));
    let exec = ["--allow-exec"];
    let lb01 = BatonNode::start_file_with(&lab, "lb01", "lb01.conf", &conf("lb01", 150, &s1), &exec);
    let lb02 = BatonNode::start_file_with(&lab, "lb02", "lb02.conf", &conf("lb02", 100, &s2), &exec);
    let elected = lab::wait_until(Duration::from_secs(10), Duration::from_millis(10), || {
        lab.holders(vip) == ["lb01"]
    });
    assert!(
        elected,
        "lb01 did not take the VIP: {:?}\n{}",
        lab.holders(vip),
        logs(&[&lb01, &lb02])
    );
    let track = &lb01.instance(INSTANCE).tracks[0];
    assert!(track.policy == "chk" && track.good && track.runs > 0, "{track:?}");

    std::fs::write(&marker, "").unwrap();
    let moved = lab::wait_until(Duration::from_secs(10), Duration::from_millis(10), || {
        lab.holders(vip) == ["lb02"]
    });
    assert!(
        moved,
        "the VIP did not move to lb02: {:?}\n{}",
        lab.holders(vip),
        logs(&[&lb01, &lb02])
    );
    let i = lb01.instance(INSTANCE);
    assert_eq!(i.effective_priority, 90, "150 - 60 while the script fails: {i:?}");
    assert_eq!(
        i.tracks[0].last_failure.as_deref(),
        Some("chk-script: exit code 1"),
        "{:?}",
        i.tracks[0]
    );

    std::fs::remove_file(&marker).unwrap();
    let back = lab::wait_until(Duration::from_secs(10), Duration::from_millis(10), || {
        lab.holders(vip) == ["lb01"]
    });
    assert!(
        back,
        "the VIP did not come back to lb01: {:?}\n{}",
        lab.holders(vip),
        logs(&[&lb01, &lb02])
    );
    assert_eq!(lb01.instance(INSTANCE).effective_priority, 150);
}

/// `baton check`: without `--allow-exec` the file is refused, naming the
/// script and the flag; with it, `FILE: ok` and a note for the script.
/// (No daemon runs: no root needed.)
#[test]
fn baton_check_refuses_the_script_without_allow_exec_and_notes_it_with() {
    let dir = std::env::temp_dir().join(format!("baton-e2e-exec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("check.sh");
    write_script(&script, &dir.join("down"));
    let config = dir.join("lb01.conf");
    std::fs::write(&config, conf("lb01", 150, &script)).unwrap();
    let check = |flag: Option<&str>| {
        let mut cmd = std::process::Command::new(baton_e2e::baton_bin());
        cmd.arg("check").args(flag).arg(&config);
        cmd.output().expect("running baton check")
    };
    let out = check(None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        err.contains("vrrp_script chk") && err.contains("only with --allow-exec"),
        "{err}"
    );
    let out = check(Some("--allow-exec"));
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let want = format!(
        "{0}: ok\n{0}:5:12: note: vrrp_script chk runs `{1}` through builtin:exec; port it to builtin:file \
         (it uses `[ -e`) or to a policy (docs/writing-policies.md)\n",
        config.display(),
        script.display()
    );
    assert_eq!(stdout, want);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Without `script_user`, keepalived runs scripts as the user
/// `keepalived_script` when the system has one, and so does Baton. The
/// user is given to lab host lb01 alone: its own /etc/passwd and /etc/group,
/// bound over the real ones in the host's private mount namespace. The same
/// keepalived.conf is run by keepalived 2.2.7, then by Baton; the script
/// writes the uid and gid it ran as.
#[test]
fn without_script_user_scripts_run_as_keepalived_script_as_with_keepalived() {
    if !require_root("without_script_user_scripts_run_as_keepalived_script_as_with_keepalived") {
        return;
    }
    let lab = Lab::new(LabSpec::new(1).isolated(&baton_e2e::lab_helpers())).expect("lab");
    let dir = lab.dir().to_path_buf();
    let id = free_id();
    give_user(&lab, "lb01", "keepalived_script", id);
    let out_dir = dir.join("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    std::os::unix::fs::chown(&out_dir, Some(id), Some(id)).unwrap();
    let out = out_dir.join("ran-as");
    let script = dir.join("whoami.sh");
    let body = format!(
        "#!/bin/sh\necho \"$(id -u) $(id -g)\" > '{0}.new' && mv '{0}.new' '{0}'\n",
        out.display()
    );
    std::fs::write(&script, body).unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let text = conf("lb01", 150, &script);
    let want = format!("{id} {id}\n");
    let ran_as = || {
        let _ = std::fs::remove_file(&out);
        lab::wait_until(Duration::from_secs(10), Duration::from_millis(20), || {
            out.exists()
        });
        std::fs::read_to_string(&out).unwrap_or_default()
    };

    let mut ka = lab::Keepalived::start(&lab, "lb01", &text).expect("keepalived");
    let got = ran_as();
    ka.stop().expect("stopping keepalived");
    assert_eq!(
        got,
        want,
        "keepalived 2.2.7's script ran as {got:?}\n{}",
        ka.log()
    );

    let node = BatonNode::start_file_with(&lab, "lb01", "lb01.conf", &text, &["--allow-exec"]);
    let got = ran_as();
    assert_eq!(got, want, "Baton's script ran as {got:?}\n{}", logs(&[&node]));
    let track = &node.instance(INSTANCE).tracks[0];
    assert!(track.good, "the script passes as keepalived_script: {track:?}");
}

/// A uid (and gid) that neither /etc/passwd nor /etc/group uses.
fn free_id() -> u32 {
    let used = |file: &str| -> Vec<u32> {
        std::fs::read_to_string(file)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split(':').nth(2)?.parse().ok())
            .collect()
    };
    let (users, groups) = (used("/etc/passwd"), used("/etc/group"));
    (4321..60000)
        .find(|id| !users.contains(id) && !groups.contains(id))
        .expect("a free id")
}

/// Gives isolated lab host `host` a system user `name` (uid = gid = `id`)
/// that the rest of the machine does not see.
fn give_user(lab: &Lab, host: &str, name: &str, id: u32) {
    for (file, line) in [
        (
            "passwd",
            format!("{name}:x:{id}:{id}::/nonexistent:/usr/sbin/nologin\n"),
        ),
        ("group", format!("{name}:x:{id}:\n")),
    ] {
        let real = Path::new("/etc").join(file);
        let copy = lab.dir().join(format!("{host}-{file}"));
        let mut text = std::fs::read_to_string(&real).unwrap();
        text.push_str(&line);
        std::fs::write(&copy, text).unwrap();
        std::fs::set_permissions(&copy, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
        lab.exec_ok(
            host,
            &[
                OsStr::new("mount"),
                OsStr::new("--bind"),
                copy.as_os_str(),
                real.as_os_str(),
            ],
        )
        .unwrap_or_else(|e| panic!("binding {} over {}: {e}", copy.display(), real.display()));
    }
    let out = lab.exec_ok(host, &["id", name]).expect("id in the host");
    let seen = String::from_utf8_lossy(&out.stdout);
    assert!(seen.starts_with(&format!("uid={id}({name})")), "{seen}");
    assert!(
        !std::fs::read_to_string("/etc/passwd").unwrap().contains(name),
        "the user must stay in the lab host"
    );
}
