//! The daemon loop: plumbing between Linux and the node (baton-node). One
//! task owns the node, so it is never touched concurrently and its timers
//! are exact (a timerfd, not tokio's 1 ms wheel); sockets are read by their
//! own tasks and evaluations run on the policy worker pool, both handing
//! their results over through channels. Every decision is the node's: this
//! loop feeds it time, packets, link events, results and reloads, and has
//! [`Io`] carry out the effects.
//!
//! SIGHUP reloads: the config is read and checked and its policies are
//! compiled off the loop, and then the node applies the change. On any
//! error the running configuration stays, and `baton status` says why.

use std::collections::BTreeMap;
use std::io;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use baton_net::{Netlink, RecvError};
use baton_node::{Node, PresentAddr, Primaries};
use baton_policy::{PolicyEngine, PolicyRunner};
use baton_vrrp::Family;
use tokio::sync::mpsc;

use crate::checks::{self, Components};
use crate::config::{Config, InstanceConfig};
use crate::control::{self, Request};
use crate::io::{Input, Io};
use crate::sinks::Done;
use crate::status::Status;

/// Policy evaluations run on this many threads...
const POLICY_WORKERS: usize = 2;
/// ...with at most this many waiting (more answer "busy" at once).
const POLICY_QUEUE: usize = 64;

/// A reload's config with its policies loaded (off the loop), or why the
/// file does not validate.
type Reloaded = Result<(Box<Config>, Result<Components, String>), String>;

/// The macvlans' bookkeeping, its journal beside the control socket
/// (`baton.sock` -> `baton.sysctls`), after putting back what a run that
/// was killed left changed.
fn recover_sysctls(socket: &std::path::Path) -> baton_net::Vmacs {
    let vmacs = baton_net::Vmacs::with_journal(socket.with_extension("sysctls"));
    match vmacs.recover() {
        Ok(put) if put.is_empty() => {}
        Ok(put) => tracing::warn!(
            "an earlier run ended without putting back the sysctls it changed; put back: {}",
            put.join(" ")
        ),
        Err(e) => tracing::error!("sysctls an earlier run left changed: {e}"),
    }
    vmacs
}

/// Runs the daemon until SIGTERM / SIGINT. `socket` overrides the config's.
pub async fn run(cfg: Config, socket: Option<PathBuf>) -> anyhow::Result<()> {
    // Policies first: a policy that does not load is a startup error.
    let engine = PolicyEngine::new().map_err(|e| anyhow::anyhow!("{e}"))?;
    let t0 = Instant::now();
    let components = checks::load_components(&engine, &cfg).map_err(|e| anyhow::anyhow!("{e}"))?;
    let loaded = components.policies.len() + components.brains.len();
    if loaded > 0 {
        tracing::info!(
            "loaded {} polic{} in {:?} ({} compiled; cache {})",
            loaded,
            if loaded == 1 { "y" } else { "ies" },
            t0.elapsed(),
            engine.compilations(),
            engine
                .cache_dir()
                .map_or_else(|| "off".to_string(), |d| d.display().to_string())
        );
    }
    let (nl, mut link_events) = Netlink::new().await.context("opening netlink")?;
    let links = nl.links().await.context("listing links")?;
    let primaries = resolve_primaries(&nl, &cfg, None).await?;
    let mut node = Node::new(cfg.clone(), &primaries).map_err(|e| anyhow::anyhow!("{e}"))?;
    let now = Instant::now();
    for l in &links {
        node.handle_link(now, &l.name, l.up);
    }
    let names: BTreeMap<u32, String> = links.iter().map(|l| (l.index, l.name.clone())).collect();
    let present: Vec<PresentAddr> = nl
        .addresses(None)
        .await
        .unwrap_or_else(|e| {
            tracing::warn!("listing addresses: {e}");
            Vec::new()
        })
        .into_iter()
        .filter_map(|a| {
            Some(PresentAddr {
                dev: names.get(&a.index)?.clone(),
                addr: a.addr,
                prefix_len: a.prefix_len,
            })
        })
        .collect();

    let (pkt_tx, mut pkt_rx) = mpsc::channel::<Input>(4096);
    let (res_tx, mut res_rx) = mpsc::unbounded_channel::<Input>();
    let (reload_tx, mut reload_rx) = mpsc::unbounded_channel::<Reloaded>();
    let runner = PolicyRunner::new(POLICY_WORKERS, POLICY_QUEUE).context("policy worker threads")?;
    let sock_path = socket.unwrap_or_else(|| cfg.socket.clone());
    let vmacs = recover_sysctls(&sock_path);
    let mut io = Io::new(nl, links, runner, components, cfg.clone(), pkt_tx, res_tx).with_vmacs(vmacs);

    let (ctl_tx, mut ctl_rx) = mpsc::channel::<Request>(16);
    let _control = control::serve(&sock_path, ctl_tx).context("control socket")?;

    use tokio::signal::unix::{SignalKind, signal};
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let timer = baton_net::Timer::new().context("timerfd")?;

    // keepalived's vrrp_startup_delay: the instances wait (a network slow
    // at boot); a stop meanwhile ends the daemon at once.
    if !cfg.startup_delay.is_zero() {
        tracing::info!("startup_delay: the instances start in {:?}", cfg.startup_delay);
        tokio::select! {
            _ = tokio::time::sleep(cfg.startup_delay) => {}
            _ = sigterm.recv() => return Ok(()),
            _ = sigint.recv() => return Ok(()),
        }
    }
    sync_wall_clock(&mut node);
    node.start(Instant::now(), &present);
    io.execute(&mut node).await;
    tracing::info!(
        "baton {} running {} instance(s); control socket {}",
        env!("CARGO_PKG_VERSION"),
        node.instances().count(),
        sock_path.display()
    );
    let mut reloading = false;
    loop {
        let wake = node.poll_timeout();
        let sleep = timer.sleep_until(wake.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600)));
        tokio::select! {
            biased;
            _ = sigterm.recv() => break,
            _ = sigint.recv() => break,
            _ = sighup.recv() => {
                if reloading {
                    tracing::warn!("SIGHUP: a reload is already in progress; ignored");
                } else {
                    begin_reload(&io, &engine, &reload_tx);
                    reloading = true;
                }
            }
            Some(Input::Packet(key, at, r)) = pkt_rx.recv() => match r {
                Ok(rx) => node.handle_packet(at, &key, &rx.payload, &rx.meta),
                Err(RecvError::Drop(reason)) => node.handle_socket_drop(&key, reason),
                Err(RecvError::Io(e)) => tracing::debug!("receive on {key}: {e}"),
            },
            Some(input) = res_rx.recv() => {
                sync_wall_clock(&mut node);
                match input {
                    Input::Check { run, key, result } => node.handle_check_result(Instant::now(), run, &key, *result),
                    Input::Notify(done) => notify_done(&mut node, *done),
                    Input::Brain { instance, run, result } => {
                        node.handle_brain_result(Instant::now(), instance, run, result);
                    }
                    Input::Probe { instance, purpose, result } => {
                        node.handle_probe_result(Instant::now(), instance, purpose, result);
                    }
                    Input::Packet(..) => {}
                }
            }
            Some(loaded) = reload_rx.recv() => {
                reloading = false;
                match loaded {
                    Ok((cfg, policies)) => finish_reload(&mut node, &mut io, *cfg, policies).await,
                    Err(e) => node.reload_failed(Instant::now(), e),
                }
            }
            r = sleep => {
                if let Err(e) = r {
                    tracing::error!("timer: {e}");
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                node.handle_timeout(Instant::now());
            }
            Some(ev) = link_events.recv() => {
                io.link_event(&ev, &mut node);
            }
            Some(req) = ctl_rx.recv() => match req {
                Request::Status(reply) => { let _ = reply.send(status(&node, &io)); }
                Request::NotifyTest(reply) => {
                    // Its own one-shot notifier and tasks: the loop goes on.
                    let cfg = io.cfg.clone();
                    tokio::spawn(async move {
                        let _ = reply.send(crate::notify_cmd::send_all(&cfg).await);
                    });
                }
            },
        }
        io.execute(&mut node).await;
    }
    tracing::info!("stopping: resigning mastership and removing VIPs");
    sync_wall_clock(&mut node);
    node.shutdown(Instant::now());
    io.execute(&mut node).await;
    drain_notices(&mut node, &mut io, &mut res_rx).await;
    Ok(())
}

/// Tells the node the wall-clock time, which it stamps notices with.
fn sync_wall_clock(node: &mut Node) {
    let ms = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    node.set_wall_clock(Instant::now(), ms);
}

fn notify_done(node: &mut Node, done: Done) {
    let now = Instant::now();
    match done {
        Done::Delivery { sink, id, result } => node.handle_notify_delivery(now, &sink, id, result),
        Done::Command {
            instance,
            id,
            name,
            outcome,
        } => node.handle_notify_command(now, &instance, id, &name, outcome),
        Done::Hook { id, result } => node.handle_notify_hook(now, id, result),
    }
}

/// After the stop: lets the stop notice and the notify_stop commands go
/// out, for at most the node's grace; what is left is counted as dropped.
async fn drain_notices(node: &mut Node, io: &mut Io, results: &mut mpsc::UnboundedReceiver<Input>) {
    let deadline = Instant::now() + node.notify_grace();
    while !node.notify_idle() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let wake = node
            .poll_timeout()
            .map_or(left, |t| t.saturating_duration_since(Instant::now()).min(left));
        match tokio::time::timeout(wake, results.recv()).await {
            Ok(Some(Input::Notify(done))) => notify_done(node, *done),
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(_) => node.handle_timeout(Instant::now()),
        }
        io.execute(node).await;
    }
    if !node.notify_idle() {
        tracing::warn!("stopping with notifications still pending; they are dropped");
        node.notify_drop_pending();
    }
}

/// The node's status (uptime from the node's start, on the clock of its
/// transitions), with what only this side knows: process, version, each
/// track's policy digest.
fn status(node: &Node, io: &Io) -> Status {
    let mut s = node.status(Instant::now());
    s.pid = std::process::id();
    s.version = env!("CARGO_PKG_VERSION").into();
    for t in s.instances.iter_mut().flat_map(|i| i.tracks.iter_mut()) {
        t.sha256 = io
            .policies
            .get(&t.policy)
            .map(|p| p.sha256_hex())
            .unwrap_or_default();
    }
    s
}

/// SIGHUP: re-reads and checks the config and loads its policies on a
/// blocking thread (parsing a large file or compiling a policy may take a
/// while; adverts must not wait); the outcome comes back on `tx`.
fn begin_reload(io: &Io, engine: &PolicyEngine, tx: &mpsc::UnboundedSender<Reloaded>) {
    let path = io.cfg.path.clone();
    let opts = crate::config::LoadOptions::of(&io.cfg.format);
    tracing::info!("SIGHUP: reloading {}", path.display());
    let engine = engine.clone();
    let tx = tx.clone();
    tokio::task::spawn_blocking(move || {
        let loaded = match crate::config::load_for_run(&path, &opts) {
            Ok(cfg) => {
                let loaded = checks::load_components(&engine, &cfg);
                Ok((Box::new(cfg), loaded))
            }
            Err(diags) => {
                for d in &diags {
                    tracing::error!("reload: {d}");
                }
                let first = diags.first().map(ToString::to_string).unwrap_or_default();
                Err(format!("{} error(s) in {}: {first}", diags.len(), path.display()))
            }
        };
        let _ = tx.send(loaded);
    });
}

/// The reloaded config with its policies: the node applies it, and from
/// then on its checks run the new policies.
async fn finish_reload(node: &mut Node, io: &mut Io, cfg: Config, components: Result<Components, String>) {
    let components = match components {
        Ok(p) => p,
        Err(e) => {
            node.reload_failed(Instant::now(), e);
            return;
        }
    };
    let primaries = match resolve_primaries(&io.nl, &cfg, Some(node)).await {
        Ok(p) => p,
        Err(e) => {
            node.reload_failed(Instant::now(), format!("{e:#}"));
            return;
        }
    };
    if node.reload(Instant::now(), cfg.clone(), &primaries).is_ok() {
        io.swap(cfg, components);
    }
}

/// Each instance's advert source: `unicast_src`, the address it already
/// uses (a reload keeps it), or the interface's primary address.
async fn resolve_primaries(nl: &Netlink, cfg: &Config, running: Option<&Node>) -> anyhow::Result<Primaries> {
    let mut out = Primaries::new();
    for ic in &cfg.instances {
        let kept = running
            .and_then(|n| n.instance_by_name(&ic.name))
            .filter(|i| {
                i.cfg.interface == ic.interface
                    && i.cfg.family() == ic.family()
                    && i.cfg.unicast_src == ic.unicast_src
            })
            .map(|i| i.primary);
        let primary = match (ic.unicast_src, kept) {
            (Some(a), _) => a,
            (None, Some(a)) => a,
            (None, None) => primary_address(nl, ic, &ic.interface).await?,
        };
        out.insert(ic.name.clone(), primary);
        for h in ic.heartbeat.iter().filter(|h| h.source.is_none()) {
            let kept = running
                .and_then(|n| n.instance_by_name(&ic.name))
                .and_then(|i| i.heartbeat.iter().find(|p| p.socket.interface == h.interface))
                .filter(|p| p.socket.family == ic.family())
                .map(|p| p.socket.source);
            let source = match kept {
                Some(a) => a,
                None => primary_address(nl, ic, &h.interface).await?,
            };
            out.insert_path(ic.name.clone(), h.interface.clone(), source);
        }
    }
    Ok(out)
}

/// The primary address of `interface` (the instance's, or a heartbeat
/// path's); an IPv6 link-local still in duplicate address detection is
/// waited for (up to 5 s) rather than refused.
async fn primary_address(nl: &Netlink, ic: &InstanceConfig, interface: &str) -> anyhow::Result<IpAddr> {
    let link = nl
        .link_by_name(interface)
        .await
        .with_context(|| format!("instance {}: interface {interface}", ic.name))?;
    let family = ic.family();
    let exclude: Vec<IpAddr> = ic.held_addresses().iter().map(|v| v.addr).collect();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match baton_net::primary_address(nl, link.index, family, &exclude).await {
            Err(e) if e.kind() == io::ErrorKind::AddrNotAvailable && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            r => {
                return r.with_context(|| {
                    format!(
                        "instance {}: no {} address on {} to send adverts from",
                        ic.name,
                        match family {
                            Family::V4 => "IPv4",
                            Family::V6 => "IPv6",
                        },
                        interface
                    )
                });
            }
        }
    }
}
