//! builtin:exec (keepalived's vrrp_script semantics) against real commands:
//! healthy iff the remedy exits 0; a non-zero code, the timeout (the whole
//! process group killed) and a command that cannot start are failures with
//! their reason; a remedy with a user runs with that uid and gid only.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use baton_policy::{EvalContext, Evaluation, Grants, RunAs};
use common::{builtin, facts};

/// One evaluation of builtin:exec running `argv` as remedy "script".
fn run(argv: &[&str], timeout: Duration, run_as: Option<RunAs>) -> Evaluation {
    let grants = Grants::default()
        .remedy_as(
            "script",
            argv.iter().map(|a| a.to_string()).collect(),
            timeout,
            run_as,
        )
        .expect("remedy grant");
    let ctx = EvalContext::new(facts())
        .with_settings([("remedy".to_string(), "script".to_string())])
        .with_grants(grants)
        // As the keepalived front end sets it: the budget outlives the
        // script's timeout, so the timeout is the reason.
        .with_budget(timeout + Duration::from_millis(500));
    builtin("exec").evaluate(ctx)
}

fn reason(ev: &Evaluation) -> String {
    ev.failure_reason().unwrap_or_default()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("baton-exec-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn exit_zero_is_healthy_and_any_other_code_a_failure_with_it() {
    let ev = run(&["true"], Duration::from_secs(5), None);
    assert!(ev.is_healthy(), "{ev:?}");
    let ev = run(&["sh", "-c", "exit 3"], Duration::from_secs(5), None);
    assert!(!ev.is_healthy(), "{ev:?}");
    assert_eq!(reason(&ev), "script: exit code 3", "{ev:?}");
    // Killed by a signal: 128+N, as a shell reports it.
    let ev = run(&["sh", "-c", "kill -TERM $$"], Duration::from_secs(5), None);
    assert_eq!(reason(&ev), "script: exit code 143", "{ev:?}");
}

#[test]
fn a_command_that_cannot_start_fails_with_the_os_error() {
    let ev = run(&["/nonexistent/baton-check.sh"], Duration::from_secs(5), None);
    assert!(!ev.is_healthy(), "{ev:?}");
    let r = reason(&ev);
    assert!(
        r.contains("/nonexistent/baton-check.sh") && r.contains("No such file or directory"),
        "{r}"
    );
}

/// The script and a child it left in the background are killed at the
/// timeout: no process of its group is left.
#[test]
fn a_script_past_its_timeout_fails_and_its_process_group_is_killed() {
    let dir = scratch("timeout");
    let pgid_file = dir.join("pgid");
    let script = format!("echo $$ > {}; sleep 30 & sleep 30; wait", pgid_file.display());
    let t0 = Instant::now();
    let ev = run(&["sh", "-c", &script], Duration::from_millis(300), None);
    let took = t0.elapsed();
    assert!(!ev.is_healthy(), "{ev:?}");
    let r = reason(&ev);
    assert!(r.starts_with("script: timed out after "), "{r}");
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(3),
        "{took:?}"
    );
    let pgid: i32 = std::fs::read_to_string(&pgid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // The host made the script a group leader: the group is its pid.
    let pgid = nix::unistd::Pid::from_raw(pgid);
    // SIGKILLed members are reaped by init: give it a moment.
    let gone = (0..200).any(|_| {
        let alive = nix::sys::signal::killpg(pgid, None).is_ok();
        if alive {
            std::thread::sleep(Duration::from_millis(10));
        }
        !alive
    });
    assert!(gone, "a process of group {pgid} is left after the timeout");
    let _ = std::fs::remove_dir_all(&dir);
}

/// keepalived's script_user: the script runs as the user, with its group
/// and no supplementary groups. Needs root (to change uid); without it the
/// test says so and passes, except under CI=true.
#[test]
fn a_script_with_a_user_runs_as_that_user() {
    if !nix::unistd::geteuid().is_root() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "needs root under CI=true"
        );
        eprintln!("a_script_with_a_user_runs_as_that_user: SKIPPED (needs root)");
        return;
    }
    let nobody = RunAs::lookup("nobody", None).expect("the user nobody");
    assert_ne!(nobody.uid, 0);
    let dir = scratch("user");
    // nobody writes the answer: a directory anyone may write to.
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let out = dir.join("id");
    let script = format!("{{ id -u; id -g; id -G; }} > {}", out.display());
    let ev = run(&["sh", "-c", &script], Duration::from_secs(5), Some(nobody));
    assert!(ev.is_healthy(), "{ev:?}");
    let got = std::fs::read_to_string(&out).unwrap();
    let want = format!("{}\n{}\n{}\n", nobody.uid, nobody.gid, nobody.gid);
    assert_eq!(got, want, "uid, gid, and only that group");
    // Root's own groups are not inherited; the daemon's own run is root.
    let ev = run(
        &["sh", "-c", "test \"$(id -u)\" = 0"],
        Duration::from_secs(5),
        None,
    );
    assert!(ev.is_healthy(), "{ev:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_user_or_group_that_does_not_exist_is_an_error_naming_it() {
    assert_eq!(
        RunAs::lookup("baton-nosuch-user", None),
        Err("user \"baton-nosuch-user\": no such user".to_string())
    );
    assert_eq!(
        RunAs::lookup("root", Some("baton-nosuch-group")),
        Err("group \"baton-nosuch-group\": no such group".to_string())
    );
    assert_eq!(RunAs::lookup("root", None), Ok(RunAs { uid: 0, gid: 0 }));
}

#[test]
fn without_its_setting_it_fails_and_runs_nothing() {
    let ctx = EvalContext::new(facts())
        .with_grants(Grants::default())
        .with_budget(Duration::from_secs(2));
    let ev = builtin("exec").evaluate(ctx);
    assert!(!ev.is_healthy());
    assert!(reason(&ev).contains("remedy"), "{ev:?}");
    // A name the config does not grant is denied, not run.
    let ctx = EvalContext::new(facts())
        .with_settings([("remedy".to_string(), "other".to_string())])
        .with_grants(Grants::default())
        .with_budget(Duration::from_secs(2));
    let ev = builtin("exec").evaluate(ctx);
    assert!(reason(&ev).contains("denied"), "{ev:?}");
}
