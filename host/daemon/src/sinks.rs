//! Carries out the notifier's jobs (the node's `Effect::Notify`) off the
//! VRRP path: each job is a task of its own and its outcome comes back to
//! the loop as an [`Input::Notify`], so a slow SMTP server, webhook, notify
//! command or hook never holds up an advert. What to send, when to retry
//! and what a failure means are the node's (baton-notify's).
//!
//! Mail goes over SMTP with lettre (plain, or STARTTLS required); webhooks
//! are HTTP(S) POSTs with reqwest; both use rustls with the webpki roots
//! and the config's `ca`. Notify commands run without a shell in their own
//! process group, killed with it at their timeout; the hook runs on a
//! blocking thread under the policy engine's budget.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Instant;

use baton_config::{EMAIL_SINK, SmtpTls};
use baton_node::InstanceFacts;
use baton_notify::{CommandJob, CommandOutcome, DeliveryId, HookJob, Job, MailJob, PostJob, Route};
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

use crate::hook::LoadedHookConfig;
use crate::io::Input;

/// A job's outcome, for the node.
#[derive(Debug)]
pub enum Done {
    Delivery {
        sink: String,
        id: DeliveryId,
        result: Result<(), String>,
    },
    Command {
        instance: String,
        id: u64,
        name: String,
        outcome: CommandOutcome,
    },
    Hook {
        id: u64,
        result: Result<Route, String>,
    },
}

/// Stderr of a failed notify command kept for its log line.
const STDERR_MAX: usize = 2048;

/// The executor of notify jobs.
pub struct Sinks {
    results: mpsc::UnboundedSender<Input>,
    /// One HTTP client (a connection pool) per trust set.
    http: Option<(Option<PathBuf>, reqwest::Client)>,
    pub hook: Option<Arc<LoadedHookConfig>>,
}

impl std::fmt::Debug for Sinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sinks")
            .field("hook", &self.hook.is_some())
            .finish()
    }
}

impl Sinks {
    pub fn new(results: mpsc::UnboundedSender<Input>, hook: Option<Arc<LoadedHookConfig>>) -> Sinks {
        Sinks {
            results,
            http: None,
            hook,
        }
    }

    /// Where outcomes go (the loop's results channel).
    pub fn results(&self) -> mpsc::UnboundedSender<Input> {
        self.results.clone()
    }

    /// Starts `job`; `instances` are the node's, for a hook.
    pub fn start(&mut self, job: Job, instances: impl FnOnce() -> Vec<InstanceFacts>) {
        let tx = self.results.clone();
        let done = move |d: Done| {
            let _ = tx.send(Input::Notify(Box::new(d)));
        };
        match job {
            Job::Mail(m) => {
                tokio::spawn(async move {
                    let (id, attempt, t0) = (m.id, m.attempt, Instant::now());
                    let result = send_mail(&m).await;
                    log_delivery(EMAIL_SINK, &m.server.to_string(), attempt, t0, &result);
                    done(Done::Delivery {
                        sink: EMAIL_SINK.to_string(),
                        id,
                        result,
                    });
                });
            }
            Job::Post(p) => match self.client(p.ca.as_deref()) {
                Ok(client) => {
                    tokio::spawn(async move {
                        let t0 = Instant::now();
                        let result = post(&client, &p).await;
                        log_delivery(&p.sink, &p.url, p.attempt, t0, &result);
                        done(Done::Delivery {
                            sink: p.sink,
                            id: p.id,
                            result,
                        });
                    });
                }
                Err(e) => done(Done::Delivery {
                    sink: p.sink,
                    id: p.id,
                    result: Err(e),
                }),
            },
            Job::Command(c) => {
                tokio::spawn(async move {
                    let outcome = run_command(&c).await;
                    done(Done::Command {
                        instance: c.run.instance,
                        id: c.run.id,
                        name: c.run.name,
                        outcome,
                    });
                });
            }
            Job::Hook(h) => self.run_hook(h, instances(), done),
        }
    }

    fn run_hook(&self, h: HookJob, instances: Vec<InstanceFacts>, done: impl FnOnce(Done) + Send + 'static) {
        let Some(hook) = self.hook.clone() else {
            done(Done::Hook {
                id: h.id,
                result: Err("no transition hook is loaded".to_string()),
            });
            return;
        };
        tokio::task::spawn_blocking(move || {
            let result = hook.route(&h.notice, &instances);
            done(Done::Hook { id: h.id, result });
        });
    }

    /// The HTTP client trusting the webpki roots and `ca`.
    fn client(&mut self, ca: Option<&Path>) -> Result<reqwest::Client, String> {
        if let Some((c, client)) = &self.http
            && c.as_deref() == ca
        {
            return Ok(client.clone());
        }
        let mut b = reqwest::Client::builder()
            .use_rustls_tls()
            .user_agent(concat!("baton/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none());
        if let Some(path) = ca {
            let pem = std::fs::read(path).map_err(|e| format!("reading ca {}: {e}", path.display()))?;
            for cert in reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| format!("ca {}: {e}", path.display()))?
            {
                b = b.add_root_certificate(cert);
            }
        }
        let client = b.build().map_err(|e| format!("HTTP client: {e}"))?;
        self.http = Some((ca.map(Path::to_path_buf), client.clone()));
        Ok(client)
    }
}

fn log_delivery(sink: &str, target: &str, attempt: u32, t0: Instant, r: &Result<(), String>) {
    match r {
        Ok(()) => tracing::info!(
            "notify {sink}: delivered to {target} in {:?} (attempt {attempt})",
            t0.elapsed()
        ),
        Err(e) => tracing::debug!("notify {sink}: {target}: {e} (attempt {attempt})"),
    }
}

/// One mail, over a connection of its own.
async fn send_mail(m: &MailJob) -> Result<(), String> {
    let from: Mailbox = m
        .from
        .parse()
        .map_err(|e| format!("email_from {:?}: {e}", m.from))?;
    let mut b = Message::builder().from(from).subject(m.subject.clone());
    for to in &m.to {
        let mb: Mailbox = to.parse().map_err(|e| format!("email {to:?}: {e}"))?;
        b = b.to(mb);
    }
    let msg = b
        .header(ContentType::TEXT_PLAIN)
        .body(m.body.clone())
        .map_err(|e| format!("building the mail: {e}"))?;
    let mut t = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(m.server.host.as_str())
        .port(m.server.port)
        .timeout(Some(m.connect_timeout));
    if m.tls == SmtpTls::Starttls {
        let mut p = TlsParameters::builder(m.server.host.clone());
        if let Some(ca) = &m.ca {
            let pem = std::fs::read(ca).map_err(|e| format!("reading ca {}: {e}", ca.display()))?;
            p = p.add_root_certificate(
                Certificate::from_pem(&pem).map_err(|e| format!("ca {}: {e}", ca.display()))?,
            );
        }
        let p = p.build_rustls().map_err(|e| format!("TLS: {e}"))?;
        t = t.tls(Tls::Required(p));
    }
    let transport = t.build();
    // lettre's timeout is per step; the whole exchange is bounded too.
    let whole = m.connect_timeout.saturating_mul(3);
    match tokio::time::timeout(whole, transport.send(msg)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(format!("SMTP {}: {}", m.server, error_chain(&e))),
        Err(_) => Err(format!("SMTP {}: no answer within {whole:?}", m.server)),
    }
}

/// One POST; a 2xx answer is delivered, anything else is retried.
async fn post(client: &reqwest::Client, p: &PostJob) -> Result<(), String> {
    let json = serde_json::from_str::<serde_json::Value>(&p.payload).is_ok();
    let mut req = client
        .post(&p.url)
        .timeout(p.timeout)
        .header(
            reqwest::header::CONTENT_TYPE,
            if json {
                "application/json"
            } else {
                "text/plain; charset=utf-8"
            },
        )
        .body(p.payload.clone());
    for (k, v) in &p.headers {
        req = req.header(k.as_str(), v.as_str());
    }
    let resp = req
        .send()
        .await
        .map_err(|e| format!("POST {}: {}", p.url, error_chain(&e.without_url())))?;
    let status = resp.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("POST {}: HTTP {status}", p.url))
    }
}

/// An error with its sources: "connection refused" is in the source.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

/// Runs a notify command to its end or its timeout; logs its exit.
async fn run_command(c: &CommandJob) -> CommandOutcome {
    let argv = &c.run.argv;
    let t0 = Instant::now();
    let mut cmd = tokio::process::Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = match cmd.spawn() {
        Ok(ch) => ch,
        Err(e) => {
            tracing::warn!("notify command {} ({}): cannot start: {e}", c.run.name, argv[0]);
            return CommandOutcome::Failed(format!("{}: {e}", argv[0]));
        }
    };
    let pgid = child.id().and_then(|p| i32::try_from(p).ok());
    let mut stderr = child.stderr.take();
    let read_err = async move {
        let mut buf = Vec::new();
        if let Some(s) = stderr.as_mut() {
            let _ = s.take(STDERR_MAX as u64).read_to_end(&mut buf).await;
        }
        buf
    };
    let waited = tokio::time::timeout(c.timeout, async { tokio::join!(child.wait(), read_err) }).await;
    let (outcome, err) = match waited {
        Ok((Ok(status), err)) => match status.code() {
            Some(code) => (CommandOutcome::Exited(code), err),
            None => (CommandOutcome::Signalled(status.signal().unwrap_or(0)), err),
        },
        Ok((Err(e), err)) => (CommandOutcome::Failed(e.to_string()), err),
        Err(_) => {
            if let Some(p) = pgid {
                let _ = nix::sys::signal::killpg(
                    nix::unistd::Pid::from_raw(p),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            let _ = child.kill().await;
            (CommandOutcome::TimedOut, Vec::new())
        }
    };
    let err = String::from_utf8_lossy(&err);
    let err = err.trim();
    let what = match &outcome {
        CommandOutcome::Exited(code) => format!("exited {code}"),
        CommandOutcome::Signalled(s) => format!("killed by signal {s}"),
        CommandOutcome::TimedOut => format!("timed out after {:?}; killed", c.timeout),
        CommandOutcome::Failed(e) => format!("failed: {e}"),
    };
    let line = format!(
        "notify command {} for {} ({}) {what} in {:?}",
        c.run.name,
        c.run.instance,
        argv.join(" "),
        t0.elapsed()
    );
    if outcome.ok() {
        tracing::info!("{line}");
    } else if err.is_empty() {
        tracing::warn!("{line}");
    } else {
        tracing::warn!("{line}; stderr: {err}");
    }
    outcome
}
