//! Notifications of the real `baton` binary, against real servers started
//! in the lab's client host (192.0.2.200): an SMTP server (aiosmtpd, plain
//! and STARTTLS), HTTP and HTTPS webhook receivers (the HTTPS one with a
//! certificate from a CA this test makes and Baton trusts through `ca`),
//! notify commands, and a transition hook component.
//!
//! They need root and python3-aiosmtpd (scripts/setup installs it); without
//! them they print SKIPPED and pass, except under CI=true where they fail.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use baton_e2e::baton::{BatonNode, InstanceSpec, node_config};
use baton_e2e::scenario::{new_lab, serial, wait_for};
use baton_e2e::servers::{SmtpServer, TestCa, WebhookServer, require_aiosmtpd};
use baton_e2e::{baton_bin, check, note, require_root};
use baton_lab::Lab;

const CLIENT: &str = "192.0.2.200";

fn ready(test: &str) -> bool {
    require_root(test) && require_aiosmtpd(test)
}

fn at(port: u16) -> SocketAddr {
    format!("{CLIENT}:{port}").parse().expect("address")
}

fn dir(lab: &Lab, what: &str) -> PathBuf {
    let d = lab.dir().join(what);
    std::fs::create_dir_all(&d).expect("dir");
    d
}

/// The seed's global_defs in Baton's words, pointed at the lab's servers.
fn notify_section(smtp: u16, webhooks: &str, extra: &str) -> String {
    format!(
        "[notify]\nemail = [\"ops@example.org\", \"failover@example.org\"]\nemail_from = \"baton@lb.example.org\"\nsmtp_server = \"{CLIENT}:{smtp}\"\nsmtp_connect_timeout = \"2s\"\n{extra}\n{webhooks}\n"
    )
}

/// A config with `notify` (a `[notify]` section) placed before the instances.
fn with_notify(router_id: &str, notify: &str, instances: &[InstanceSpec]) -> String {
    let base = node_config(router_id, instances);
    let (head, rest) = base.split_once("[[instance]]").expect("an instance");
    format!("{head}{notify}\n[[instance]]{rest}")
}

/// lb01 alone with `notify` and `inst`, once it is master.
fn master_alone<'a>(lab: &'a Lab, notify: &str, inst: InstanceSpec) -> BatonNode<'a> {
    let a = BatonNode::start(lab, "lb01", &with_notify("lb01", notify, &[inst]));
    wait_for(lab, &[&a], "lb01 master", Duration::from_secs(3), || {
        a.state("VI_1") == "master"
    });
    a
}

/// The seed's pair (VRRPv2, vrid 50, auth PASS 1111, 1 s adverts).
fn seed_instance(priority: u8) -> InstanceSpec {
    InstanceSpec::new("VI_1", 50, priority, "192.0.2.3/24 dev eth0 label eth0:1")
        .version(2)
        .advert_interval("1s")
        .auth_pass("1111")
}

#[test]
fn a_failover_of_the_seed_pair_mails_and_posts_within_2s() {
    if !ready("a_failover_of_the_seed_pair_mails_and_posts_within_2s") {
        return;
    }
    let _serial = serial();
    let lab = new_lab();
    let d = dir(&lab, "servers");
    let ca = TestCa::new(&d.join("ca"), &[CLIENT.parse().expect("ip")]).expect("test CA");
    let smtp = SmtpServer::start(&lab, "client", at(2525), &d, None).expect("smtp");
    let http = WebhookServer::start(&lab, "client", at(8080), &d, 200, None).expect("http");
    let https =
        WebhookServer::start(&lab, "client", at(8443), &d, 200, Some((&ca.cert, &ca.key))).expect("https");
    let hooks = format!(
        "ca = {:?}\n[[notify.webhook]]\nname = \"ops\"\nurl = \"http://{CLIENT}:8080/baton\"\nheaders = {{ Authorization = \"Bearer s3cret\" }}\n[[notify.webhook]]\nname = \"secure\"\nurl = \"https://{CLIENT}:8443/baton\"\n",
        ca.ca_pem
    );
    let notify = notify_section(2525, &hooks, "");
    let a = BatonNode::start(&lab, "lb01", &with_notify("lb01", &notify, &[seed_instance(150)]));
    let b = BatonNode::start(&lab, "lb02", &with_notify("lb02", &notify, &[seed_instance(100)]));
    let nodes = [&a, &b];
    wait_for(
        &lab,
        &nodes,
        "lb01 master, lb02 backup",
        Duration::from_secs(8),
        || a.state("VI_1") == "master" && b.state("VI_1") == "backup",
    );
    let before = smtp.mails().len();
    let mut a = a;
    a.kill();
    let nodes = [&b];
    wait_for(&lab, &nodes, "lb02 master", Duration::from_secs(6), || {
        b.state("VI_1") == "master"
    });

    // The webhook: the versioned document, with the header the config gives.
    let is_takeover = |r: &baton_e2e::servers::Request| {
        let j = r.json();
        j["router_id"] == "lb02" && j["kind"] == "transition" && j["to"] == "master"
    };
    let posts = http.wait_for(Duration::from_secs(3), is_takeover);
    let post = posts
        .iter()
        .find(|r| is_takeover(r))
        .unwrap_or_else(|| panic!("no takeover webhook: {posts:#?}\n{}", b.log()));
    let j = post.json();
    check!(
        &nodes,
        j["schema"] == "baton.notice/1" && j["from"] == "backup",
        "{j}"
    );
    check!(&nodes, j["vips"] == serde_json::json!(["192.0.2.3/24"]), "{j}");
    check!(
        &nodes,
        j["base_priority"] == 100 && j["effective_priority"] == 100,
        "{j}"
    );
    check!(
        &nodes,
        j["reason"].as_str().is_some_and(|r| r.contains("master down")),
        "{j}"
    );
    check!(
        &nodes,
        post.header("authorization") == Some("Bearer s3cret"),
        "{:?}",
        post.headers
    );
    check!(
        &nodes,
        post.header("content-type") == Some("application/json"),
        "{:?}",
        post.headers
    );
    let transition_ms = j["at_unix_ms"].as_u64().expect("at_unix_ms");
    let webhook_ms = post.at_ms.saturating_sub(transition_ms);

    // The HTTPS one, trusting the test CA.
    let sposts = https.wait_for(Duration::from_secs(3), is_takeover);
    let spost = sposts
        .iter()
        .find(|r| is_takeover(r))
        .unwrap_or_else(|| panic!("no HTTPS webhook: {sposts:#?}\n{}", b.log()));
    let https_ms = spost.at_ms.saturating_sub(transition_ms);

    // The mail: keepalived's subject, From and To as configured, the facts in the body.
    // Other mails (lb01's BACKUP) may arrive before the takeover's.
    let mails = smtp.wait_subject(
        before,
        "[lb02] VRRP Instance VI_1 - Entering MASTER state",
        Duration::from_secs(3),
    );
    let mail = mails[before..]
        .iter()
        .find(|m| {
            m.subject()
                .contains("[lb02] VRRP Instance VI_1 - Entering MASTER state")
        })
        .unwrap_or_else(|| panic!("no takeover mail: {mails:#?}\n{}", smtp.log()));
    check!(
        &nodes,
        mail.subject() == "[lb02] VRRP Instance VI_1 - Entering MASTER state",
        "{mail:?}"
    );
    check!(&nodes, mail.mail_from == "baton@lb.example.org", "{mail:?}");
    check!(
        &nodes,
        mail.rcpt_tos == ["ops@example.org", "failover@example.org"],
        "{mail:?}"
    );
    check!(
        &nodes,
        mail.header("from") == Some("baton@lb.example.org"),
        "{mail:?}"
    );
    check!(
        &nodes,
        mail.header("to")
            .is_some_and(|t| t.contains("ops@example.org") && t.contains("failover@example.org")),
        "{mail:?}"
    );
    for line in [
        "state:      BACKUP -> MASTER",
        "reason:     master down",
        "vips:       192.0.2.3/24",
        "router:     lb02",
    ] {
        check!(
            &nodes,
            mail.body.contains(line),
            "no {line:?} in the body:\n{}",
            mail.body
        );
    }
    let mail_ms = mail.at_ms.saturating_sub(transition_ms);
    note(&format!(
        "seed pair failover: after lb02's transition, the webhook arrived in {webhook_ms} ms, the HTTPS one in {https_ms} ms, the mail in {mail_ms} ms"
    ));
    check!(
        &nodes,
        webhook_ms <= 2000 && https_ms <= 2000 && mail_ms <= 2000,
        "within 2 s: {webhook_ms} / {https_ms} / {mail_ms} ms"
    );
    let s = b.status();
    let sent = |name: &str| {
        s.notify
            .sinks
            .iter()
            .find(|x| x.name == name)
            .map_or(0, |x| x.sent)
    };
    check!(
        &nodes,
        sent("email") >= 1 && sent("ops") >= 2 && sent("secure") >= 2,
        "{:#?}",
        s.notify
    );
}

#[test]
fn notify_commands_run_in_order_behind_a_slow_one() {
    if !ready("notify_commands_run_in_order_behind_a_slow_one") {
        return;
    }
    let _serial = serial();
    let lab = new_lab();
    let d = dir(&lab, "commands");
    let order = d.join("order.txt");
    // notify_backup is slow: keepalived would run notify_master before it ends.
    let script = d.join("record.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n[ \"$1\" = slow ] && sleep 1.5\nshift\necho \"$*\" >> {}\n",
            order.display()
        ),
    )
    .expect("script");
    Command::new("chmod")
        .arg("+x")
        .arg(&script)
        .status()
        .expect("chmod");
    let notify = format!(
        "[notify]\n[[notify.command]]\nname = \"slow\"\ncommand = [{s:?}, \"slow\"]\n[[notify.command]]\nname = \"fast\"\ncommand = [{s:?}, \"fast\"]\n[[notify.command]]\nname = \"stuck\"\ncommand = [\"/bin/sh\", \"-c\", \"sleep 30\", \"stuck\"]\ntimeout = \"300ms\"\n",
        s = script.display().to_string()
    );
    let inst = InstanceSpec::new("VI_1", 51, 150, "192.0.2.100/24")
        .extra("notify_backup = \"slow\"")
        .extra("notify_master = \"fast\"")
        .extra("notify_fault = \"stuck\"");
    // Alone: BACKUP at start (slow), MASTER ~0.4 s later (fast, waits).
    let a = master_alone(&lab, &notify, inst);
    let nodes = [&a];
    let t = Instant::now();
    wait_for(&lab, &nodes, "both commands", Duration::from_secs(4), || {
        std::fs::read_to_string(&order).is_ok_and(|s| s.lines().count() >= 2)
    });
    let lines: Vec<String> = std::fs::read_to_string(&order)
        .expect("order")
        .lines()
        .map(str::to_string)
        .collect();
    check!(
        &nodes,
        lines == ["INSTANCE VI_1 BACKUP 150", "INSTANCE VI_1 MASTER 150"],
        "in event order: {lines:?}"
    );
    note(&format!(
        "notify commands: MASTER's ran {:?} after the master transition, behind BACKUP's 1.5 s",
        t.elapsed()
    ));
    // A command that overstays its timeout is killed and counted; its exit is logged.
    lab.link_down("lb01").expect("link down");
    wait_for(
        &lab,
        &nodes,
        "the stuck command timed out",
        Duration::from_secs(4),
        || a.status().notify.commands.timed_out == 1,
    );
    let log = a.log();
    check!(
        &nodes,
        log.contains("notify command fast for VI_1") && log.contains("exited 0"),
        "exit codes are logged"
    );
    check!(
        &nodes,
        log.contains("notify command stuck for VI_1") && log.contains("timed out after 300ms; killed"),
        "the timeout is logged"
    );
    let c = a.status().notify.commands;
    check!(&nodes, c.succeeded == 2 && c.failed == 1, "{c:?}");
}

#[test]
fn with_the_smtp_server_down_mail_is_retried_then_counted_and_adverts_keep_their_cadence() {
    if !ready("with_the_smtp_server_down_mail_is_retried_then_counted_and_adverts_keep_their_cadence") {
        return;
    }
    let _serial = serial();
    let lab = new_lab();
    let d = dir(&lab, "servers");
    let mut smtp = SmtpServer::start(&lab, "client", at(2525), &d, None).expect("smtp");
    smtp.stop();
    let notify = notify_section(2525, "", "deadline = \"4s\"");
    let a = master_alone(
        &lab,
        &notify,
        InstanceSpec::new("VI_1", 51, 150, "192.0.2.100/24"),
    );
    let nodes = [&a];
    let t0 = Instant::now();
    let tx0 = a.instance("VI_1").counters.adverts_tx;
    wait_for(
        &lab,
        &nodes,
        "the mails given up",
        Duration::from_secs(12),
        || {
            a.status()
                .notify
                .sinks
                .iter()
                .any(|s| s.name == "email" && s.failed >= 2 && s.pending == 0)
        },
    );
    let elapsed = t0.elapsed();
    let sent = a.instance("VI_1").counters.adverts_tx - tx0;
    let s = a.status();
    let mail = s
        .notify
        .sinks
        .iter()
        .find(|x| x.name == "email")
        .expect("email")
        .clone();
    // BACKUP then MASTER at start: two mails, each tried until its deadline.
    check!(
        &nodes,
        mail.failed == 2 && mail.sent == 0 && mail.retried >= 4,
        "{mail:#?}"
    );
    check!(
        &nodes,
        mail.last_error
            .as_deref()
            .is_some_and(|e| e.contains("Connection refused") || e.contains("connection refused")),
        "{mail:#?}"
    );
    let expected = elapsed.as_secs_f64() / 0.1;
    let ratio = sent as f64 / expected;
    note(&format!(
        "SMTP down: {} attempts over {elapsed:?}, {} failed; adverts meanwhile {sent} ({ratio:.3} of one per 100 ms)",
        mail.retried + mail.failed,
        mail.failed
    ));
    check!(
        &nodes,
        (0.95..=1.05).contains(&ratio),
        "advert cadence {ratio:.3} of nominal"
    );
    check!(
        &nodes,
        a.log().contains("notify email:") && a.log().contains("given up"),
        "the failure is logged"
    );
    // Back up: the next transition's mail goes out (lb02 outranks lb01).
    smtp.restart(&lab).expect("restart smtp");
    let b = BatonNode::start(
        &lab,
        "lb02",
        &node_config("lb02", &[InstanceSpec::new("VI_1", 51, 200, "192.0.2.100/24")]),
    );
    // (lb02, never heard before, outranking the Master is reported too: a
    // `suspect advert` mail may come first.)
    let mails = smtp.wait_subject(
        0,
        "[lb01] VRRP Instance VI_1 - Entering BACKUP state",
        Duration::from_secs(5),
    );
    check!(
        &[&a, &b],
        mails
            .iter()
            .any(|m| m.subject() == "[lb01] VRRP Instance VI_1 - Entering BACKUP state"),
        "{mails:#?}"
    );
}

#[test]
fn a_flap_storm_sends_a_bounded_number_of_mails() {
    if !ready("a_flap_storm_sends_a_bounded_number_of_mails") {
        return;
    }
    let _serial = serial();
    let lab = new_lab();
    let d = dir(&lab, "servers");
    let smtp = SmtpServer::start(&lab, "client", at(2525), &d, None).expect("smtp");
    let (burst, window) = (3u64, 10u64);
    let notify = notify_section(
        2525,
        "",
        &format!("flap_burst = {burst}\nflap_window = \"{window}s\""),
    );
    let a = master_alone(
        &lab,
        &notify,
        InstanceSpec::new("VI_1", 51, 150, "192.0.2.100/24"),
    );
    let nodes = [&a];
    let t0 = Instant::now();
    // The start's BACKUP and MASTER used 2 of the burst.
    for _ in 0..15 {
        lab.link_down("lb01").expect("down");
        wait_for(&lab, &nodes, "fault", Duration::from_secs(2), || {
            a.state("VI_1") == "fault"
        });
        lab.link_up("lb01").expect("up");
        wait_for(&lab, &nodes, "master again", Duration::from_secs(3), || {
            a.state("VI_1") == "master"
        });
    }
    let flaps = t0.elapsed();
    let transitions = a.instance("VI_1").counters.transitions;
    // The digest goes out when the window allows.
    wait_for(
        &lab,
        &nodes,
        "the digest",
        Duration::from_secs(window + 2),
        || smtp.mails().iter().any(|m| m.subject().contains("changed state")),
    );
    std::thread::sleep(Duration::from_millis(300));
    let mails = smtp.mails();
    let subjects: Vec<&str> = mails.iter().map(|m| m.subject()).collect();
    let digest = mails
        .iter()
        .find(|m| m.subject().contains("changed state"))
        .expect("digest");
    let s = a.status();
    let mail = s.notify.sinks.iter().find(|x| x.name == "email").expect("email");
    note(&format!(
        "flap storm: {transitions} transitions in {flaps:?} -> {} mails ({} coalesced into {} digest(s)): {:?}",
        mails.len(),
        mail.coalesced,
        mail.digests,
        digest.subject()
    ));
    // At most the burst per window (a digest takes one of its places).
    let bound = burst * (flaps.as_secs() / window + 2);
    check!(
        &nodes,
        (mails.len() as u64) <= bound && transitions >= 45,
        "{} mails for {transitions} transitions, bound {bound}: {subjects:#?}",
        mails.len()
    );
    check!(
        &nodes,
        digest.subject().starts_with("[lb01] VI_1 changed state ")
            && digest.subject().ends_with("now MASTER"),
        "{}",
        digest.subject()
    );
    check!(
        &nodes,
        mail.sent - mail.digests + mail.coalesced == transitions,
        "every transition told or folded: {mail:#?} vs {transitions}"
    );
}

#[test]
fn a_transition_hook_reroutes_an_event() {
    if !ready("a_transition_hook_reroutes_an_event") {
        return;
    }
    let _serial = serial();
    let lab = new_lab();
    let d = dir(&lab, "servers");
    let smtp = SmtpServer::start(&lab, "client", at(2525), &d, None).expect("smtp");
    let pager = WebhookServer::start(&lab, "client", at(8081), &d, 200, None).expect("pager");
    let hook = d.join("route-alerts.wasm");
    std::fs::write(
        &hook,
        baton_policy_builtins::example("route-alerts").expect("the example hook"),
    )
    .expect("hook");
    let hooks = format!(
        "[[notify.webhook]]\nname = \"pager\"\nurl = \"http://{CLIENT}:8081/page\"\n[notify.hook]\nsource = {:?}\nconfig = {{ page = \"pager\", page-states = \"master\", quiet = \"daemon-start\" }}\n",
        hook.display().to_string()
    );
    let notify = notify_section(2525, &hooks, "");
    let a = master_alone(
        &lab,
        &notify,
        InstanceSpec::new("VI_1", 51, 150, "192.0.2.100/24"),
    );
    let nodes = [&a];
    // A webhook takes the hook's body as it is (its subject is for mail).
    let is_page = |r: &baton_e2e::servers::Request| r.body.starts_with("VI_1 on lb01: BACKUP -> MASTER");
    let reqs = pager.wait_for(Duration::from_secs(3), is_page);
    let page = reqs
        .iter()
        .find(|r| is_page(r))
        .unwrap_or_else(|| panic!("no page: {reqs:#?}\n{}", a.log()));
    check!(
        &nodes,
        page.body.contains("reason:") && page.body.contains("master down"),
        "{}",
        page.body
    );
    check!(
        &nodes,
        page.header("content-type") == Some("text/plain; charset=utf-8"),
        "{:?}",
        page.headers
    );
    // BACKUP at start goes as without a hook: mail and webhook; the start notice is quiet.
    let mails = smtp.wait_mails(2, Duration::from_secs(3));
    let subjects: Vec<&str> = mails.iter().map(|m| m.subject()).collect();
    check!(
        &nodes,
        subjects.contains(&"[lb01] VRRP Instance VI_1 - Entering BACKUP state"),
        "{subjects:?}"
    );
    check!(
        &nodes,
        subjects.contains(&"[lb01] VRRP Instance VI_1 - Entering MASTER state"),
        "{subjects:?}"
    );
    let bodies: Vec<serde_json::Value> = pager.requests().iter().map(|r| r.json()).collect();
    check!(
        &nodes,
        !bodies.iter().any(|b| b["kind"] == "daemon_start"),
        "the start was quiet: {bodies:?}"
    );
    check!(
        &nodes,
        bodies.iter().any(|b| b["to"] == "backup"),
        "BACKUP went by default: {bodies:?}"
    );
    let h = a.status().notify.hook.expect("hook status");
    check!(&nodes, h.calls >= 3 && h.errors == 0, "{h:?}");
}

#[test]
fn notify_test_sends_through_every_sink_and_prints_each_result() {
    if !ready("notify_test_sends_through_every_sink_and_prints_each_result") {
        return;
    }
    let _serial = serial();
    let lab = new_lab();
    let d = dir(&lab, "servers");
    let ca = TestCa::new(&d.join("ca"), &[CLIENT.parse().expect("ip")]).expect("test CA");
    let smtp = SmtpServer::start(&lab, "client", at(2587), &d, Some((&ca.cert, &ca.key))).expect("smtp");
    let https =
        WebhookServer::start(&lab, "client", at(8443), &d, 200, Some((&ca.cert, &ca.key))).expect("https");
    let broken = WebhookServer::start(&lab, "client", at(8082), &d, 503, None).expect("503");
    let hooks = format!(
        "smtp_tls = \"starttls\"\nca = {:?}\n[[notify.webhook]]\nname = \"secure\"\nurl = \"https://{CLIENT}:8443/t\"\n[[notify.webhook]]\nname = \"broken\"\nurl = \"http://{CLIENT}:8082/t\"\n[[notify.webhook]]\nname = \"nobody\"\nurl = \"http://{CLIENT}:9/t\"\n",
        ca.ca_pem
    );
    let cfg_text = with_notify(
        "lb01",
        &notify_section(2587, &hooks, ""),
        &[InstanceSpec::new("VI_1", 51, 150, "192.0.2.100/24")],
    );
    let cfg = d.join("lb01.toml");
    std::fs::write(&cfg, &cfg_text).expect("config");
    let bin = baton_bin();
    // From this process, with a config not yet deployed...
    let out = lab
        .exec(
            "lb01",
            &[
                bin.as_os_str(),
                "notify".as_ref(),
                "test".as_ref(),
                "--config".as_ref(),
                cfg.as_os_str(),
            ],
        )
        .expect("baton notify test");
    check_test_output(&out, &smtp, &https, &broken, 1);
    // ...and by the running daemon, with the config it runs.
    let mut a = BatonNode::start(&lab, "lb01", &cfg_text);
    let out = lab
        .exec(
            "lb01",
            &[
                bin.as_os_str(),
                "notify".as_ref(),
                "test".as_ref(),
                "--socket".as_ref(),
                a.socket_path().as_os_str(),
            ],
        )
        .expect("baton notify test --socket");
    check_test_output(&out, &smtp, &https, &broken, 2);
    assert!(a.is_running(), "the daemon runs on\n{}", a.log());
}

/// The output of the `nth` `baton notify test` against these servers.
fn check_test_output(
    out: &std::process::Output,
    smtp: &SmtpServer,
    https: &WebhookServer,
    broken: &WebhookServer,
    nth: usize,
) {
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    note(&format!("baton notify test:\n{stdout}"));
    assert_eq!(
        out.status.code(),
        Some(1),
        "a sink failed: exit 1\n{stdout}\n{stderr}"
    );
    let line = |needle: &str| {
        stdout
            .lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?} in:\n{stdout}\n{stderr}"))
            .to_string()
    };
    assert!(
        line(&format!("email via {CLIENT}:2587")).contains(": ok ("),
        "{stdout}"
    );
    assert!(line("webhook secure").contains(": ok ("), "{stdout}");
    assert!(
        line("webhook broken").contains("FAILED: POST http://192.0.2.200:8082/t: HTTP 503"),
        "{stdout}"
    );
    assert!(line("webhook nobody").contains("FAILED"), "{stdout}");
    let mails = smtp.wait_mails(nth, Duration::from_secs(2));
    let tests = mails
        .iter()
        .filter(|m| m.tls && m.subject() == "[lb01] Baton test notification")
        .count();
    assert_eq!(tests, nth, "over STARTTLS: {mails:#?}");
    let posts = https
        .requests()
        .iter()
        .filter(|r| r.json()["kind"] == "test")
        .count();
    assert_eq!(posts, nth, "{:?}", https.requests());
    // The daemon's own notices reach it too; of the tests, one attempt each.
    let tried = broken
        .requests()
        .iter()
        .filter(|r| r.json()["kind"] == "test")
        .count();
    assert_eq!(tried, nth, "one attempt each");
}
