//! The notification part of the model: `[notify]` (mail, webhooks, notify
//! commands, the transition hook, the delivery limits) and each instance's
//! `smtp_alert` and `notify_*` keys; and the syntax of its values (an SMTP
//! server, a webhook URL, a mail address, an HTTP header).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::PolicySource;

/// `[notify]`. Without one, nothing is sent and no command runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notify {
    /// Where mail goes (keepalived's `notification_email`).
    pub email: Vec<String>,
    /// `email_from`, or `baton@ROUTER_ID`.
    pub email_from: String,
    pub smtp_server: Option<SmtpServer>,
    pub smtp_connect_timeout: Duration,
    pub smtp_tls: SmtpTls,
    /// `ca`: PEM certificates trusted besides the public roots, for
    /// STARTTLS and https webhooks.
    pub ca: Option<PathBuf>,
    pub webhooks: Vec<Webhook>,
    pub commands: Vec<NotifyCommand>,
    pub hook: Option<Hook>,
    /// Messages a sink holds before folding the rest into one digest.
    pub queue: usize,
    /// A message is retried, with backoff, until this long after its first try.
    pub deadline: Duration,
    /// Transitions of one instance per `flap_window` told one by one; the
    /// rest are folded into one digest.
    pub flap_burst: usize,
    pub flap_window: Duration,
}

impl Notify {
    /// No sinks: what a config without `[notify]` has.
    pub fn none(router_id: &str) -> Notify {
        Notify {
            email: Vec::new(),
            email_from: default_from(router_id),
            smtp_server: None,
            smtp_connect_timeout: Duration::from_secs(30),
            smtp_tls: SmtpTls::None,
            ca: None,
            webhooks: Vec::new(),
            commands: Vec::new(),
            hook: None,
            queue: 64,
            deadline: Duration::from_secs(300),
            flap_burst: 3,
            flap_window: Duration::from_secs(60),
        }
    }

    pub fn command(&self, name: &str) -> Option<&NotifyCommand> {
        self.commands.iter().find(|c| c.name == name)
    }

    /// Whether mail is set up (addresses and a server).
    pub fn mails(&self) -> bool {
        !self.email.is_empty() && self.smtp_server.is_some()
    }

    /// Every sink's name: `email` (when set up), the webhooks', the commands'.
    pub fn sink_names(&self) -> Vec<&str> {
        let mut v = Vec::new();
        if self.mails() {
            v.push(EMAIL_SINK);
        }
        v.extend(self.webhooks.iter().map(|w| w.name.as_str()));
        v.extend(self.commands.iter().map(|c| c.name.as_str()));
        v
    }
}

/// The sink name of mail.
pub const EMAIL_SINK: &str = "email";

pub(crate) fn default_from(router_id: &str) -> String {
    format!("baton@{router_id}")
}

/// An SMTP server: `host[:port]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SmtpServer {
    /// A name or an address (IPv6 without brackets).
    pub host: String,
    pub port: u16,
}

impl fmt::Display for SmtpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// How the mail connection is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum SmtpTls {
    /// Plain SMTP, as keepalived.
    #[default]
    None,
    /// STARTTLS, required: a server that does not offer it is an error.
    Starttls,
}

/// `[[notify.webhook]]`: an HTTP(S) POST of each notice's JSON document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Webhook {
    pub name: String,
    /// `http://` or `https://`.
    pub url: String,
    pub headers: BTreeMap<String, String>,
    pub timeout: Duration,
}

/// `[[notify.command]]`: a program an instance's `notify_*` keys name; run
/// without a shell, with keepalived's arguments appended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotifyCommand {
    pub name: String,
    pub command: Vec<String>,
    pub timeout: Duration,
}

/// `[notify.hook]`: a component of the transition-hook world that routes
/// and words each notice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hook {
    pub source: PolicySource,
    pub sha256: Option<[u8; 32]>,
    pub config: BTreeMap<String, String>,
    /// Each call's budget.
    pub timeout: Duration,
}

/// An instance's notification keys (keepalived's names).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct InstanceNotify {
    /// Mail its transitions and tracks; `None`: whether `[notify]` has `email`.
    pub smtp_alert: Option<bool>,
    /// `[[notify.command]]` names.
    pub master: Option<String>,
    pub backup: Option<String>,
    pub fault: Option<String>,
    pub stop: Option<String>,
    /// `notify`: on every transition and at the stop, after the state's own.
    pub any: Option<String>,
}

impl InstanceNotify {
    /// Whether it mails, given `[notify]`.
    pub fn mails(&self, notify: &Notify) -> bool {
        self.smtp_alert.unwrap_or(!notify.email.is_empty()) && notify.mails()
    }

    /// The commands to run on entering `state` ("master", "backup",
    /// "fault", "stop"), in order.
    pub fn commands_for(&self, state: &str) -> Vec<&str> {
        let own = match state {
            "master" => &self.master,
            "backup" => &self.backup,
            "fault" => &self.fault,
            "stop" => &self.stop,
            _ => &None,
        };
        own.iter().chain(self.any.iter()).map(String::as_str).collect()
    }
}

/// `host[:port]`, `[v6]:port`, or a bare IPv6 address.
pub(crate) fn parse_smtp_server(s: &str) -> Result<SmtpServer, String> {
    let bad = |why: &str| Err(format!("`{s}` is not host[:port] ({why})"));
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let Some((h, after)) = rest.split_once(']') else {
            return bad("no closing `]`");
        };
        match after.strip_prefix(':') {
            Some(p) => (h, Some(p)),
            None if after.is_empty() => (h, None),
            None => return bad("expected `:PORT` after `]`"),
        }
    } else if s.matches(':').count() > 1 {
        (s, None)
    } else {
        match s.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    if host.is_empty() {
        return bad("no host");
    }
    if host
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '/')
    {
        return bad("the host has a space, a control character or a `/`");
    }
    let port = match port {
        None => 25,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => n,
            _ => return bad("the port must be 1..=65535"),
        },
    };
    Ok(SmtpServer {
        host: host.to_string(),
        port,
    })
}

/// Why `url` is no webhook URL, if it is not.
pub(crate) fn url_problem(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let Some(rest) = rest else {
        return Some(format!("`{url}` is not an http:// or https:// URL"));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host.is_empty() || host.starts_with(':') {
        return Some(format!("`{url}` has no host"));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some(format!("`{url}` contains a space or a control character"));
    }
    None
}

/// Why `addr` is no mail address (`local@domain`), if it is not.
pub(crate) fn address_problem(addr: &str) -> Option<String> {
    let ok = match addr.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !addr
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || "<>,;\"".contains(c))
        }
        None => false,
    };
    (!ok).then(|| format!("`{addr}` is not a mail address (local@domain)"))
}

/// Why (`name`, `value`) is no HTTP header, if it is not.
pub(crate) fn header_problem(name: &str, value: &str) -> Option<String> {
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if name.is_empty() || !name.chars().all(token) {
        return Some(format!("`{name}` is not an HTTP header name"));
    }
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Some("a header value cannot contain a line break or a control character".to_string());
    }
    let reserved = ["content-length", "content-type", "host", "transfer-encoding"];
    if reserved.contains(&name.to_ascii_lowercase().as_str()) {
        return Some(format!("`{name}` is set by Baton"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_servers() {
        let p = |s: &str| parse_smtp_server(s).map(|x| x.to_string());
        assert_eq!(p("127.0.0.1:25").as_deref(), Ok("127.0.0.1:25"));
        assert_eq!(p("mail.example.org").as_deref(), Ok("mail.example.org:25"));
        assert_eq!(p("[2001:db8::25]:2525").as_deref(), Ok("[2001:db8::25]:2525"));
        assert_eq!(p("2001:db8::25").as_deref(), Ok("[2001:db8::25]:25"));
        assert!(p("host:0").is_err());
        assert!(p("host:x").is_err());
        assert!(p(":25").is_err());
        assert!(p("[::1").is_err());
    }

    #[test]
    fn urls_addresses_headers() {
        assert_eq!(url_problem("https://hooks.example.org/baton"), None);
        assert_eq!(url_problem("http://192.0.2.9:8080/x"), None);
        assert!(url_problem("ftp://x/").is_some());
        assert!(url_problem("https:///x").is_some());
        assert_eq!(address_problem("ops@example.org"), None);
        assert!(address_problem("ops").is_some());
        assert!(address_problem("a b@x").is_some());
        assert_eq!(header_problem("Authorization", "Bearer x"), None);
        assert!(header_problem("Bad Name", "x").is_some());
        assert!(header_problem("X-A", "a\r\nb").is_some());
        assert!(header_problem("Content-Type", "text/plain").is_some());
    }

    #[test]
    fn commands_by_state() {
        let n = InstanceNotify {
            master: Some("m".into()),
            stop: Some("s".into()),
            any: Some("all".into()),
            ..InstanceNotify::default()
        };
        assert_eq!(n.commands_for("master"), ["m", "all"]);
        assert_eq!(n.commands_for("backup"), ["all"]);
        assert_eq!(n.commands_for("stop"), ["s", "all"]);
    }
}
