//! baton-lab: the network-namespace lab that the `baton lab` demo, the
//! end-to-end tests (baton-e2e) and the benchmarks run on. It owns the
//! topology (a switch namespace with a bridge, the VRRP nodes and the client),
//! commands and processes inside those namespaces ([`Lab::exec`],
//! [`LabProcess`]), link and VRRP faults, the client's probes ([`Pinger`],
//! [`HttpProber`], [`measure_gap`]) and HTTP servers ([`HttpServer`]),
//! running keepalived next to Baton ([`Keepalived`]), and the cleanup of
//! everything it made. It knows nothing of Baton's own types: the daemon is
//! just a program it starts.
//!
//! Topology: one "switch" namespace holding a bridge `br0` (multicast snooping
//! off, so VRRP adverts flood), and one namespace per host (`lb01`, `lb02`, ...
//! and `client`), each with a veth `eth0` whose peer sits in the switch
//! namespace, enslaved to the bridge.
//!
//! | host       | IPv4              | IPv6                 |
//! |------------|-------------------|----------------------|
//! | `lbNN`     | 192.0.2.(10+N)/24 | 2001:db8::(10+N)/64  |
//! | `client`   | 192.0.2.200/24    | 2001:db8::200/64     |
//!
//! ([`LabSpec::node_base`] moves the nodes: 4 gives the seed's lb01 .5 and
//! lb02 .6.) [`Lab::add_lan`] adds a second LAN (the seed's eth1), a bridge
//! of its own in the switch namespace.
//!
//! Isolation (opt-in, [`LabSpec::isolated`]): each node also gets a PID
//! namespace, a /proc and a /tmp of its own (see `pidns.rs`), so that `ps -C
//! nginx` on lb01 does not see lb02's nginx; [`Lab::install_services`] then
//! gives a node the seed's services: a fake nginx and a `systemctl` for it
//! and for the node daemon (`services.rs`).
//!
//! Only documentation ranges (192.0.2.0/24, 198.51.100.0/24, 2001:db8::/32)
//! are ever configured, and the root namespace is never touched. Every
//! namespace name starts with a per-run prefix `bt<pid>x<counter>-`, and
//! everything is removed when the [`Lab`] is dropped (also while unwinding
//! from a panic), by [`install_signal_cleanup`] on Ctrl-C, and, for runs that
//! crashed, by [`cleanup_stale`].
//!
//! Everything here is synchronous: it drives `ip`, `nft` and `sysctl` with
//! [`std::process::Command`]; the probes use a dedicated thread that entered
//! the client's namespace with `setns(2)`.

mod keepalived;
mod netns;
mod pidns;
mod probe;
mod process;
mod server;
mod services;

pub use keepalived::{KaInstance, KaScript, Keepalived, keepalived_conf, keepalived_conf_multi};
pub use netns::{enter_netns, netns_path};
/// Signals, for [`LabProcess::signal`].
pub use nix::sys::signal::Signal;
pub use probe::{
    GapMeasurement, HttpProber, HttpReport, PingReport, Pinger, ProbeReport, http_get_200, measure_gap,
};
pub use process::LabProcess;
pub use server::{HttpServer, serve as serve_http};

use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, killpg};
use nix::unistd::Pid;

/// Every lab namespace name starts with this, followed by `<pid>x<counter>-`.
pub const PREFIX_BASE: &str = "bt";

/// Name of the host that plays the client.
pub const CLIENT: &str = "client";

/// Name of the nftables table that [`Lab::block_vrrp`] creates.
const NFT_BLOCK_TABLE: &str = "baton_lab_block_vrrp";

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Prefixes of the labs alive in this process, for the signal handler.
fn live_prefixes() -> &'static Mutex<HashSet<String>> {
    static LIVE: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    LIVE.get_or_init(|| Mutex::new(HashSet::new()))
}

/// What to build.
#[derive(Debug, Clone)]
pub struct LabSpec {
    /// Number of VRRP nodes, named `lb01`, `lb02`, ... (1..=99).
    pub nodes: usize,
    /// Whether to create the `client` host (192.0.2.200).
    pub client: bool,
    /// Node N's addresses are 192.0.2.(node_base + N) and
    /// 2001:db8::(node_base + N): 10 (lb01 is .11) unless changed; the
    /// nodes must stay below the client's .200.
    pub node_base: u8,
    /// The directory of the lab's helper programs (`baton-lab-init`,
    /// `baton-lab-httpd`: cargo's target/debug). When set, every node runs
    /// in a PID namespace of its own and can get host services.
    pub helpers: Option<PathBuf>,
}

impl Default for LabSpec {
    fn default() -> Self {
        LabSpec::new(2)
    }
}

impl LabSpec {
    /// `nodes` nodes and a client.
    pub fn new(nodes: usize) -> Self {
        LabSpec {
            nodes,
            client: true,
            node_base: 10,
            helpers: None,
        }
    }

    /// Node N at 192.0.2.(base + N).
    pub fn node_base(mut self, base: u8) -> Self {
        self.node_base = base;
        self
    }

    /// A PID namespace per node, made by the helpers in `helpers`.
    pub fn isolated(mut self, helpers: &Path) -> Self {
        self.helpers = Some(helpers.to_path_buf());
        self
    }
}

/// Name of node `i` (1-based): `lb01`, `lb02`, ...
pub fn node_name(i: usize) -> String {
    format!("lb{i:02}")
}

#[derive(Debug, Clone)]
struct Host {
    name: String,
    netns: String,
    v4: Ipv4Addr,
    v6: Ipv6Addr,
    /// PID 1 of the host's PID namespace, when isolated.
    init: Option<u32>,
}

/// A running lab. Dropping it kills every process inside its namespaces and
/// deletes them.
#[derive(Debug)]
pub struct Lab {
    prefix: String,
    switch: String,
    hosts: Vec<Host>,
    dir: PathBuf,
    /// Process group ids of what [`Lab::spawn`] started.
    children: Mutex<Vec<u32>>,
    /// Where the helpers are, for an isolated lab.
    helpers: Option<PathBuf>,
    /// The holders of the nodes' PID namespaces.
    inits: Mutex<Vec<Child>>,
    /// Hosts with services: the directory put first on their PATH.
    services: Mutex<HashMap<String, PathBuf>>,
    /// Set once the lab is torn down, so Drop does not do it twice.
    torn_down: bool,
}

impl Lab {
    /// Builds the lab. On error, whatever was created is removed again.
    pub fn new(spec: LabSpec) -> io::Result<Lab> {
        if spec.nodes == 0 || spec.nodes > 99 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "LabSpec.nodes must be 1..=99",
            ));
        }
        if usize::from(spec.node_base) + spec.nodes >= 200 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "LabSpec.node_base + nodes must stay below the client's 192.0.2.200",
            ));
        }
        // Once per process: remove what crashed runs (dead pids) left behind.
        static STALE: OnceLock<()> = OnceLock::new();
        STALE.get_or_init(|| {
            if let Ok(gone) = cleanup_stale(PREFIX_BASE)
                && !gone.is_empty()
            {
                eprintln!(
                    "baton lab: removed stale namespaces of dead runs: {}",
                    gone.join(" ")
                );
            }
        });
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let prefix = format!("{PREFIX_BASE}{}x{n}-", std::process::id());
        let mut hosts = Vec::new();
        for i in 1..=spec.nodes {
            let name = node_name(i);
            let n = usize::from(spec.node_base) + i;
            hosts.push(Host {
                netns: format!("{prefix}{name}"),
                name,
                v4: Ipv4Addr::new(192, 0, 2, u8::try_from(n).unwrap_or(u8::MAX)),
                // 2001:db8::11 for lb01: the decimal digits read as hex, to match the IPv4 address.
                v6: doc_v6(n),
                init: None,
            });
        }
        if spec.client {
            hosts.push(Host {
                name: CLIENT.to_string(),
                netns: format!("{prefix}{CLIENT}"),
                v4: Ipv4Addr::new(192, 0, 2, 200),
                v6: doc_v6(200),
                init: None,
            });
        }
        let dir = std::env::temp_dir().join(format!("baton-lab-{prefix}"));
        live_prefixes()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(prefix.clone());
        let mut lab = Lab {
            switch: format!("{prefix}switch"),
            prefix,
            hosts,
            dir,
            children: Mutex::new(Vec::new()),
            helpers: spec.helpers,
            inits: Mutex::new(Vec::new()),
            services: Mutex::new(HashMap::new()),
            torn_down: false,
        };
        // If this fails, dropping `lab` removes what was built so far.
        lab.build()?;
        Ok(lab)
    }

    fn build(&mut self) -> io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        run_ok(Command::new("ip").args(["netns", "add", &self.switch]))?;
        for h in &self.hosts {
            run_ok(Command::new("ip").args(["netns", "add", &h.netns]))?;
        }
        // The switch: a bridge that floods multicast, no STP, forwarding at once.
        let mut batch = String::new();
        batch.push_str("link set lo up\n");
        batch.push_str(
            "link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0 mcast_querier 0\n",
        );
        for h in &self.hosts {
            let port = switch_port(&h.name);
            let _ = writeln!(
                batch,
                "link add {port} type veth peer name eth0 netns {}",
                h.netns
            );
            let _ = writeln!(batch, "link set {port} master br0");
            let _ = writeln!(batch, "link set {port} up");
        }
        batch.push_str("link set br0 up\n");
        self.sysctl_ns(&self.switch, &[("net.ipv6.conf.all.disable_ipv6", "0")])?;
        ip_batch(&self.switch, &batch)?;
        for h in self.hosts.clone() {
            self.sysctl_ns(
                &h.netns,
                &[
                    ("net.ipv6.conf.all.disable_ipv6", "0"),
                    ("net.ipv6.conf.default.disable_ipv6", "0"),
                    ("net.ipv6.conf.eth0.disable_ipv6", "0"),
                    ("net.ipv4.ip_nonlocal_bind", "1"),
                    ("net.ipv6.ip_nonlocal_bind", "1"),
                    ("net.ipv6.conf.all.accept_dad", "0"),
                    ("net.ipv6.conf.default.accept_dad", "0"),
                    ("net.ipv6.conf.eth0.accept_dad", "0"),
                    // Unprivileged ICMP echo sockets, which the probes use.
                    ("net.ipv4.ping_group_range", "0 2147483647"),
                ],
            )?;
            let batch = format!(
                "link set lo up\naddr add {}/24 dev eth0\naddr add {}/64 dev eth0 nodad\nlink set eth0 up\n",
                h.v4, h.v6
            );
            ip_batch(&h.netns, &batch)?;
        }
        // Wait for every eth0 to have carrier and a usable link-local address.
        let names: Vec<String> = self.hosts.iter().map(|h| h.name.clone()).collect();
        let ready = wait_until(Duration::from_secs(10), Duration::from_millis(20), || {
            names.iter().all(|n| self.eth0_ready(n))
        });
        if !ready {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "lab links did not come up within 10 s",
            ));
        }
        self.start_inits()
    }

    /// For an isolated lab, a PID namespace per node, held by its own init.
    fn start_inits(&mut self) -> io::Result<()> {
        let Some(helpers) = self.helpers.clone() else {
            return Ok(());
        };
        for h in self.hosts.iter_mut().filter(|h| h.name != CLIENT) {
            let (child, pid1) = pidns::start_init(&helpers, &h.netns, &self.dir)?;
            self.inits.lock().unwrap_or_else(|e| e.into_inner()).push(child);
            h.init = Some(pid1);
        }
        Ok(())
    }

    /// Whether `host` runs in a PID namespace of its own.
    pub fn is_isolated(&self, host: &str) -> bool {
        self.host(host).is_ok_and(|h| h.init.is_some())
    }

    fn eth0_ready(&self, host: &str) -> bool {
        let Ok(out) = self.ip(host, &["-o", "addr", "show", "dev", "eth0"]) else {
            return false;
        };
        let text = String::from_utf8_lossy(&out.stdout);
        let link_local = text
            .lines()
            .any(|l| l.contains("fe80::") && !l.contains("tentative"));
        let Ok(link) = self.ip(host, &["-o", "link", "show", "dev", "eth0"]) else {
            return false;
        };
        let link = String::from_utf8_lossy(&link.stdout);
        link_local && link.contains("LOWER_UP")
    }

    fn sysctl_ns(&self, netns: &str, kv: &[(&str, &str)]) -> io::Result<()> {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", netns, "sysctl", "-q", "-w"]);
        for (k, v) in kv {
            cmd.arg(format!("{k}={v}"));
        }
        run_ok(&mut cmd).map(|_| ())
    }

    /// The per-run prefix of every namespace name, e.g. `bt1234x0-`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// A directory for this lab's files (configs, logs); removed on drop
    /// unless `BATON_LAB_KEEP` is set in the environment.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Names of the hosts: the nodes first, then the client.
    pub fn hosts(&self) -> Vec<String> {
        self.hosts.iter().map(|h| h.name.clone()).collect()
    }

    /// Names of the VRRP nodes (`lb01`, ...).
    pub fn nodes(&self) -> Vec<String> {
        self.hosts
            .iter()
            .filter(|h| h.name != CLIENT)
            .map(|h| h.name.clone())
            .collect()
    }

    fn host(&self, host: &str) -> io::Result<&Host> {
        self.hosts
            .iter()
            .find(|h| h.name == host)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no host {host:?} in this lab")))
    }

    /// The actual network namespace name of `host` (prefix + host).
    ///
    /// # Panics
    /// If `host` is not part of this lab.
    pub fn netns_name(&self, host: &str) -> String {
        match self.host(host) {
            Ok(h) => h.netns.clone(),
            Err(e) => panic!("{e}"),
        }
    }

    /// The switch namespace's name.
    pub fn switch_netns(&self) -> &str {
        &self.switch
    }

    /// The host's own IPv4 address on eth0.
    ///
    /// # Panics
    /// If `host` is not part of this lab.
    pub fn ipv4(&self, host: &str) -> Ipv4Addr {
        match self.host(host) {
            Ok(h) => h.v4,
            Err(e) => panic!("{e}"),
        }
    }

    /// The host's own global IPv6 address on eth0.
    ///
    /// # Panics
    /// If `host` is not part of this lab.
    pub fn ipv6(&self, host: &str) -> Ipv6Addr {
        match self.host(host) {
            Ok(h) => h.v6,
            Err(e) => panic!("{e}"),
        }
    }

    /// A command that runs `args` inside `host`'s namespace
    /// (`ip netns exec NETNS args...`), in a process group of its own. On an
    /// isolated host it also enters the host's PID and mount namespaces
    /// (`baton-lab-init enter`, which passes signals on and exits as `args`
    /// does), and on a host with services the services' directory comes
    /// first on its PATH.
    pub fn command<S: AsRef<OsStr>>(&self, host: &str, args: &[S]) -> io::Result<Command> {
        let h = self.host(host)?;
        let mut cmd = match (h.init, &self.helpers) {
            (Some(pid1), Some(helpers)) => pidns::enter_command(helpers, pid1, args),
            _ => {
                let mut cmd = Command::new("ip");
                cmd.args(["netns", "exec"]).arg(&h.netns).args(args);
                cmd
            }
        };
        if let Some(bin) = self.services_bin(host) {
            let path = std::env::var_os("PATH").unwrap_or_default();
            let dirs = std::iter::once(bin).chain(std::env::split_paths(&path));
            cmd.env("PATH", std::env::join_paths(dirs).map_err(io::Error::other)?);
        }
        cmd.process_group(0);
        Ok(cmd)
    }

    /// Runs `args` inside `host`'s namespace and waits for it.
    pub fn exec<S: AsRef<OsStr>>(&self, host: &str, args: &[S]) -> io::Result<Output> {
        let mut cmd = self.command(host, args)?;
        cmd.stdin(Stdio::null()).output()
    }

    /// Like [`Lab::exec`], but a non-zero exit status is an error carrying stderr.
    pub fn exec_ok<S: AsRef<OsStr>>(&self, host: &str, args: &[S]) -> io::Result<Output> {
        let mut cmd = self.command(host, args)?;
        run_ok(cmd.stdin(Stdio::null()))
    }

    /// `ip -n NETNS args...` for `host`.
    pub fn ip(&self, host: &str, args: &[&str]) -> io::Result<Output> {
        let h = self.host(host)?;
        Command::new("ip")
            .arg("-n")
            .arg(&h.netns)
            .args(args)
            .stdin(Stdio::null())
            .output()
    }

    /// Starts `args` inside `host`'s namespace, stdin and stdout/stderr null.
    /// The process is killed (with its process group) when the lab is dropped.
    pub fn spawn<S: AsRef<OsStr>>(&self, host: &str, args: &[S]) -> io::Result<Child> {
        let mut cmd = self.command(host, args)?;
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        self.spawn_command(&mut cmd)
    }

    /// Starts `args` inside `host`'s namespace with stdout and stderr appended
    /// to `log`. Tracked like [`Lab::spawn`].
    pub fn spawn_logged<S: AsRef<OsStr>>(&self, host: &str, args: &[S], log: &Path) -> io::Result<Child> {
        let file = std::fs::OpenOptions::new().create(true).append(true).open(log)?;
        let mut cmd = self.command(host, args)?;
        cmd.stdin(Stdio::null()).stdout(file.try_clone()?).stderr(file);
        self.spawn_command(&mut cmd)
    }

    /// Spawns a command made with [`Lab::command`] (or any command that
    /// enters a lab namespace) and tracks it for cleanup. Commands from
    /// [`Lab::command`] lead their own process group, which is what is killed.
    pub fn spawn_command(&self, cmd: &mut Command) -> io::Result<Child> {
        let child = cmd.spawn()?;
        self.children
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(child.id());
        Ok(child)
    }

    /// Addresses on `host`'s eth0 (IPv4 and IPv6, link-local included).
    pub fn addresses(&self, host: &str) -> Vec<(IpAddr, u8)> {
        self.addresses_on(host, "eth0")
    }

    /// Addresses on any interface of `host`.
    pub fn addresses_on(&self, host: &str, dev: &str) -> Vec<(IpAddr, u8)> {
        match self.ip(host, &["-o", "addr", "show", "dev", dev]) {
            Ok(out) => parse_ip_o_addr(&String::from_utf8_lossy(&out.stdout)),
            Err(_) => Vec::new(),
        }
    }

    /// Which node currently has `vip` on its eth0 (the first one if several
    /// do; see [`Lab::holders`] for split brain).
    pub fn holder(&self, vip: IpAddr) -> Option<String> {
        self.holders(vip).into_iter().next()
    }

    /// Every node that has `vip` on its eth0.
    pub fn holders(&self, vip: IpAddr) -> Vec<String> {
        self.holders_on("eth0", vip)
    }

    /// Sets eth0 of `host` down ("master link down").
    pub fn link_down(&self, host: &str) -> io::Result<()> {
        run_ok(Command::new("ip").args([
            "-n",
            &self.netns_name_checked(host)?,
            "link",
            "set",
            "eth0",
            "down",
        ]))
        .map(|_| ())
    }

    /// Sets eth0 of `host` up again. The kernel drops IPv6 addresses when
    /// a link goes admin down (`keep_addr_on_down` is 0, as on a real host),
    /// so this also puts the host's own addresses back; VIPs are left to
    /// whatever manages them.
    pub fn link_up(&self, host: &str) -> io::Result<()> {
        let h = self.host(host)?;
        let batch = format!(
            "link set eth0 up\naddr replace {}/24 dev eth0\naddr replace {}/64 dev eth0 nodad\n",
            h.v4, h.v6
        );
        ip_batch(&h.netns, &batch)
    }

    /// Gives `host` a second link `name`, up, no address: a veth whose
    /// peer (`<name>p`) stays in the host's namespace, up, so that `name`
    /// has carrier (what a second NIC is to a tracked-interface test). The
    /// default layout has only eth0; the link goes with the namespace.
    pub fn add_link(&self, host: &str, name: &str) -> io::Result<()> {
        let ns = self.netns_name_checked(host)?;
        let peer = format!("{name}p");
        let ip = |args: &[&str]| run_ok(Command::new("ip").arg("-n").arg(&ns).args(args)).map(|_| ());
        ip(&["link", "add", name, "type", "veth", "peer", "name", &peer])?;
        ip(&["link", "set", &peer, "up"])?;
        self.set_link(host, name, true)
    }

    /// A second LAN: a bridge `br-NAME` in the switch namespace and, in each
    /// of `members` (host, address with prefix length, e.g.
    /// `("lb01", "192.0.2.133/25")`), a link `name` on it with that address,
    /// up. Waits until every member's link has carrier. The seed's second
    /// network on eth1 is one.
    pub fn add_lan(&self, name: &str, members: &[(&str, &str)]) -> io::Result<()> {
        let bridge = truncate15(&format!("br-{name}"));
        let mut batch = format!(
            "link add {bridge} type bridge stp_state 0 forward_delay 0 mcast_snooping 0 mcast_querier 0\n"
        );
        for (host, _) in members {
            let port = truncate15(&format!("{name}-{host}"));
            let ns = self.netns_name_checked(host)?;
            let _ = writeln!(batch, "link add {port} type veth peer name {name} netns {ns}");
            let _ = writeln!(batch, "link set {port} master {bridge}");
            let _ = writeln!(batch, "link set {port} up");
        }
        let _ = writeln!(batch, "link set {bridge} up");
        ip_batch(&self.switch, &batch)?;
        for (host, addr) in members {
            let ns = self.netns_name_checked(host)?;
            ip_batch(&ns, &format!("addr add {addr} dev {name}\nlink set {name} up\n"))?;
        }
        let up = wait_until(Duration::from_secs(10), Duration::from_millis(20), || {
            members.iter().all(|(host, _)| {
                self.ip(host, &["-o", "link", "show", "dev", name])
                    .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("LOWER_UP"))
            })
        });
        if up {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("LAN {name} did not come up within 10 s"),
            ))
        }
    }

    /// Every node that has `addr` on link `dev` (the holders of a VIP on a
    /// second LAN).
    pub fn holders_on(&self, dev: &str, addr: IpAddr) -> Vec<String> {
        self.nodes()
            .into_iter()
            .filter(|h| self.addresses_on(h, dev).iter().any(|(a, _)| *a == addr))
            .collect()
    }

    /// Sets link `name` of `host` up or down (any link but eth0, whose
    /// addresses [`Lab::link_up`] puts back).
    pub fn set_link(&self, host: &str, name: &str, up: bool) -> io::Result<()> {
        let ns = self.netns_name_checked(host)?;
        let state = if up { "up" } else { "down" };
        run_ok(Command::new("ip").args(["-n", &ns, "link", "set", name, state])).map(|_| ())
    }

    /// Sets `host`'s port on the switch down: the host sees its carrier go
    /// (NO-CARRIER), like a pulled cable, while its eth0 stays admin up.
    pub fn cable_cut(&self, host: &str) -> io::Result<()> {
        self.host(host)?;
        run_ok(Command::new("ip").args(["-n", &self.switch, "link", "set", &switch_port(host), "down"]))
            .map(|_| ())
    }

    /// Undoes [`Lab::cable_cut`].
    pub fn cable_plug(&self, host: &str) -> io::Result<()> {
        self.host(host)?;
        run_ok(Command::new("ip").args(["-n", &self.switch, "link", "set", &switch_port(host), "up"]))
            .map(|_| ())
    }

    fn netns_name_checked(&self, host: &str) -> io::Result<String> {
        Ok(self.host(host)?.netns.clone())
    }

    /// Drops VRRP (IP protocol 112, IPv4 and IPv6) in and out of `host`
    /// with an nftables table of its own in that namespace.
    pub fn block_vrrp(&self, host: &str) -> io::Result<()> {
        let rules = format!(
            "table inet {NFT_BLOCK_TABLE} {{\n\
             \tchain in {{ type filter hook input priority -300; policy accept; meta l4proto 112 counter drop; }}\n\
             \tchain out {{ type filter hook output priority -300; policy accept; meta l4proto 112 counter drop; }}\n\
             }}\n"
        );
        self.nft_stdin(host, &rules)
    }

    /// Removes what [`Lab::block_vrrp`] added (no error if it was not there).
    pub fn unblock_vrrp(&self, host: &str) -> io::Result<()> {
        // `destroy` would be quieter but needs nftables >= 1.0.8; delete and
        // tolerate "No such file or directory".
        let out = self.exec(host, &["nft", "delete", "table", "inet", NFT_BLOCK_TABLE])?;
        if out.status.success() || String::from_utf8_lossy(&out.stderr).contains("No such file") {
            Ok(())
        } else {
            Err(io::Error::other(format!(
                "nft delete table failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )))
        }
    }

    /// Packets dropped so far by [`Lab::block_vrrp`]'s rules in `host`
    /// (input, output), or None if the table is not there.
    pub fn vrrp_block_counters(&self, host: &str) -> Option<(u64, u64)> {
        let out = self
            .exec(host, &["nft", "list", "table", "inet", NFT_BLOCK_TABLE])
            .ok()?;
        if !out.status.success() {
            return None;
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let mut counts = text.lines().filter_map(|l| {
            let mut it = l.split_whitespace().skip_while(|w| *w != "packets");
            it.next()?;
            it.next()?.parse::<u64>().ok()
        });
        Some((counts.next()?, counts.next()?))
    }

    fn nft_stdin(&self, host: &str, rules: &str) -> io::Result<()> {
        let mut cmd = self.command(host, &["nft", "-f", "-"])?;
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn()?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(rules.as_bytes())?;
        }
        let out = child.wait_with_output()?;
        if out.status.success() {
            Ok(())
        } else {
            Err(io::Error::other(format!(
                "nft -f failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )))
        }
    }

    /// Pids of every process inside `host`'s namespace.
    pub fn pids(&self, host: &str) -> Vec<u32> {
        self.host(host).map(|h| netns_pids(&h.netns)).unwrap_or_default()
    }

    /// Removes everything now (what Drop does), reporting namespaces that
    /// could not be deleted.
    pub fn teardown(mut self) -> io::Result<()> {
        self.torn_down = true;
        self.teardown_inner()
    }

    fn teardown_inner(&mut self) -> io::Result<()> {
        // The nodes' PID namespaces first: each init's exit kills its
        // namespace, and the processes in it are reaped there.
        for mut init in std::mem::take(&mut *self.inits.lock().unwrap_or_else(|e| e.into_inner())) {
            pidns::stop_init(&mut init);
        }
        // Then the tracked children (their whole process group), then
        // anything else that lives in one of our namespaces.
        let in_ours: HashSet<u32> = self
            .all_netns()
            .iter()
            .flat_map(|ns| netns_pids(ns))
            .collect::<HashSet<_>>();
        let children = std::mem::take(&mut *self.children.lock().unwrap_or_else(|e| e.into_inner()));
        for pid in children {
            // `ip netns exec` execs the program, so the child's pid is in the
            // namespace while it runs; never signal a pid that left it (reuse).
            if in_ours.contains(&pid)
                && let Ok(p) = i32::try_from(pid)
            {
                let _ = killpg(Pid::from_raw(p), Signal::SIGKILL);
            }
        }
        let result = cleanup_prefix(&self.prefix);
        live_prefixes()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.prefix);
        if std::env::var_os("BATON_LAB_KEEP").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
        result
    }

    fn all_netns(&self) -> Vec<String> {
        let mut v: Vec<String> = self.hosts.iter().map(|h| h.netns.clone()).collect();
        v.push(self.switch.clone());
        v
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if self.torn_down {
            return;
        }
        self.torn_down = true;
        if let Err(e) = self.teardown_inner() {
            eprintln!("baton lab: cleanup of {} incomplete: {e}", self.prefix);
        }
    }
}

fn doc_v6(n: usize) -> Ipv6Addr {
    // The decimal digits of n, read as a hex group: 11 -> ::11, 200 -> ::200.
    let group = u16::from_str_radix(&n.to_string(), 16).unwrap_or(0);
    Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, group)
}

fn switch_port(host: &str) -> String {
    truncate15(&format!("p-{host}"))
}

/// A link name: at most 15 bytes.
fn truncate15(name: &str) -> String {
    let mut n = name.to_string();
    n.truncate(15);
    n
}

/// Runs a command; a non-zero exit is an error carrying its stderr.
pub(crate) fn run_ok(cmd: &mut Command) -> io::Result<Output> {
    let out = cmd.stdin(Stdio::null()).output()?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(io::Error::other(format!(
            "{:?} failed ({}): {}",
            cmd,
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

fn ip_batch(netns: &str, batch: &str) -> io::Result<()> {
    let mut child = Command::new("ip")
        .args(["-n", netns, "-batch", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(batch.as_bytes())?;
    }
    let out = child.wait_with_output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "ip -n {netns} -batch failed: {}\n--- batch ---\n{batch}",
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// Parses `ip -o addr show` output into (address, prefix length).
fn parse_ip_o_addr(text: &str) -> Vec<(IpAddr, u8)> {
    let mut v = Vec::new();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        while let Some(w) = words.next() {
            if w == "inet" || w == "inet6" {
                if let Some(cidr) = words.next()
                    && let Some((a, p)) = cidr.split_once('/')
                    && let (Ok(a), Ok(p)) = (a.parse::<IpAddr>(), p.parse::<u8>())
                {
                    v.push((a, p));
                }
                break;
            }
        }
    }
    v
}

/// `ip netns del` each of `names`, ignoring failures (the caller re-lists).
fn delete_netns(names: &[String]) {
    for ns in names {
        let _ = Command::new("ip")
            .args(["netns", "del", ns])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// Namespaces whose names start with `prefix` (from `ip netns list`).
pub fn list_netns(prefix: &str) -> Vec<String> {
    let Ok(out) = Command::new("ip")
        .args(["netns", "list"])
        .stdin(Stdio::null())
        .output()
    else {
        return Vec::new();
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.starts_with(prefix))
        .map(str::to_string)
        .collect()
}

fn netns_pids(netns: &str) -> Vec<u32> {
    let Ok(out) = Command::new("ip")
        .args(["netns", "pids", netns])
        .stdin(Stdio::null())
        .output()
    else {
        return Vec::new();
    };
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect()
}

/// Kills every process in, and deletes, every namespace whose name starts
/// with `prefix`; then checks with `ip netns list` that none is left.
fn cleanup_prefix(prefix: &str) -> io::Result<()> {
    let names = list_netns(prefix);
    for _round in 0..3 {
        let mut any = false;
        for ns in &names {
            for pid in netns_pids(ns) {
                if let Ok(p) = i32::try_from(pid)
                    && p != 0
                    && pid != std::process::id()
                {
                    any = true;
                    let _ = kill(Pid::from_raw(p), Signal::SIGKILL);
                }
            }
        }
        if !any {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    delete_netns(&names);
    let left = list_netns(prefix);
    if left.is_empty() {
        Ok(())
    } else {
        // Retry once: a deletion can race with a process that was still exiting.
        std::thread::sleep(Duration::from_millis(100));
        delete_netns(&left);
        let left = list_netns(prefix);
        if left.is_empty() {
            Ok(())
        } else {
            Err(io::Error::other(format!(
                "namespaces left behind: {}",
                left.join(" ")
            )))
        }
    }
}

/// Deletes namespaces left behind by crashed runs: those named
/// `<prefix><pid>x<counter>-...` whose pid no longer exists (and is not this
/// process). Pass [`PREFIX_BASE`] for Baton's own labs. Returns the names
/// deleted.
pub fn cleanup_stale(prefix: &str) -> io::Result<Vec<String>> {
    let me = std::process::id();
    let mut stale_prefixes = HashSet::new();
    for ns in list_netns(prefix) {
        let rest = &ns[prefix.len()..];
        let Some((pid, tail)) = rest.split_once('x') else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else { continue };
        let Some((counter, _)) = tail.split_once('-') else {
            continue;
        };
        if counter.parse::<u32>().is_err() || pid == me {
            continue;
        }
        if !Path::new(&format!("/proc/{pid}")).exists() {
            stale_prefixes.insert(format!("{prefix}{pid}x{counter}-"));
        }
    }
    let mut deleted = Vec::new();
    for p in stale_prefixes {
        let names = list_netns(&p);
        cleanup_prefix(&p)?;
        let _ = std::fs::remove_dir_all(std::env::temp_dir().join(format!("baton-lab-{p}")));
        deleted.extend(names);
    }
    deleted.sort();
    Ok(deleted)
}

/// Installs, once per process, a SIGINT/SIGTERM/SIGHUP handler that removes
/// every lab still alive in this process and then exits with status 130
/// (128 + signal number for SIGTERM/SIGHUP). For the `baton lab` command: call
/// it before [`Lab::new`].
pub fn install_signal_cleanup() -> io::Result<()> {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    if INSTALLED.get().is_some() {
        return Ok(());
    }
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    let _ = INSTALLED.set(());
    std::thread::Builder::new()
        .name("baton-lab-signals".into())
        .spawn(move || {
            if let Some(sig) = signals.forever().next() {
                let prefixes: Vec<String> = live_prefixes()
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .iter()
                    .cloned()
                    .collect();
                for p in prefixes {
                    eprintln!("baton lab: signal {sig}, removing lab {p}");
                    let _ = cleanup_prefix(&p);
                    let _ = std::fs::remove_dir_all(std::env::temp_dir().join(format!("baton-lab-{p}")));
                }
                std::process::exit(128 + sig);
            }
        })?;
    Ok(())
}

/// Polls `f` every `poll` until it returns true (-> true) or `timeout` has
/// passed (-> false). `f` is always tried at least once, and once more at the
/// deadline.
pub fn wait_until(timeout: Duration, poll: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if f() {
            return true;
        }
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        std::thread::sleep(poll.min(deadline - now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ip_o_addr() {
        let text = "2: eth0    inet 192.0.2.11/24 scope global eth0\\       valid_lft forever preferred_lft forever\n\
                    2: eth0    inet 192.0.2.100/24 scope global secondary eth0\\       valid_lft forever\n\
                    2: eth0    inet6 2001:db8::11/64 scope global \\       valid_lft forever preferred_lft forever\n\
                    2: eth0    inet6 fe80::1/64 scope link \\       valid_lft forever preferred_lft forever\n";
        let v = parse_ip_o_addr(text);
        assert_eq!(v.len(), 4);
        assert_eq!(v[1], ("192.0.2.100".parse().expect("addr"), 24));
        assert_eq!(v[2], ("2001:db8::11".parse().expect("addr"), 64));
    }

    #[test]
    fn doc_addresses() {
        assert_eq!(doc_v6(11).to_string(), "2001:db8::11");
        assert_eq!(doc_v6(200).to_string(), "2001:db8::200");
        assert_eq!(node_name(3), "lb03");
        assert_eq!(switch_port("client"), "p-client");
    }

    #[test]
    fn wait_until_times_out_and_succeeds() {
        let t = Instant::now();
        assert!(!wait_until(
            Duration::from_millis(50),
            Duration::from_millis(10),
            || false
        ));
        assert!(t.elapsed() >= Duration::from_millis(50));
        let mut n = 0;
        assert!(wait_until(
            Duration::from_secs(1),
            Duration::from_millis(1),
            || {
                n += 1;
                n == 3
            }
        ));
    }
}
