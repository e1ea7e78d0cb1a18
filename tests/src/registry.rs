//! A real OCI registry for the tests: Debian's `docker-registry`
//! (distribution) serving on 127.0.0.1 at a free port, its storage in a
//! temporary directory, killed and removed on drop.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The registry's program (scripts/setup installs it).
pub const PROGRAM: &str = "/usr/bin/docker-registry";

/// A running (or stopped) registry of the test's own.
#[derive(Debug)]
pub struct Registry {
    child: Option<Child>,
    dir: PathBuf,
    port: u16,
}

impl Registry {
    /// Starts one, or returns None after a loud SKIPPED line when
    /// docker-registry is not installed (under CI=true that is a failure).
    ///
    /// # Panics
    /// If it is missing under CI=true, or does not start.
    pub fn start(test: &str) -> Option<Registry> {
        if !Path::new(PROGRAM).exists() {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{test}: {PROGRAM} is missing under CI=true (scripts/setup installs docker-registry)"
            );
            let _ = writeln!(
                std::io::stderr(),
                "\n*** SKIPPED (no {PROGRAM}; run scripts/setup): {test} ***\n"
            );
            return None;
        }
        let dir = std::env::temp_dir().join(format!(
            "baton-registry-{}-{}",
            std::process::id(),
            test.replace(|c: char| !c.is_ascii_alphanumeric(), "-")
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("storage")).expect("registry dir");
        let port = free_port();
        let mut r = Registry {
            child: None,
            dir,
            port,
        };
        r.restart();
        Some(r)
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// A scratch directory of the test's, removed with the registry.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file holding blob `hex` in the registry's storage.
    pub fn blob_path(&self, hex: &str) -> PathBuf {
        self.dir
            .join("storage/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    /// Stops it (its storage stays); the port answers nothing after.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it (again) on the same port and storage and waits until
    /// `/v2/` answers.
    ///
    /// # Panics
    /// If it does not answer within 10 s.
    pub fn restart(&mut self) {
        self.stop();
        let config = self.dir.join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\n\
                 log:\n  level: error\n  accesslog:\n    disabled: true\n\
                 storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n  \
                 maintenance:\n    uploadpurging:\n      enabled: false\n\
                 http:\n  addr: 127.0.0.1:{}\n",
                self.dir.join("storage").display(),
                self.port
            ),
        )
        .expect("registry config");
        let log = std::fs::File::create(self.dir.join("registry.log")).expect("registry log");
        let child = Command::new(PROGRAM)
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {PROGRAM}: {e}"));
        self.child = Some(child);
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(10) {
            if self.answers() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let log = std::fs::read_to_string(self.dir.join("registry.log")).unwrap_or_default();
        panic!("{PROGRAM} did not answer on {} within 10 s:\n{log}", self.addr());
    }

    /// Whether `GET /v2/` answers 200.
    fn answers(&self) -> bool {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
        if s.write_all(b"GET /v2/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .is_err()
        {
            return false;
        }
        let mut buf = [0u8; 64];
        let n = s.read(&mut buf).unwrap_or(0);
        let head = String::from_utf8_lossy(&buf[..n]);
        head.starts_with("HTTP/1.") && head.contains(" 200 ")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A port nothing listens on just now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
