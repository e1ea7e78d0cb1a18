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

#[test]
fn mistakes_are_reported_where_they_are() {
    let mut v = SEED.to_vec();
    v[4] = "smtp_server = \"127.0.0.1:0\"";
    v.extend([
        "[[instance]]",
        "name = \"VI_1\"",
        "interface = \"eth0\"",
        "vrid = 50",
        "vips = [\"192.0.2.3\"]",
    ]);
    one_error(&v, 5, 15, "not host[:port]");

    let mut v = SEED.to_vec();
    v[2] = "email = [\"ops@example.org\", \"failover\"]";
    v.extend([
        "[[instance]]",
        "name = \"VI_1\"",
        "interface = \"eth0\"",
        "vrid = 50",
        "vips = [\"192.0.2.3\"]",
    ]);
    one_error(&v, 3, 29, "not a mail address");

    let mut v = SEED.to_vec();
    v[7] = "url = \"ftp://hooks.example.org/\"";
    v.extend([
        "[[instance]]",
        "name = \"VI_1\"",
        "interface = \"eth0\"",
        "vrid = 50",
        "vips = [\"192.0.2.3\"]",
    ]);
    one_error(&v, 8, 7, "not an http:// or https:// URL");

    let mut v = SEED.to_vec();
    v[8] = "headers = { \"Content-Type\" = \"text/plain\" }";
    v.extend([
        "[[instance]]",
        "name = \"VI_1\"",
        "interface = \"eth0\"",
        "vrid = 50",
        "vips = [\"192.0.2.3\"]",
    ]);
    one_error(&v, 9, 30, "set by Baton");

    let mut v = SEED.to_vec();
    v[13] = "name = \"to-master\"";
    v.extend([
        "[[instance]]",
        "name = \"VI_1\"",
        "interface = \"eth0\"",
        "vrid = 50",
        "vips = [\"192.0.2.3\"]",
    ]);
    one_error(
        &v,
        14,
        8,
        "duplicate webhook or command name `to-master` (first defined at line 11)",
    );

    let mut v = SEED.to_vec();
    v[13] = "name = \"email\"";
    v.extend([
        "[[instance]]",
        "name = \"VI_1\"",
        "interface = \"eth0\"",
        "vrid = 50",
        "vips = [\"192.0.2.3\"]",
    ]);
    one_error(&v, 14, 8, "`email` is the name of mail");

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

    one_error(
        &[
            "[notify]",
            "email = [\"ops@example.org\"]",
            "[[instance]]",
            "name = \"VI_1\"",
            "interface = \"eth0\"",
            "vrid = 50",
            "vips = [\"192.0.2.3\"]",
        ],
        2,
        9,
        "mail needs an `smtp_server`",
    );
    one_error(
        &[
            "[[instance]]",
            "name = \"VI_1\"",
            "interface = \"eth0\"",
            "vrid = 50",
            "vips = [\"192.0.2.3\"]",
            "smtp_alert = true",
        ],
        6,
        14,
        "[notify] has no `email`",
    );
    one_error(
        &[
            "notification_email = [\"a@b\"]",
            "[[instance]]",
            "name = \"VI_1\"",
            "interface = \"eth0\"",
            "vrid = 50",
            "vips = [\"192.0.2.3\"]",
        ],
        1,
        1,
        "it is `email` in [notify]",
    );
    one_error(
        &[
            "[notify]",
            "notification_email = [\"a@b\"]",
            "[[instance]]",
            "name = \"VI_1\"",
            "interface = \"eth0\"",
            "vrid = 50",
            "vips = [\"192.0.2.3\"]",
        ],
        2,
        1,
        "keepalived's `notification_email` is `email` here",
    );
    one_error(
        &[
            "[notify]",
            "smtp_tls = \"tls\"",
            "[[instance]]",
            "name = \"VI_1\"",
            "interface = \"eth0\"",
            "vrid = 50",
            "vips = [\"192.0.2.3\"]",
        ],
        2,
        12,
        "`tls` is not \"none\" or \"starttls\"",
    );
    one_error(
        &[
            "[notify.hook]",
            "source = \"builtin:tcp-port\"",
            "[[instance]]",
            "name = \"VI_1\"",
            "interface = \"eth0\"",
            "vrid = 50",
            "vips = [\"192.0.2.3\"]",
        ],
        2,
        10,
        "builtin:tcp-port is a health check",
    );
    one_error(
        &[
            "[notify.hook]",
            "source = \"nowhere.wasm\"",
            "[[instance]]",
            "name = \"VI_1\"",
            "interface = \"eth0\"",
            "vrid = 50",
            "vips = [\"192.0.2.3\"]",
        ],
        2,
        10,
        "no such file",
    );
}
