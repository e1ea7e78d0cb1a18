//! `[notify]` and the instances' notification keys: what they mean, and each
//! mistake at its line:col.

use std::path::Path;
use std::time::Duration;

use baton_config::{self as config, Config, SmtpTls};

const FILE: &str = "t.toml";

fn text(lines: &[&str]) -> String {
    let mut s = lines.join("\n");
    s.push('\n');
    s
}

#[track_caller]
fn ok(lines: &[&str]) -> Config {
    match config::parse(&text(lines), Path::new(FILE)) {
        Ok(c) => c,
        Err(d) => panic!(
            "expected ok, got:\n{}",
            d.iter().map(|d| format!("{d}\n")).collect::<String>()
        ),
    }
}

/// Exactly one diagnostic, at `line:col`, containing `fragment`.
#[track_caller]
fn one_error(lines: &[&str], line: usize, col: usize, fragment: &str) {
    let errs: Vec<String> = match config::parse(&text(lines), Path::new(FILE)) {
        Ok(_) => panic!("expected an error for:\n{}", text(lines)),
        Err(d) => d.iter().map(ToString::to_string).collect(),
    };
    assert_eq!(errs.len(), 1, "expected one error, got:\n{}", errs.join("\n"));
    let prefix = format!("{FILE}:{line}:{col}: ");
    assert!(
        errs[0].starts_with(&prefix) && errs[0].contains(fragment),
        "expected `{prefix}...{fragment}...`, got:\n{}",
        errs[0]
    );
}

/// The seed's global_defs, in Baton's words, on lines 1-15; an instance on 16-.
const SEED: [&str; 15] = [
    "router_id = \"lb01\"",
    "[notify]",
    "email = [\"ops@example.org\", \"failover@example.org\"]",
    "email_from = \"baton@lb01.example.org\"",
    "smtp_server = \"127.0.0.1:25\"",
    "smtp_connect_timeout = \"30s\"",
    "[[notify.webhook]]",
    "url = \"https://hooks.example.org/baton\"",
    "headers = { Authorization = \"Bearer abc\" }",
    "[[notify.command]]",
    "name = \"to-master\"",
    "command = [\"/usr/local/bin/notify.sh\", \"master\"]",
    "[[notify.command]]",
    "name = \"log-all\"",
    "command = [\"logger\", \"-t\", \"baton\"]",
];

fn seed_with(instance: &[&'static str]) -> Vec<&'static str> {
    let mut v: Vec<&str> = SEED.to_vec();
    v.extend([
        "[[instance]]",
        "name = \"VI_1\"",
        "interface = \"eth0\"",
        "vrid = 50",
        "vips = [\"192.0.2.3\"]",
    ]);
    v.extend(instance);
    v
}

#[test]
fn the_seeds_global_defs_mean_what_keepalived_means() {
    let c = ok(&seed_with(&[
        "notify_master = \"to-master\"",
        "notify = \"log-all\"",
    ]));
    let n = &c.notify;
    assert_eq!(n.email, ["ops@example.org", "failover@example.org"]);
    assert_eq!(n.email_from, "baton@lb01.example.org");
    let server = n.smtp_server.as_ref().expect("server");
    assert_eq!((server.host.as_str(), server.port), ("127.0.0.1", 25));
    assert_eq!(n.smtp_connect_timeout, Duration::from_secs(30));
    assert_eq!(n.smtp_tls, SmtpTls::None);
    assert_eq!(n.webhooks.len(), 1);
    assert_eq!(n.webhooks[0].name, "webhook");
    assert_eq!(n.webhooks[0].headers["Authorization"], "Bearer abc");
    assert_eq!(n.webhooks[0].timeout, Duration::from_secs(10));
    assert_eq!(n.commands[0].command, ["/usr/local/bin/notify.sh", "master"]);
    assert_eq!(n.sink_names(), ["email", "webhook", "to-master", "log-all"]);
    let i = &c.instances[0];
    // keepalived's default: smtp_alert when there is mail.
    assert_eq!(i.notify.smtp_alert, None);
    assert!(i.notify.mails(n));
    assert_eq!(i.notify.commands_for("master"), ["to-master", "log-all"]);
    assert_eq!(i.notify.commands_for("backup"), ["log-all"]);
    assert_eq!((n.queue, n.flap_burst), (64, 3));
    assert_eq!(n.deadline, Duration::from_secs(300));
}

#[test]
fn without_notify_nothing_is_sent() {
    let c = ok(&[
        "router_id = \"lb02\"",
        "[[instance]]",
        "name = \"VI_1\"",
        "interface = \"eth0\"",
        "vrid = 50",
        "vips = [\"192.0.2.3\"]",
    ]);
    assert!(c.notify.sink_names().is_empty());
    assert_eq!(c.notify.email_from, "baton@lb02");
    assert!(!c.instances[0].notify.mails(&c.notify));
}

#[test]
fn smtp_alert_false_keeps_one_instance_quiet() {
    let c = ok(&seed_with(&["smtp_alert = false"]));
    assert!(!c.instances[0].notify.mails(&c.notify));
}

#[test]
fn starttls_ipv6_server_and_delivery_limits() {
    let c = ok(&[
        "[notify]",
        "email = [\"ops@example.org\"]",
        "smtp_server = \"[2001:db8::25]:587\"",
        "smtp_tls = \"starttls\"",
        "deadline = \"3s\"",
        "queue = 8",
        "flap_burst = 2",
        "flap_window = \"10s\"",
        "[[instance]]",
        "name = \"VI_1\"",
        "interface = \"eth0\"",
        "vrid = 50",
        "vips = [\"192.0.2.3\"]",
    ]);
    let n = &c.notify;
    assert_eq!(n.smtp_tls, SmtpTls::Starttls);
    assert_eq!(
        n.smtp_server.as_ref().map(ToString::to_string).as_deref(),
        Some("[2001:db8::25]:587")
    );
    assert_eq!((n.queue, n.flap_burst), (8, 2));
    assert_eq!(
        (n.deadline, n.flap_window),
        (Duration::from_secs(3), Duration::from_secs(10))
    );
}

/// A valid instance, for configs whose mistake is elsewhere.
const INSTANCE: [&str; 5] = [
    "[[instance]]",
    "name = \"VI_1\"",
    "interface = \"eth0\"",
    "vrid = 50",
    "vips = [\"192.0.2.3\"]",
];

/// `lines`, then the instance.
fn then_instance<'a>(lines: &[&'a str]) -> Vec<&'a str> {
    lines.iter().copied().chain(INSTANCE).collect()
}

/// The seed's settings with line `line` (1-based) replaced, then the instance.
fn seed_but(line: usize, text: &'static str) -> Vec<&'static str> {
    let mut v = SEED.to_vec();
    v[line - 1] = text;
    then_instance(&v)
}

#[test]
fn mistakes_are_reported_where_they_are() {
    one_error(
        &seed_but(5, "smtp_server = \"127.0.0.1:0\""),
        5,
        15,
        "not host[:port]",
    );
    one_error(
        &seed_but(3, "email = [\"ops@example.org\", \"failover\"]"),
        3,
        29,
        "not a mail address",
    );
    one_error(
        &seed_but(8, "url = \"ftp://hooks.example.org/\""),
        8,
        7,
        "not an http:// or https:// URL",
    );
    one_error(
        &seed_but(9, "headers = { \"Content-Type\" = \"text/plain\" }"),
        9,
        30,
        "set by Baton",
    );
    one_error(
        &seed_but(14, "name = \"to-master\""),
        14,
        8,
        "duplicate webhook or command name `to-master` (first defined at line 11)",
    );
    one_error(
        &seed_but(14, "name = \"email\""),
        14,
        8,
        "`email` is the name of mail",
    );
    one_error(
        &seed_with(&["notify_master = \"to-mastr\""]),
        21,
        17,
        "no [[notify.command]] named `to-mastr` (did you mean `to-master`?)",
    );
    one_error(
        &seed_with(&["notify_sotp = \"log-all\""]),
        21,
        1,
        "unknown key `notify_sotp` in [[instance]] (did you mean `notify_stop`?)",
    );
    let cases: [(&[&str], usize, usize, &str); 7] = [
        (
            &["[notify]", "email = [\"ops@example.org\"]"],
            2,
            9,
            "mail needs an `smtp_server`",
        ),
        (&[], 6, 14, "[notify] has no `email`"),
        (
            &["notification_email = [\"a@b\"]"],
            1,
            1,
            "it is `email` in [notify]",
        ),
        (
            &["[notify]", "notification_email = [\"a@b\"]"],
            2,
            1,
            "keepalived's `notification_email` is `email` here",
        ),
        (
            &["[notify]", "smtp_tls = \"tls\""],
            2,
            12,
            "`tls` is not \"none\" or \"starttls\"",
        ),
        (
            &["[notify.hook]", "source = \"builtin:tcp-port\""],
            2,
            10,
            "builtin:tcp-port is a health check",
        ),
        (
            &["[notify.hook]", "source = \"nowhere.wasm\""],
            2,
            10,
            "no such file",
        ),
    ];
    for (lines, line, col, fragment) in cases {
        let mut v = then_instance(lines);
        if lines.is_empty() {
            v.push("smtp_alert = true");
        }
        one_error(&v, line, col, fragment);
    }
}
