//! Capability grants: the allowlists from the config that bound what a policy may touch.
//!
//! Nothing is allowed by default ([`Grants::default`] denies every network target, every
//! file and every remedy). Names are never resolved through DNS: a network target is a
//! literal IPv4/IPv6 address or `localhost` (127.0.0.1 and ::1).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use crate::error::PolicyError;

pub use baton_config::NetPattern;

/// A named remediation command (`[[remedy]]` in the config): run without a shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remedy {
    /// Program and arguments; `argv[0]` is looked up in `PATH` if it has no `/`.
    pub argv: Vec<String>,
    /// Killed (with its process group) after this long, or when the evaluation's
    /// budget runs out, whichever comes first.
    pub timeout: Duration,
    /// Runs with this uid and gid, supplementary groups cleared (keepalived's
    /// `script_user`); `None`: as the daemon.
    pub run_as: Option<RunAs>,
}

/// The credentials a remedy runs with: a user looked up by name, and its
/// primary group or another one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunAs {
    pub uid: u32,
    pub gid: u32,
}

impl RunAs {
    /// Looks up `user` (and `group`, default the user's primary group) in the
    /// system's user database (NSS: /etc/passwd, /etc/group, ...).
    pub fn lookup(user: &str, group: Option<&str>) -> Result<RunAs, String> {
        use nix::unistd::{Group, User};
        let u = User::from_name(user)
            .map_err(|e| format!("user {user:?}: {e}"))?
            .ok_or_else(|| format!("user {user:?}: no such user"))?;
        let gid = match group {
            None => u.gid,
            Some(g) => {
                Group::from_name(g)
                    .map_err(|e| format!("group {g:?}: {e}"))?
                    .ok_or_else(|| format!("group {g:?}: no such group"))?
                    .gid
            }
        };
        Ok(RunAs {
            uid: u.uid.as_raw(),
            gid: gid.as_raw(),
        })
    }
}

/// What a policy may touch. Build with the `allow_*` / `remedy` methods.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    /// Targets for `probe.tcp-connect` and `probe.http-get`.
    pub net: Vec<NetPattern>,
    /// Exact absolute paths for `system.read-file`.
    pub files: Vec<String>,
    /// Remedies by name for `remedy.run`.
    pub remedies: BTreeMap<String, Remedy>,
}

impl Grants {
    /// Allows a network target pattern (see [`NetPattern`]).
    pub fn allow_net(mut self, pattern: &str) -> Result<Self, PolicyError> {
        self.net
            .push(NetPattern::parse(pattern).map_err(PolicyError::Grant)?);
        Ok(self)
    }

    /// Allows `system.read-file` of exactly this absolute path.
    pub fn allow_file(mut self, path: &str) -> Result<Self, PolicyError> {
        if !path.starts_with('/') || path.split('/').any(|c| c == "..") {
            return Err(PolicyError::Grant(format!(
                "file grant {path:?} must be an absolute path without .."
            )));
        }
        self.files.push(path.to_string());
        Ok(self)
    }

    /// Names a remedy the policy may run.
    pub fn remedy(self, name: &str, argv: Vec<String>, timeout: Duration) -> Result<Self, PolicyError> {
        self.remedy_as(name, argv, timeout, None)
    }

    /// Names a remedy the policy may run, as `run_as` (see [`RunAs::lookup`]).
    pub fn remedy_as(
        mut self,
        name: &str,
        argv: Vec<String>,
        timeout: Duration,
        run_as: Option<RunAs>,
    ) -> Result<Self, PolicyError> {
        if argv.is_empty() || argv[0].is_empty() {
            return Err(PolicyError::Grant(format!(
                "remedy {name:?} has an empty command"
            )));
        }
        self.remedies.insert(
            name.to_string(),
            Remedy {
                argv,
                timeout,
                run_as,
            },
        );
        Ok(self)
    }

    pub fn net_allowed(&self, ip: IpAddr, port: u16) -> bool {
        self.net.iter().any(|p| p.matches(ip, port))
    }

    pub fn file_allowed(&self, path: &str) -> bool {
        self.files.iter().any(|f| f == path)
    }
}

/// Resolves a probe host without DNS: a literal IP (v6 optionally in brackets) or
/// `localhost` (127.0.0.1). Anything else is refused.
pub fn resolve_literal(host: &str) -> Option<IpAddr> {
    if host.eq_ignore_ascii_case("localhost") {
        return Some(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    let h = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    h.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn exact_and_cidr_and_any_port() {
        let p = NetPattern::parse("127.0.0.1:80").unwrap();
        assert!(p.matches(ip("127.0.0.1"), 80));
        assert!(!p.matches(ip("127.0.0.1"), 81));
        assert!(!p.matches(ip("127.0.0.2"), 80));
        let p = NetPattern::parse("192.0.2.0/24:80").unwrap();
        assert!(p.matches(ip("192.0.2.77"), 80));
        assert!(!p.matches(ip("192.0.3.1"), 80));
        let p = NetPattern::parse("198.51.100.0/25:*").unwrap();
        assert!(p.matches(ip("198.51.100.127"), 1));
        assert!(!p.matches(ip("198.51.100.128"), 1));
        let p = NetPattern::parse("[2001:db8::/32]:443").unwrap();
        assert!(p.matches(ip("2001:db8:1::5"), 443));
        assert!(!p.matches(ip("2001:db9::5"), 443));
        assert!(!p.matches(ip("192.0.2.1"), 443));
        let p = NetPattern::parse("localhost:8080").unwrap();
        assert!(p.matches(ip("127.0.0.1"), 8080));
        assert!(p.matches(ip("::1"), 8080));
        assert!(!p.matches(ip("127.0.0.2"), 8080));
    }

    #[test]
    fn bad_patterns() {
        for s in [
            "example.com:80",
            "127.0.0.1",
            "127.0.0.1:x",
            "10.0.0.0/33:1",
            "[::1:80",
            "1.2.3.4:70000",
        ] {
            assert!(NetPattern::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn grants_default_deny() {
        let g = Grants::default();
        assert!(!g.net_allowed(ip("127.0.0.1"), 80));
        assert!(!g.file_allowed("/etc/passwd"));
        let g = g.allow_file("/run/x").unwrap();
        assert!(g.file_allowed("/run/x"));
        assert!(!g.file_allowed("/run/x/"));
        assert!(Grants::default().allow_file("relative").is_err());
        assert!(Grants::default().allow_file("/a/../etc/passwd").is_err());
    }

    #[test]
    fn literal_resolution_only() {
        assert_eq!(resolve_literal("localhost"), Some(ip("127.0.0.1")));
        assert_eq!(resolve_literal("[::1]"), Some(ip("::1")));
        assert_eq!(resolve_literal("192.0.2.1"), Some(ip("192.0.2.1")));
        assert_eq!(resolve_literal("example.com"), None);
    }
}
