//! The seed's host services on an isolated lab node: a fake nginx and a
//! `systemctl` for it and for the node daemon, so that the seed's scripts
//! (check_web.sh: `ps -C nginx`, `systemctl start nginx`, `systemctl stop
//! keepalived`) and Baton's remedies run unchanged.
//!
//! [`Lab::install_services`] writes, in `<lab dir>/services-<host>/`:
//! * `bin/nginx`: a link to `baton-lab-httpd`, so its process name is
//!   `nginx`; it answers HTTP 200 on port 80 of every address of the host;
//! * `bin/systemctl`: a shell script for the units `nginx`, `keepalived`
//!   and `baton` of this host only (the host's PID namespace shows nothing
//!   else); every call is logged, with its time, in `systemctl.log`;
//! * `nginx.broken`, while [`Lab::set_service_broken`] says so: `systemctl
//!   start nginx` then fails, as a service whose binary or config broke.
//!
//! `bin/` comes first on the PATH of every command the lab runs on the host
//! (keepalived 2.2.7 passes its environment on to its scripts, and Baton runs
//! remedies with its own, so both find it).

use std::ffi::OsStr;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use nix::sys::signal::Signal;

use super::{Lab, run_ok};

/// The fake nginx's file name in the helpers' directory.
const HTTPD: &str = "baton-lab-httpd";

/// `systemctl` for lab host `@HOST@`, with its state in `@DIR@`.
const SYSTEMCTL: &str = r#"#!/bin/sh
# systemctl for lab host @HOST@, written by baton-lab (host/lab/src/services.rs).
# Units: nginx (start, restart, stop, is-active), keepalived and baton (stop,
# is-active). "stop keepalived" stops the host's node daemon, keepalived or
# baton (which runs the same keepalived.conf), as the seed's scripts expect.
dir='@DIR@'
log() { echo "$(date +%s.%N) $*" >> "$dir/systemctl.log"; }
log "systemctl $*"
# The host's PID namespace shows only the host's processes.
daemon_pid() { pgrep -o -x keepalived || pgrep -o -x baton; }
wait_gone() {
    i=0
    while kill -0 "$1" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
}
start_nginx() {
    if [ -e "$dir/nginx.broken" ]; then
        log "nginx: broken, not started"
        echo "Job for nginx.service failed because the control process exited with error code." >&2
        exit 1
    fi
    pgrep -x nginx >/dev/null && exit 0
    if "$dir/bin/nginx" --daemon --body '@HOST@' 0.0.0.0:80; then
        log "nginx: started"
    else
        log "nginx: failed to start"
        exit 1
    fi
}
case "$1 ${2:-}" in
"start nginx") start_nginx ;;
"restart nginx") pkill -TERM -x nginx; sleep 0.1; start_nginx ;;
"stop nginx") pkill -TERM -x nginx; exit 0 ;;
"stop keepalived" | "stop baton")
    pid=$(daemon_pid) || exit 0
    log "$2: SIGTERM to pid $pid"
    kill -TERM "$pid"
    wait_gone "$pid"
    log "$2: stopped"
    ;;
"is-active nginx" | "is-active keepalived" | "is-active baton")
    if pgrep -x "$2" >/dev/null; then echo active; else echo inactive; exit 3; fi
    ;;
*)
    echo "systemctl (baton-lab): $* is not supported here" >&2
    exit 1
    ;;
esac
"#;

impl Lab {
    /// Gives isolated node `host` the seed's services (see the module
    /// docs); returns their directory. nginx is not started: see
    /// [`Lab::systemctl`].
    ///
    /// # Errors
    /// If the lab is not isolated ([`crate::LabSpec::isolated`]) or a file
    /// cannot be written.
    pub fn install_services(&self, host: &str) -> io::Result<PathBuf> {
        let helpers = match (&self.helpers, self.is_isolated(host)) {
            (Some(h), true) => h.clone(),
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{host}: services need an isolated lab host (LabSpec::isolated)"),
                ));
            }
        };
        let dir = self.dir().join(format!("services-{host}"));
        let bin = dir.join("bin");
        std::fs::create_dir_all(&bin)?;
        let nginx = bin.join("nginx");
        let _ = std::fs::remove_file(&nginx);
        std::os::unix::fs::symlink(helpers.join(HTTPD), &nginx)?;
        let script = SYSTEMCTL
            .replace("@HOST@", host)
            .replace("@DIR@", &dir.to_string_lossy());
        let systemctl = bin.join("systemctl");
        std::fs::write(&systemctl, script)?;
        std::fs::set_permissions(&systemctl, std::fs::Permissions::from_mode(0o755))?;
        self.services
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(host.to_string(), bin);
        Ok(dir)
    }

    /// The directory [`Lab::install_services`] put first on `host`'s PATH.
    pub(crate) fn services_bin(&self, host: &str) -> Option<PathBuf> {
        self.services
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(host)
            .cloned()
    }

    fn services_dir(&self, host: &str) -> io::Result<PathBuf> {
        self.services_bin(host)
            .and_then(|b| b.parent().map(Path::to_path_buf))
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("{host}: no services installed")))
    }

    /// Runs the host's `systemctl args...` (e.g. `start nginx`) and waits.
    pub fn systemctl<S: AsRef<OsStr>>(&self, host: &str, args: &[S]) -> io::Result<Output> {
        let bin = self.services_dir(host)?.join("bin/systemctl");
        let mut argv = vec![bin.into_os_string()];
        argv.extend(args.iter().map(|a| a.as_ref().to_os_string()));
        self.exec(host, &argv)
    }

    /// Marks the host's service `name` broken (`systemctl start` fails) or
    /// mended.
    pub fn set_service_broken(&self, host: &str, name: &str, broken: bool) -> io::Result<()> {
        let marker = self.services_dir(host)?.join(format!("{name}.broken"));
        if broken {
            std::fs::write(&marker, "broken by the test\n")
        } else {
            match std::fs::remove_file(&marker) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            }
        }
    }

    /// Every call of the host's `systemctl` so far, one a line: `UNIX-TIME
    /// what`.
    pub fn systemctl_log(&self, host: &str) -> String {
        self.services_dir(host)
            .and_then(|d| std::fs::read_to_string(d.join("systemctl.log")))
            .unwrap_or_default()
    }

    /// How many processes named `name` the host sees, counted as the seed's
    /// check_web.sh counts them (`ps -C NAME --no-header | wc -l`, zombies
    /// included).
    pub fn count_processes(&self, host: &str, name: &str) -> io::Result<usize> {
        let out = self.exec(host, &["ps", "-C", name, "--no-header"])?;
        Ok(String::from_utf8_lossy(&out.stdout).lines().count())
    }

    /// Sends `sig` to every process named `name` the host sees (`pkill -x`).
    pub fn kill_processes(&self, host: &str, name: &str, sig: Signal) -> io::Result<()> {
        let sig = format!("-{}", sig.as_str().trim_start_matches("SIG"));
        let mut cmd = self.command(host, &["pkill", sig.as_str(), "-x", name])?;
        run_ok(&mut cmd).map(|_| ())
    }
}
