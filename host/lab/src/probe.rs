//! Client-visible availability probes: an ICMP echo pinger and an HTTP GET
//! prober, each running on a thread that entered a lab host's namespace.
//! They record when answers arrive (std `Instant`) and report the gaps.

use std::collections::HashSet;
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::{Lab, enter_netns};

/// What a probe saw, from its start to its stop.
#[derive(Debug, Clone, Default)]
pub struct ProbeReport {
    /// Probes sent (echo requests, or HTTP requests attempted).
    pub sent: u64,
    /// Distinct successful answers (echo replies; HTTP 200 responses).
    pub received: u64,
    /// Echo replies seen more than once (e.g. two VIP holders answering).
    pub duplicates: u64,
    /// Probes that failed locally (send error, connect refused/timeout, non-200).
    pub errors: u64,
    /// From start to stop.
    pub duration: Duration,
    /// Offsets (from start) at which each successful answer arrived, in order.
    pub reply_times: Vec<Duration>,
    /// Longest interval between two consecutive successful answers
    /// (zero with fewer than two). An outage still open at stop is not in
    /// here: see [`ProbeReport::tail_gap`].
    pub max_gap: Duration,
    /// Every interval between consecutive answers longer than the threshold
    /// (30 ms, or 3 probe intervals if that is more): (start offset, length).
    pub gaps: Vec<(Duration, Duration)>,
    /// The threshold used for `gaps`.
    pub gap_threshold: Duration,
}

/// Report of a [`Pinger`].
pub type PingReport = ProbeReport;
/// Report of an [`HttpProber`].
pub type HttpReport = ProbeReport;

impl ProbeReport {
    fn build(
        sent: u64,
        dups: u64,
        errors: u64,
        duration: Duration,
        times: Vec<Duration>,
        interval: Duration,
    ) -> Self {
        let threshold = Duration::from_millis(30).max(interval * 3);
        let mut max_gap = Duration::ZERO;
        let mut gaps = Vec::new();
        for w in times.windows(2) {
            let len = w[1].saturating_sub(w[0]);
            max_gap = max_gap.max(len);
            if len > threshold {
                gaps.push((w[0], len));
            }
        }
        ProbeReport {
            sent,
            received: times.len() as u64,
            duplicates: dups,
            errors,
            duration,
            reply_times: times,
            max_gap,
            gaps,
            gap_threshold: threshold,
        }
    }

    /// Time from the last answer to the stop (the whole duration if none came):
    /// an outage that had not ended when the probe stopped.
    pub fn tail_gap(&self) -> Duration {
        self.duration
            .saturating_sub(self.reply_times.last().copied().unwrap_or(Duration::ZERO))
    }

    /// Longest interval between consecutive answers whose later answer came
    /// after `offset` (from the probe's start): the outage caused by an event
    /// at `offset`, when that is the only one since. `None` if no answer came
    /// after `offset`.
    pub fn max_gap_since(&self, offset: Duration) -> Option<Duration> {
        let mut best = None;
        let mut prev = None;
        for &t in &self.reply_times {
            if t > offset {
                let from = prev.unwrap_or(offset);
                let len = t.saturating_sub(from);
                best = Some(best.map_or(len, |b: Duration| b.max(len)));
            }
            prev = Some(t);
        }
        best
    }

    /// The longest time between consecutive answers whose later answer came in
    /// `(from, to]` (offsets from the probe's start): the outage an event at
    /// `from` caused, if it ended by `to`.
    pub fn gap_ending_in(&self, from: Duration, to: Duration) -> Duration {
        self.reply_times
            .windows(2)
            .filter(|w| w[1] > from && w[1] <= to)
            .map(|w| w[1] - w[0])
            .max()
            .unwrap_or_default()
    }

    /// Fraction of probes answered (0.0..=1.0).
    pub fn delivery(&self) -> f64 {
        if self.sent == 0 {
            0.0
        } else {
            self.received as f64 / self.sent as f64
        }
    }
}

impl std::fmt::Display for ProbeReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "sent {} received {} dup {} errors {} over {:.3}s, max gap {:.1} ms, tail gap {:.1} ms, {} gaps > {} ms",
            self.sent,
            self.received,
            self.duplicates,
            self.errors,
            self.duration.as_secs_f64(),
            self.max_gap.as_secs_f64() * 1e3,
            self.tail_gap().as_secs_f64() * 1e3,
            self.gaps.len(),
            self.gap_threshold.as_millis()
        )
    }
}

fn sleep_until(t: Instant) {
    let now = Instant::now();
    if t > now {
        std::thread::sleep(t - now);
    }
}

/// Spawns a thread that enters `netns`, runs `setup` there (whose `R` part
/// is handed back to the caller), then runs `work` with the `T` part.
fn spawn_in_netns<T, R, S, W>(name: &str, netns: String, setup: S, work: W) -> io::Result<(JoinHandle<()>, R)>
where
    R: Send + 'static,
    S: FnOnce() -> io::Result<(T, R)> + Send + 'static,
    W: FnOnce(T) + Send + 'static,
{
    let (tx, rx) = mpsc::channel::<io::Result<R>>();
    let handle = std::thread::Builder::new().name(name.into()).spawn(move || {
        match enter_netns(&netns).and_then(|()| setup()) {
            Ok((t, r)) => {
                let _ = tx.send(Ok(r));
                work(t);
            }
            Err(e) => {
                let _ = tx.send(Err(e));
            }
        }
    })?;
    match rx.recv() {
        Ok(Ok(r)) => Ok((handle, r)),
        Ok(Err(e)) => {
            let _ = handle.join();
            Err(e)
        }
        Err(_) => Err(io::Error::other("probe thread died during setup")),
    }
}

#[derive(Default)]
struct PingShared {
    sent: u64,
    errors: u64,
    dups: u64,
    seen: HashSet<u16>,
    replies: Vec<Instant>,
}

/// Pings a target every `interval` from a lab host with an ICMP echo
/// ("ping") socket inside that host's namespace, and records when replies
/// come back.
#[derive(Debug)]
pub struct Pinger {
    started: Instant,
    interval: Duration,
    stop_send: Arc<AtomicBool>,
    stop_recv: Arc<AtomicBool>,
    sender: Option<JoinHandle<()>>,
    receiver: Option<JoinHandle<()>>,
    shared: Arc<Mutex<PingShared>>,
}

impl std::fmt::Debug for PingShared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PingShared")
            .field("sent", &self.sent)
            .field("replies", &self.replies.len())
            .finish()
    }
}

impl Pinger {
    /// Starts pinging `target` from `host` every `interval`.
    pub fn start(lab: &Lab, host: &str, target: IpAddr, interval: Duration) -> io::Result<Pinger> {
        let netns = lab.host(host)?.netns.clone();
        let shared = Arc::new(Mutex::new(PingShared::default()));
        let stop_send = Arc::new(AtomicBool::new(false));
        let stop_recv = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        let setup = {
            let shared = shared.clone();
            let stop_recv = stop_recv.clone();
            move || -> io::Result<(UdpSocket, JoinHandle<()>)> {
                let (domain, proto) = match target {
                    IpAddr::V4(_) => (Domain::IPV4, Protocol::ICMPV4),
                    IpAddr::V6(_) => (Domain::IPV6, Protocol::ICMPV6),
                };
                // An ICMP "ping" socket (the lab allows them with ping_group_range).
                let sock = Socket::new(domain, Type::DGRAM, Some(proto))?;
                sock.connect(&SockAddr::from(SocketAddr::new(target, 0)))?;
                // A datagram socket: std's UdpSocket send/recv work on it as they are.
                let sock = UdpSocket::from(sock);
                sock.set_read_timeout(Some(Duration::from_millis(20)))?;
                let rsock = sock.try_clone()?;
                let rx = std::thread::Builder::new()
                    .name("baton-lab-ping-rx".into())
                    .spawn(move || ping_receive(rsock, target.is_ipv6(), &stop_recv, &shared))?;
                Ok((sock, rx))
            }
        };
        let work = {
            let shared = shared.clone();
            let stop_send = stop_send.clone();
            move |sock: UdpSocket| ping_send(&sock, target.is_ipv6(), interval, &stop_send, &shared)
        };
        let (sender, receiver) = spawn_in_netns("baton-lab-ping-tx", netns, setup, work)?;
        let receiver = Some(receiver);
        Ok(Pinger {
            started,
            interval,
            stop_send,
            stop_recv,
            sender: Some(sender),
            receiver,
            shared,
        })
    }

    /// When the pinger started: offsets in the report are from here.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// Replies received so far.
    pub fn received(&self) -> u64 {
        self.shared
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .replies
            .len() as u64
    }

    /// Time since the last reply (since start if none yet).
    pub fn since_last_reply(&self) -> Duration {
        let last = self
            .shared
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .replies
            .last()
            .copied();
        last.unwrap_or(self.started).elapsed()
    }

    /// Stops sending, waits a moment for replies in flight, and reports.
    pub fn stop(mut self) -> PingReport {
        self.finish()
    }

    fn finish(&mut self) -> PingReport {
        self.stop_send.store(true, Ordering::SeqCst);
        if let Some(h) = self.sender.take() {
            let _ = h.join();
        }
        let stopped = Instant::now();
        std::thread::sleep(Duration::from_millis(100).max(self.interval * 2));
        self.stop_recv.store(true, Ordering::SeqCst);
        if let Some(h) = self.receiver.take() {
            let _ = h.join();
        }
        let s = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        let times = s
            .replies
            .iter()
            .map(|t| t.saturating_duration_since(self.started))
            .collect();
        ProbeReport::build(
            s.sent,
            s.dups,
            s.errors,
            stopped - self.started,
            times,
            self.interval,
        )
    }
}

impl Drop for Pinger {
    fn drop(&mut self) {
        if self.sender.is_some() || self.receiver.is_some() {
            let _ = self.finish();
        }
    }
}

fn ping_send(sock: &UdpSocket, v6: bool, interval: Duration, stop: &AtomicBool, shared: &Mutex<PingShared>) {
    let mut seq: u16 = 0;
    let mut next = Instant::now();
    while !stop.load(Ordering::SeqCst) {
        sleep_until(next);
        // ICMP echo request; the kernel fills in the identifier and checksum.
        let mut pkt = [0u8; 16];
        pkt[0] = if v6 { 128 } else { 8 };
        pkt[6..8].copy_from_slice(&seq.to_be_bytes());
        pkt[8..16].copy_from_slice(b"batonlab");
        let res = sock.send(&pkt);
        {
            let mut s = shared.lock().unwrap_or_else(|e| e.into_inner());
            s.sent += 1;
            if res.is_err() {
                s.errors += 1;
            }
        }
        seq = seq.wrapping_add(1);
        next += interval;
        let now = Instant::now();
        if next < now {
            next = now;
        }
    }
}

fn ping_receive(sock: UdpSocket, v6: bool, stop: &AtomicBool, shared: &Mutex<PingShared>) {
    let reply_type = if v6 { 129 } else { 0 };
    let mut buf = [0u8; 1500];
    while !stop.load(Ordering::SeqCst) {
        match sock.recv(&mut buf) {
            Ok(n) if n >= 8 => {
                let now = Instant::now();
                let hdr = &buf[..8];
                if hdr[0] != reply_type {
                    continue;
                }
                let seq = u16::from_be_bytes([hdr[6], hdr[7]]);
                let mut s = shared.lock().unwrap_or_else(|e| e.into_inner());
                if s.seen.insert(seq) {
                    s.replies.push(now);
                } else {
                    s.dups += 1;
                }
                // Sequence numbers wrap after 65536 probes (11 min at 10 ms).
                if s.seen.len() > 30_000 {
                    s.seen.clear();
                }
            }
            Ok(_) => {}
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// An HTTP GET prober: `GET http://TARGET/` every `interval` from a lab host,
/// each request with a short timeout, recording when 200 responses arrive.
#[derive(Debug)]
pub struct HttpProber {
    started: Instant,
    interval: Duration,
    stop: Arc<AtomicBool>,
    worker: Option<JoinHandle<()>>,
    shared: Arc<Mutex<HttpShared>>,
}

#[derive(Debug, Default)]
struct HttpShared {
    sent: u64,
    errors: u64,
    ok: Vec<Instant>,
}

impl HttpProber {
    /// Probes `http://target:port/` from `host` every `interval`, 100 ms timeout.
    pub fn start(
        lab: &Lab,
        host: &str,
        target: IpAddr,
        port: u16,
        interval: Duration,
    ) -> io::Result<HttpProber> {
        Self::start_with_timeout(
            lab,
            host,
            SocketAddr::new(target, port),
            interval,
            Duration::from_millis(100),
        )
    }

    /// Like [`HttpProber::start`] with a given per-request timeout (connect,
    /// and then the whole response).
    pub fn start_with_timeout(
        lab: &Lab,
        host: &str,
        target: SocketAddr,
        interval: Duration,
        timeout: Duration,
    ) -> io::Result<HttpProber> {
        let netns = lab.host(host)?.netns.clone();
        let shared = Arc::new(Mutex::new(HttpShared::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        let work = {
            let shared = shared.clone();
            let stop = stop.clone();
            move |()| {
                let mut next = Instant::now();
                while !stop.load(Ordering::SeqCst) {
                    sleep_until(next);
                    let ok = http_get_200(target, timeout);
                    let now = Instant::now();
                    {
                        let mut s = shared.lock().unwrap_or_else(|e| e.into_inner());
                        s.sent += 1;
                        if ok {
                            s.ok.push(now);
                        } else {
                            s.errors += 1;
                        }
                    }
                    next += interval;
                    if next < now {
                        next = now;
                    }
                }
            }
        };
        let (worker, ()) = spawn_in_netns("baton-lab-http", netns, || Ok(((), ())), work)?;
        Ok(HttpProber {
            started,
            interval,
            stop,
            worker: Some(worker),
            shared,
        })
    }

    /// When the prober started: offsets in the report are from here.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// Successful (200) responses so far.
    pub fn received(&self) -> u64 {
        self.shared.lock().unwrap_or_else(|e| e.into_inner()).ok.len() as u64
    }

    /// Whether the target has answered steadily for the last `span`: answers
    /// since at least `span` ago, none of them (nor now) more than `hole`
    /// after the one before.
    pub fn steady(&self, span: Duration, hole: Duration) -> bool {
        let s = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let (Some(&first), Some(&last), Some(from)) = (s.ok.first(), s.ok.last(), now.checked_sub(span))
        else {
            return false;
        };
        if first > from || now - last > hole {
            return false;
        }
        // From the last answer before the window on.
        let start = s.ok.partition_point(|t| *t < from).saturating_sub(1);
        s.ok[start..].windows(2).all(|w| w[1] - w[0] <= hole)
    }

    /// Stops and reports.
    pub fn stop(mut self) -> HttpReport {
        self.finish()
    }

    fn finish(&mut self) -> HttpReport {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.worker.take() {
            let _ = h.join();
        }
        let stopped = Instant::now();
        let s = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        let times =
            s.ok.iter()
                .map(|t| t.saturating_duration_since(self.started))
                .collect();
        ProbeReport::build(s.sent, 0, s.errors, stopped - self.started, times, self.interval)
    }
}

impl Drop for HttpProber {
    fn drop(&mut self) {
        if self.worker.is_some() {
            let _ = self.finish();
        }
    }
}

/// One `GET /` over HTTP/1.0; true on a 200 status line within `timeout`.
pub fn http_get_200(target: SocketAddr, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    let Ok(mut s) = TcpStream::connect_timeout(&target, timeout) else {
        return false;
    };
    let _ = s.set_nodelay(true);
    let remaining = |d: Instant| {
        d.saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1))
    };
    if s.set_write_timeout(Some(remaining(deadline))).is_err() {
        return false;
    }
    let host = match target.ip() {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => format!("[{a}]"),
    };
    let req = format!("GET / HTTP/1.0\r\nHost: {host}\r\nUser-Agent: baton-lab\r\nConnection: close\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut buf = [0u8; 64];
    let mut got = 0;
    while got < 12 {
        if Instant::now() >= deadline || s.set_read_timeout(Some(remaining(deadline))).is_err() {
            return false;
        }
        match s.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(_) => return false,
        }
    }
    let line = &buf[..got];
    line.len() >= 12 && line.starts_with(b"HTTP/1.") && &line[8..12] == b" 200"
}

/// What [`measure_gap`] saw.
#[derive(Debug, Clone)]
pub struct GapMeasurement {
    /// The whole probe report.
    pub report: PingReport,
    /// When the event happened, as an offset from the pinger's start.
    pub event_at: std::time::Duration,
    /// The client-visible outage caused by the event: the longest interval
    /// between consecutive replies that ended after the event (None: the
    /// target never answered again).
    pub gap: Option<std::time::Duration>,
    /// From the start of the event (so including the time `event` itself
    /// took, e.g. a clean stop that waits for the process to exit) to when
    /// `recovered` first returned true.
    pub recovered_after: Option<std::time::Duration>,
}

/// Pings `target` from the client every 10 ms; once the replies have been
/// steady for `settle`, runs `event`, then polls `recovered` (every 10 ms, up
/// to `timeout`), keeps pinging one more second, and reports the outage.
///
/// # Errors
/// If the pinger cannot start, the target never answers steadily before the
/// event (within 10 s), or `event` fails.
pub fn measure_gap(
    lab: &Lab,
    target: std::net::IpAddr,
    settle: std::time::Duration,
    event: impl FnOnce() -> std::io::Result<()>,
    recovered: impl FnMut() -> bool,
    timeout: std::time::Duration,
) -> std::io::Result<GapMeasurement> {
    use std::time::{Duration, Instant};
    let pinger = Pinger::start(lab, super::CLIENT, target, Duration::from_millis(10))?;
    // Steady: answers for `settle` without a hole longer than 50 ms.
    let mut steady_since: Option<Instant> = None;
    let ok = super::wait_until(
        Duration::from_secs(10) + settle,
        Duration::from_millis(10),
        || {
            if pinger.received() > 0 && pinger.since_last_reply() < Duration::from_millis(50) {
                let since = *steady_since.get_or_insert_with(Instant::now);
                since.elapsed() >= settle
            } else {
                steady_since = None;
                false
            }
        },
    );
    if !ok {
        let r = pinger.stop();
        return Err(std::io::Error::other(format!(
            "{target} never answered steadily before the event: {r}"
        )));
    }
    let event_instant = Instant::now();
    event()?;
    let rec = super::wait_until(timeout, Duration::from_millis(10), recovered);
    let recovered_after = rec.then(|| event_instant.elapsed());
    std::thread::sleep(Duration::from_secs(1));
    let event_at = event_instant - pinger.started();
    let report = pinger.stop();
    let gap = report.max_gap_since(event_at);
    Ok(GapMeasurement {
        report,
        event_at,
        gap,
        recovered_after,
    })
}
