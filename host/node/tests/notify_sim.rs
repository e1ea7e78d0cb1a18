//! Notifications on the virtual LAN: what a failover tells, and that a
//! flapping link sends a bounded number of mails while every transition is
//! still counted.

use std::time::Duration;

use baton_node::Job;
use baton_node::sim::{Lan, SimConfig, SimInstance};
use baton_vrrp::Family;

const NOTIFY: &str = r#"email = ["ops@example.org"]
email_from = "baton@example.org"
smtp_server = "192.0.2.25:25"
[[notify.webhook]]
name = "hook"
url = "http://192.0.2.80/"
[[notify.command]]
name = "log"
command = ["/usr/bin/logger"]"#;

fn lan() -> Lan {
    let cfg = SimConfig {
        checks: Vec::new(),
        check_ms: 20,
        instances: vec![SimInstance {
            name: "VI_1".into(),
            vrid: 1,
            family: Family::V4,
            priorities: vec![150, 100],
            advert_ms: 20,
            vips: vec!["198.51.100.1".parse().unwrap()],
            accept: true,
            tracks: Vec::new(),
            split_brain: false,
        }],
        notify: NOTIFY.to_string(),
        ..SimConfig::default()
    };
    let mut lan = Lan::new(7, cfg, 2);
    lan.run_for(Duration::from_millis(300));
    lan
}

fn mails(lan: &Lan, k: usize) -> Vec<(String, String)> {
    lan.nodes[k]
        .notified
        .iter()
        .filter_map(|(_, j)| match j {
            Job::Mail(m) => Some((m.subject.clone(), m.body.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_failover_mails_posts_and_runs_notify_with_the_facts() {
    let mut lan = lan();
    let before = mails(&lan, 1).len();
    lan.crash(0);
    lan.run_for(Duration::from_millis(300));
    let m = mails(&lan, 1);
    let (subject, body) = m.get(before).expect("node1 mails its takeover");
    assert_eq!(subject, "[node1] VRRP Instance VI_1 - Entering MASTER state");
    assert!(body.contains("state:      BACKUP -> MASTER"), "{body}");
    assert!(body.contains("reason:     master down"), "{body}");
    assert!(body.contains("priority:   100"), "{body}");
    assert!(body.contains("vips:       198.51.100.1/32"), "{body}");
    let posts: Vec<&str> = lan.nodes[1]
        .notified
        .iter()
        .filter_map(|(_, j)| {
            if let Job::Post(p) = j {
                Some(p.payload.as_str())
            } else {
                None
            }
        })
        .collect();
    assert!(
        posts
            .iter()
            .any(|p| p.contains("\"to\":\"master\"") && p.contains("\"vips\":[\"198.51.100.1/32\"]")),
        "{posts:?}"
    );
    assert!(
        posts.iter().any(|p| p.contains("\"kind\":\"daemon_start\"")),
        "{posts:?}"
    );
    let cmds: Vec<&Vec<String>> = lan.nodes[1]
        .notified
        .iter()
        .filter_map(|(_, j)| {
            if let Job::Command(c) = j {
                Some(&c.run.argv)
            } else {
                None
            }
        })
        .collect();
    assert!(
        cmds.iter()
            .any(|a| a[..] == ["/usr/bin/logger", "INSTANCE", "VI_1", "MASTER", "100"]),
        "{cmds:?}"
    );
}

#[test]
fn a_flapping_link_mails_a_bounded_number_and_counts_every_transition() {
    let mut lan = lan();
    // 60 link flaps, one every 500 ms: 120 transitions of node0 in 30 s.
    for _ in 0..60 {
        lan.set_link(0, false);
        lan.run_for(Duration::from_millis(250));
        lan.set_link(0, true);
        lan.run_for(Duration::from_millis(250));
    }
    lan.run_for(Duration::from_secs(90));
    let node = lan.nodes[0].node.as_ref().expect("node0");
    let s = node.status(lan.now);
    let mail = s
        .notify
        .sinks
        .iter()
        .find(|x| x.name == "email")
        .expect("email sink");
    let transitions = node
        .instance_by_name("VI_1")
        .expect("VI_1")
        .vrrp
        .counters()
        .transitions;
    let sent = mails(&lan, 0).len() as u64;
    // Per 60 s window: the burst of 3, then one digest.
    assert!(sent <= 2 * 4 + 2, "{sent} mails for {transitions} transitions");
    assert_eq!(mail.sent, sent);
    assert!(mail.coalesced > 50, "{mail:?}");
    assert!(mail.digests >= 1, "{mail:?}");
    assert_eq!(
        mail.sent - mail.digests + mail.coalesced,
        transitions,
        "every transition is told or folded: {mail:?}"
    );
    let digest = mails(&lan, 0)
        .into_iter()
        .find(|(s, _)| s.contains("changed state"))
        .expect("a digest");
    assert!(
        digest.0.starts_with("[node0] VI_1 changed state "),
        "{}",
        digest.0
    );
}
