//! A health check declared once per node (`[[check]]`) and tracked by many
//! instances is evaluated once per interval, as keepalived's vrrp_script
//! runs once however many instances track it; the same check written per
//! instance (`policy = ...` in each track) is evaluated once per instance.
//! Measured in the real daemon: 100 instances on lb01, an HTTP check of its
//! own server every 20 ms, evaluations and the daemon's CPU over 2 s.
//!
//! Needs root; without it it prints "SKIPPED (needs root)" and passes,
//! except under CI=true where it fails.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use baton_e2e::baton::{BatonNode, InstanceSpec};
use baton_e2e::bench::{process_cpu, rss_bytes};
use baton_e2e::scenario::{new_lab, serial, wait_for};
use baton_e2e::{check, note, require_root};
use baton_lab::{HttpServer, Lab};

const INSTANCES: u8 = 100;
const WINDOW: Duration = Duration::from_secs(2);

/// 100 instances, each tracking the HTTP check: one `[[check]]` for all
/// (`shared`), or each its own.
fn config(lab: &Lab, shared: bool) -> String {
    configured(lab, shared, "builtin:http-status", "20ms")
}

/// [`config`] with the policy's `source` and the tracks' interval.
fn configured(lab: &Lab, shared: bool, source: &str, interval: &str) -> String {
    let me = lab.ipv4("lb01");
    // A component from a file reaches only what `allow` names.
    let allow = if source.starts_with("builtin:") {
        String::new()
    } else {
        format!("allow = [\"{me}:80\"]\n")
    };
    let mut s = format!(
        "router_id = \"lb01\"\n\n[[policy]]\nname = \"web\"\nsource = \"{source}\"\n{allow}config = {{ expect = 200, timeout-ms = 15, url = \"http://{me}:80/\" }}\n\n"
    );
    if shared {
        s.push_str("[[check]]\nname = \"web\"\npolicy = \"web\"\ninterval = \"20ms\"\n\n");
    }
    for i in 1..=INSTANCES {
        let spec = InstanceSpec::new(&format!("VI_{i}"), i, 150, &format!("198.51.100.{i}/24"))
            .advert_interval("1s");
        s.push_str(&spec.toml());
        if shared {
            s.push_str("[[instance.track]]\ncheck = \"web\"\nweight = -60\n\n");
        } else {
            s.push_str(&format!(
                "[[instance.track]]\npolicy = \"web\"\ninterval = \"{interval}\"\nweight = -60\n\n"
            ));
        }
    }
    s
}

/// Evaluations per second and daemon CPU (% of one core) over the window.
fn measure(lab: &Lab, shared: bool) -> (f64, f64, String) {
    let a = all_master(lab, &config(lab, shared), Duration::from_secs(10), false);
    let nodes = [&a];
    let evaluations = |st: &baton_e2e::baton::status::Status| -> u64 {
        if shared {
            st.checks[0].runs
        } else {
            st.instances.iter().map(|i| i.tracks[0].runs).sum()
        }
    };
    let pid = a.pid().expect("pid");
    let (e0, c0, t0) = (evaluations(&a.status()), process_cpu(&[pid]), Instant::now());
    std::thread::sleep(WINDOW);
    let st = a.status();
    let (e1, c1, t1) = (evaluations(&st), process_cpu(&[pid]), t0.elapsed());
    let per_s = (e1 - e0) as f64 / t1.as_secs_f64();
    let cpu_pct = (c1 - c0).as_secs_f64() / t1.as_secs_f64() * 100.0;
    let detail = if shared {
        let c = &st.checks[0];
        let same = st
            .instances
            .iter()
            .all(|i| i.tracks[0].runs == c.runs && i.tracks[0].check.as_deref() == Some("web"));
        check!(&nodes, same, "every track shows the check's runs");
        check!(
            &nodes,
            c.tracked_by.len() == usize::from(INSTANCES),
            "{:?}",
            c.tracked_by.len()
        );
        format!("mean CPU per evaluation {} us", c.mean_cpu_us)
    } else {
        let mean: u64 =
            st.instances.iter().map(|i| i.tracks[0].mean_cpu_us).sum::<u64>() / u64::from(INSTANCES);
        format!("mean CPU per evaluation {mean} us")
    };
    (per_s, cpu_pct, detail)
}

#[test]
fn a_node_level_check_runs_once_for_a_hundred_instances() {
    if !require_root("a_node_level_check_runs_once_for_a_hundred_instances") {
        return;
    }
    let _serial = serial();
    let lab = new_lab();
    let _srv = HttpServer::start(&lab, "lb01", SocketAddr::new("0.0.0.0".parse().expect("any"), 80))
        .expect("server");
    let (shared, shared_cpu, shared_detail) = measure(&lab, true);
    let (each, each_cpu, each_detail) = measure(&lab, false);
    note(&format!(
        "*** node-level check, 100 instances, HTTP every 20 ms, over {:.0} s: one [[check]]: {shared:.1} evaluations/s, \
         daemon CPU {shared_cpu:.1}% of a core ({shared_detail}); a track per instance: {each:.1} evaluations/s, \
         CPU {each_cpu:.1}% ({each_detail}); {:.0}x the evaluations",
        WINDOW.as_secs_f64(),
        each / shared.max(0.1)
    ));
    // 20 ms after each completes: ~48/s, once for all 100.
    assert!((35.0..=51.0).contains(&shared), "{shared} evaluations/s");
    assert!(
        each > 10.0 * shared,
        "per-instance tracks: {each}/s vs {shared}/s"
    );
}

/// lb01 running `config`, once every instance is Master and its first
/// track has run more than twice (and, with `healthy`, was last healthy).
fn all_master<'a>(lab: &'a Lab, config: &str, within: Duration, healthy: bool) -> BatonNode<'a> {
    let a = BatonNode::start(lab, "lb01", config);
    wait_for(
        lab,
        &[&a],
        "every instance master with its track run",
        within,
        || {
            let st = a.status();
            st.instances.len() == usize::from(INSTANCES)
                && st.instances.iter().all(|i| {
                    let t = &i.tracks[0];
                    i.state == "master" && t.runs > 2 && (!healthy || t.last_healthy == Some(true))
                })
        },
    );
    a
}

/// The daemon's memory, in MiB, with 100 instances each tracking the same
/// policy of `source` every second, once all are Master and healthy.
fn daemon_memory(lab: &Lab, source: &str) -> f64 {
    // A Python component's first compile takes tens of seconds.
    let config = configured(lab, false, source, "1s");
    let a = all_master(lab, &config, Duration::from_secs(120), true);
    let st = a.status();
    let retries: u64 = st.instances.iter().map(|i| i.tracks[0].busy_retries).sum();
    note(&format!(
        "{source}: {retries} evaluations deferred while the runner was busy"
    ));
    rss_bytes(&a.pid().expect("pid").to_string()) as f64 / (1024.0 * 1024.0)
}

#[test]
fn a_python_policy_tracked_by_a_hundred_instances_is_compiled_once() {
    const TEST: &str = "a_python_policy_tracked_by_a_hundred_instances_is_compiled_once";
    if !require_root(TEST) {
        return;
    }
    let Some(python) = baton_e2e::guest_policy("python", "http-status", TEST) else {
        return;
    };
    let size = std::fs::metadata(&python).expect("component").len() as f64 / (1024.0 * 1024.0);
    let _serial = serial();
    let lab = new_lab();
    let _srv = HttpServer::start(&lab, "lb01", SocketAddr::new("0.0.0.0".parse().expect("any"), 80))
        .expect("server");
    // Compiled into the daemon's cache first, so the daemon starts in time.
    baton_e2e::warm_compile_cache(&python);
    let rust = daemon_memory(&lab, "builtin:http-status");
    let py = daemon_memory(&lab, &python.display().to_string());
    note(&format!(
        "*** daemon memory, 100 instances each tracking http-status every second: Rust builtin {rust:.1} MiB, \
         Python ({size:.1} MiB component) {py:.1} MiB: +{:.1} MiB for the Python policy",
        py - rust
    ));
    // One compiled component serves all 100 tracks: a copy per instance
    // would be 100 x its size.
    assert!(
        py - rust < 4.0 * size + 64.0,
        "the Python policy added {:.1} MiB: more than one compiled copy",
        py - rust
    );
}
