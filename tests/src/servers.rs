//! Real servers the notification tests talk to, started in a lab host: an
//! SMTP server (Debian's python3-aiosmtpd, plain or with STARTTLS required)
//! and an HTTP or HTTPS webhook receiver (tests/servers/*.py), each writing
//! what it receives to a JSON-lines file the test reads; and a test CA with
//! a server certificate for them (made with the openssl command).

use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use baton_lab::Lab;
use serde_json::Value;

/// Debian's python3, which has aiosmtpd (not a pyenv one that may not).
const PYTHON: &str = "/usr/bin/python3";

fn servers_dir() -> PathBuf {
    crate::workspace_root().join("tests/servers")
}

/// Whether the SMTP server can run here; under CI=true it must.
pub fn require_aiosmtpd(test: &str) -> bool {
    let ok = Command::new(PYTHON)
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{test}: {PYTHON} has no aiosmtpd, and CI=true (scripts/setup installs python3-aiosmtpd)");
        }
        crate::note(&format!(
            "\n*** SKIPPED (no python3-aiosmtpd; run scripts/setup): {test} ***\n"
        ));
    }
    ok
}

/// A test CA and a server certificate it signed for `ips`.
#[derive(Debug)]
pub struct TestCa {
    pub ca_pem: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TestCa {
    /// Makes them in `dir` with openssl.
    pub fn new(dir: &Path, ips: &[IpAddr]) -> io::Result<TestCa> {
        std::fs::create_dir_all(dir)?;
        let p = |n: &str| dir.join(n);
        let run = |args: &[&str]| -> io::Result<()> {
            let out = Command::new("openssl").args(args).stdin(Stdio::null()).output()?;
            if out.status.success() {
                Ok(())
            } else {
                Err(io::Error::other(format!(
                    "openssl {}: {}",
                    args.join(" "),
                    String::from_utf8_lossy(&out.stderr)
                )))
            }
        };
        let s = |p: &PathBuf| p.to_string_lossy().into_owned();
        let (ca_key, ca_pem, key, csr, cert, ext) = (
            p("ca.key"),
            p("ca.pem"),
            p("server.key"),
            p("server.csr"),
            p("server.pem"),
            p("server.ext"),
        );
        run(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &s(&ca_key),
            "-out",
            &s(&ca_pem),
            "-days",
            "2",
            "-subj",
            "/CN=Baton test CA",
        ])?;
        run(&[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &s(&key),
            "-out",
            &s(&csr),
            "-subj",
            "/CN=baton-test-server",
        ])?;
        let sans: Vec<String> = ips.iter().map(|ip| format!("IP:{ip}")).collect();
        std::fs::write(
            &ext,
            format!(
                "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName={}\n",
                sans.join(",")
            ),
        )?;
        run(&[
            "x509",
            "-req",
            "-in",
            &s(&csr),
            "-CA",
            &s(&ca_pem),
            "-CAkey",
            &s(&ca_key),
            "-CAcreateserial",
            "-out",
            &s(&cert),
            "-days",
            "2",
            "-extfile",
            &s(&ext),
        ])?;
        Ok(TestCa { ca_pem, cert, key })
    }
}

/// Waits until something listens on `addr` inside `host`.
fn wait_listening(lab: &Lab, host: &str, addr: SocketAddr, child: &mut Child, log: &Path) -> io::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let script = format!(
        "import socket,sys\ns=socket.socket(socket.AF_INET6 if ':' in '{ip}' else socket.AF_INET)\ns.settimeout(0.2)\nsys.exit(0 if s.connect_ex(('{ip}',{port}))==0 else 1)",
        ip = addr.ip(),
        port = addr.port()
    );
    while Instant::now() < deadline {
        if let Some(st) = child.try_wait()? {
            return Err(io::Error::other(format!(
                "server exited ({st}): {}",
                std::fs::read_to_string(log).unwrap_or_default()
            )));
        }
        let ok = if host.is_empty() {
            TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
        } else {
            lab.exec(host, &[PYTHON, "-c", &script])?.status.success()
        };
        if ok {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(io::Error::other(format!("nothing listens on {addr} after 10 s")))
}

/// Reads a JSON-lines file (missing: none yet).
fn read_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Polls `read` until `done` says so or `timeout` passes; the last read.
fn wait_for<T>(timeout: Duration, mut read: impl FnMut() -> T, done: impl Fn(&T) -> bool) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        let v = read();
        if done(&v) || Instant::now() >= deadline {
            return v;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One mail as the SMTP server received it.
#[derive(Clone, Debug)]
pub struct Mail {
    pub at_ms: u64,
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    /// Header name (lower case) -> value, unfolded.
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub tls: bool,
}

impl Mail {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == &name.to_ascii_lowercase())
            .map(|(_, v)| v.as_str())
    }

    pub fn subject(&self) -> &str {
        self.header("subject").unwrap_or("")
    }

    fn parse(v: &Value) -> Option<Mail> {
        let data = v["data"].as_str()?.replace("\r\n", "\n");
        let (head, body) = data.split_once("\n\n").unwrap_or((&data, ""));
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in head.lines() {
            if line.starts_with([' ', '\t']) {
                if let Some(last) = headers.last_mut() {
                    last.1.push(' ');
                    last.1.push_str(line.trim());
                }
            } else if let Some((k, val)) = line.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), val.trim().to_string()));
            }
        }
        Some(Mail {
            at_ms: v["at_ms"].as_u64()?,
            mail_from: v["mail_from"].as_str()?.to_string(),
            rcpt_tos: v["rcpt_tos"]
                .as_array()?
                .iter()
                .filter_map(|r| r.as_str().map(str::to_string))
                .collect(),
            headers,
            body: body.to_string(),
            tls: v["tls"].as_bool().unwrap_or(false),
        })
    }
}

/// An SMTP server in a lab host (aiosmtpd).
#[derive(Debug)]
pub struct SmtpServer {
    pub addr: SocketAddr,
    out: PathBuf,
    log: PathBuf,
    child: Option<Child>,
    host: String,
    starttls: Option<(PathBuf, PathBuf)>,
}

impl SmtpServer {
    /// Starts one on `addr` in `host`; with `starttls` (cert, key) it
    /// requires STARTTLS.
    pub fn start(
        lab: &Lab,
        host: &str,
        addr: SocketAddr,
        dir: &Path,
        starttls: Option<(&Path, &Path)>,
    ) -> io::Result<SmtpServer> {
        std::fs::create_dir_all(dir)?;
        let mut s = SmtpServer {
            addr,
            out: dir.join("smtp.jsonl"),
            log: dir.join("smtp.log"),
            child: None,
            host: host.to_string(),
            starttls: starttls.map(|(c, k)| (c.to_path_buf(), k.to_path_buf())),
        };
        s.restart(lab)?;
        Ok(s)
    }

    /// Starts it again after [`SmtpServer::stop`] (same address and file).
    pub fn restart(&mut self, lab: &Lab) -> io::Result<()> {
        let listen = match self.addr.ip() {
            IpAddr::V4(ip) => format!("{ip}:{}", self.addr.port()),
            IpAddr::V6(ip) => format!("[{ip}]:{}", self.addr.port()),
        };
        let out = self.out.to_string_lossy().into_owned();
        let mut args: Vec<String> = [
            PYTHON,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            &listen,
            "-c",
            "smtp_sink.JsonLines",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        if let Some((cert, key)) = &self.starttls {
            args.extend([
                "--tlscert".to_string(),
                cert.to_string_lossy().into_owned(),
                "--tlskey".to_string(),
                key.to_string_lossy().into_owned(),
            ]);
        }
        args.push(out);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        let mut cmd = lab.command(&self.host, &args)?;
        cmd.env("PYTHONPATH", servers_dir())
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file);
        let mut child = lab.spawn_command(&mut cmd)?;
        wait_listening(lab, &self.host, self.addr, &mut child, &self.log)?;
        self.child = Some(child);
        Ok(())
    }

    /// Stops it (connections are refused until [`SmtpServer::restart`]).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            if let Ok(pid) = i32::try_from(c.id()) {
                let _ = nix::sys::signal::killpg(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn mails(&self) -> Vec<Mail> {
        read_lines(&self.out).iter().filter_map(Mail::parse).collect()
    }

    /// Waits up to `timeout` for at least `n` mails; returns all there are.
    pub fn wait_mails(&self, n: usize, timeout: Duration) -> Vec<Mail> {
        wait_for(timeout, || self.mails(), |m| m.len() >= n)
    }

    /// Every mail, once one after the first `skip` has a subject containing
    /// `subject` (or `timeout` passed): other mails may arrive first.
    pub fn wait_subject(&self, skip: usize, subject: &str, timeout: Duration) -> Vec<Mail> {
        wait_for(
            timeout,
            || self.mails(),
            |m| m.iter().skip(skip).any(|m| m.subject().contains(subject)),
        )
    }

    /// The server's own log (errors, TLS handshakes).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One request as the webhook receiver got it.
#[derive(Clone, Debug)]
pub struct Request {
    pub at_ms: u64,
    pub path: String,
    /// Lower-case names.
    pub headers: serde_json::Map<String, Value>,
    pub body: String,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .and_then(Value::as_str)
    }

    /// The body as JSON (`Null` if it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// A webhook receiver in a lab host: HTTP, or HTTPS with a [`TestCa`] cert.
#[derive(Debug)]
pub struct WebhookServer {
    pub addr: SocketAddr,
    out: PathBuf,
    child: Child,
}

impl WebhookServer {
    /// Starts one on `addr` in `host` answering `status`; `tls`: (cert, key).
    pub fn start(
        lab: &Lab,
        host: &str,
        addr: SocketAddr,
        dir: &Path,
        status: u16,
        tls: Option<(&Path, &Path)>,
    ) -> io::Result<WebhookServer> {
        std::fs::create_dir_all(dir)?;
        let tag = format!("webhook-{}", addr.port());
        let out = dir.join(format!("{tag}.jsonl"));
        let log = dir.join(format!("{tag}.log"));
        let script = servers_dir().join("webhook_sink.py");
        let mut args: Vec<String> = vec![
            PYTHON.to_string(),
            script.to_string_lossy().into_owned(),
            addr.ip().to_string(),
            addr.port().to_string(),
            out.to_string_lossy().into_owned(),
            "--status".to_string(),
            status.to_string(),
        ];
        if let Some((cert, key)) = tls {
            args.extend([
                "--cert".to_string(),
                cert.to_string_lossy().into_owned(),
                "--key".to_string(),
                key.to_string_lossy().into_owned(),
            ]);
        }
        let mut child = lab.spawn_logged(host, &args, &log)?;
        wait_listening(lab, host, addr, &mut child, &log)?;
        Ok(WebhookServer { addr, out, child })
    }

    pub fn requests(&self) -> Vec<Request> {
        read_lines(&self.out)
            .into_iter()
            .filter_map(|v| {
                Some(Request {
                    at_ms: v["at_ms"].as_u64()?,
                    path: v["path"].as_str()?.to_string(),
                    headers: v["headers"].as_object()?.clone(),
                    body: v["body"].as_str()?.to_string(),
                })
            })
            .collect()
    }

    /// Waits up to `timeout` for a request `pred` accepts; all there are.
    pub fn wait_for(&self, timeout: Duration, pred: impl Fn(&Request) -> bool) -> Vec<Request> {
        wait_for(timeout, || self.requests(), |r| r.iter().any(&pred))
    }
}

impl Drop for WebhookServer {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let _ =
                nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
        }
        let _ = self.child.wait();
    }
}
