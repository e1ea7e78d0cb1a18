//! Running Debian's keepalived (2.2.7) inside a lab host, as the reference
//! implementation Baton interoperates with and is measured against.

use std::fmt::Write as _;
use std::io;
use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use super::{Lab, LabProcess};

static SEQ: AtomicU32 = AtomicU32::new(0);

/// One `vrrp_instance` block.
#[derive(Debug, Clone)]
pub struct KaInstance {
    pub name: String,
    pub vrid: u8,
    pub priority: u8,
    /// "MASTER" or "BACKUP".
    pub state: String,
    /// Seconds; fractions need `version: 3`.
    pub advert_int: f64,
    /// 2 or 3.
    pub version: u8,
    /// `auth_type PASS` with this password (VRRPv2 only; ignored for v3).
    pub auth_pass: Option<String>,
    /// `virtual_ipaddress` lines, e.g. "192.0.2.100/24"; " dev IFACE" is
    /// added when the line names no device.
    pub vips: Vec<String>,
    pub nopreempt: bool,
    pub interface: String,
    /// Unicast peers (empty: multicast).
    pub unicast_peers: Vec<IpAddr>,
    pub unicast_src_ip: Option<IpAddr>,
    /// Names of `vrrp_script`s to track.
    pub track_scripts: Vec<String>,
    /// Raw lines added inside the block.
    pub extra: String,
}

impl KaInstance {
    /// VRRPv2, advert 1 s, on eth0, no VIPs, preempting.
    pub fn new(name: &str, vrid: u8, priority: u8, state: &str) -> Self {
        KaInstance {
            name: name.to_string(),
            vrid,
            priority,
            state: state.to_string(),
            advert_int: 1.0,
            version: 2,
            auth_pass: None,
            vips: Vec::new(),
            nopreempt: false,
            interface: "eth0".to_string(),
            unicast_peers: Vec::new(),
            unicast_src_ip: None,
            track_scripts: Vec::new(),
            extra: String::new(),
        }
    }
}

/// One `vrrp_script` block.
#[derive(Debug, Clone)]
pub struct KaScript {
    pub name: String,
    /// The command line, e.g. "/usr/bin/curl -fsS -m 1 http://127.0.0.1/".
    pub script: String,
    /// Seconds (keepalived accepts fractions).
    pub interval: f64,
    /// Seconds.
    pub timeout: Option<f64>,
    /// 0: FAULT on failure; otherwise added to the priority on success (>0)
    /// or on failure (<0).
    pub weight: i32,
    pub fall: u32,
    pub rise: u32,
}

/// A keepalived.conf with one instance (router_id "baton-lab").
pub fn keepalived_conf(inst: &KaInstance) -> String {
    keepalived_conf_multi("baton-lab", &[], std::slice::from_ref(inst))
}

/// A keepalived.conf with several scripts and instances.
pub fn keepalived_conf_multi(router_id: &str, scripts: &[KaScript], instances: &[KaInstance]) -> String {
    let mut c = String::new();
    let _ = writeln!(c, "global_defs {{");
    let _ = writeln!(c, "    router_id {router_id}");
    let _ = writeln!(c, "    script_user root");
    let _ = writeln!(c, "    enable_script_security");
    let _ = writeln!(c, "}}");
    for s in scripts {
        let _ = writeln!(c, "\nvrrp_script {} {{", s.name);
        let _ = writeln!(c, "    script \"{}\"", s.script);
        let _ = writeln!(c, "    interval {}", s.interval);
        if let Some(t) = s.timeout {
            let _ = writeln!(c, "    timeout {t}");
        }
        let _ = writeln!(c, "    weight {}", s.weight);
        let _ = writeln!(c, "    fall {}", s.fall.max(1));
        let _ = writeln!(c, "    rise {}", s.rise.max(1));
        let _ = writeln!(c, "}}");
    }
    for i in instances {
        let _ = writeln!(c, "\nvrrp_instance {} {{", i.name);
        let _ = writeln!(c, "    state {}", i.state);
        let _ = writeln!(c, "    interface {}", i.interface);
        let _ = writeln!(c, "    virtual_router_id {}", i.vrid);
        let _ = writeln!(c, "    priority {}", i.priority);
        let _ = writeln!(c, "    advert_int {}", i.advert_int);
        let _ = writeln!(c, "    version {}", i.version);
        if i.nopreempt {
            let _ = writeln!(c, "    nopreempt");
        }
        if i.version == 2
            && let Some(p) = &i.auth_pass
        {
            let _ = writeln!(
                c,
                "    authentication {{\n        auth_type PASS\n        auth_pass {p}\n    }}"
            );
        }
        if let Some(src) = i.unicast_src_ip {
            let _ = writeln!(c, "    unicast_src_ip {src}");
        }
        if !i.unicast_peers.is_empty() {
            let _ = writeln!(c, "    unicast_peer {{");
            for p in &i.unicast_peers {
                let _ = writeln!(c, "        {p}");
            }
            let _ = writeln!(c, "    }}");
        }
        if !i.track_scripts.is_empty() {
            let _ = writeln!(c, "    track_script {{");
            for s in &i.track_scripts {
                let _ = writeln!(c, "        {s}");
            }
            let _ = writeln!(c, "    }}");
        }
        let _ = writeln!(c, "    virtual_ipaddress {{");
        for v in &i.vips {
            if v.split_whitespace().any(|w| w == "dev") {
                let _ = writeln!(c, "        {v}");
            } else {
                let _ = writeln!(c, "        {v} dev {}", i.interface);
            }
        }
        let _ = writeln!(c, "    }}");
        if !i.extra.is_empty() {
            let _ = writeln!(c, "{}", i.extra);
        }
        let _ = writeln!(c, "}}");
    }
    c
}

/// keepalived running in the foreground in a lab host, VRRP subsystem only,
/// logging to the console (captured to a file), with pid files of its own.
#[derive(Debug)]
pub struct Keepalived {
    dir: PathBuf,
    proc: LabProcess,
}

impl Keepalived {
    /// Writes `conf` to a directory of the lab's and starts
    /// `keepalived -n -l -D -G -P -f CONF -p PID -r VRRP_PID` in `host`.
    pub fn start(lab: &Lab, host: &str, conf: &str) -> io::Result<Keepalived> {
        Keepalived::start_with_files(lab, host, conf, &[])
    }

    /// [`Keepalived::start`], with `files` (the scripts a config names as
    /// `${_PWD}/check_web.sh`) copied next to keepalived.conf first, root's
    /// and mode 0755 as `enable_script_security` wants.
    pub fn start_with_files(lab: &Lab, host: &str, conf: &str, files: &[&Path]) -> io::Result<Keepalived> {
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let dir = lab.dir().join(format!("keepalived-{host}-{n}"));
        std::fs::create_dir_all(&dir)?;
        for f in files {
            let name = f.file_name().ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{}: no file name", f.display()),
                )
            })?;
            let to = dir.join(name);
            std::fs::copy(f, &to)?;
            std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o755))?;
        }
        let conf_path = dir.join("keepalived.conf");
        std::fs::write(&conf_path, conf)?;
        let p = |f: &str| dir.join(f).to_string_lossy().into_owned();
        let args = [
            "keepalived".to_string(),
            "--dont-fork".into(),
            "--log-console".into(),
            "--log-detail".into(),
            "--no-syslog".into(),
            "--vrrp".into(),
            format!("--use-file={}", conf_path.display()),
            format!("--pid={}", p("keepalived.pid")),
            format!("--vrrp_pid={}", p("vrrp.pid")),
            format!("--checkers_pid={}", p("checkers.pid")),
            format!("--bfd_pid={}", p("bfd.pid")),
        ];
        let proc = LabProcess::start(lab, host, &args, &dir.join("keepalived.log"))?;
        Ok(Keepalived { dir, proc })
    }

    /// The host it runs in.
    pub fn host(&self) -> &str {
        self.proc.host()
    }

    /// Its directory (keepalived.conf, pid files, keepalived.log).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The parent process's pid (also its process group id).
    pub fn pid(&self) -> Option<u32> {
        self.proc.pid()
    }

    /// Whether the parent process still runs.
    pub fn is_running(&mut self) -> bool {
        self.proc.is_running()
    }

    /// Everything it logged so far.
    pub fn log(&self) -> String {
        self.proc.log()
    }

    /// Waits until the log contains `needle`, e.g. "Entering MASTER STATE".
    pub fn wait_log(&self, needle: &str, timeout: Duration) -> bool {
        self.proc.wait_log(needle, timeout)
    }

    /// Clean stop: SIGTERM, wait up to 5 s (then SIGKILL the process group).
    /// keepalived removes its VIPs and sends a priority-0 advert.
    pub fn stop(&mut self) -> io::Result<()> {
        match self.proc.stop() {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Crash: SIGKILL to the parent and the VRRP child (the process group).
    /// The VIPs it had added stay on the interface.
    pub fn kill(&mut self) -> io::Result<()> {
        self.proc.kill()
    }
}
