//! What a policy's settings name as network targets, and the network grants
//! that follow: a builtin may reach the targets its own settings name
//! (http-status's `url`, tcp-port's `host` and `port`) without an `allow`; a
//! component from a file reaches only what its `allow` lists.

use std::collections::BTreeMap;

use crate::net::{Target, parse_host, parse_port, url_target};
use crate::{Builtin, Policy, PolicySource};

/// tcp-port's `host` when its settings give none (policies/tcp-port).
const TCP_PORT_DEFAULT_HOST: &str = "127.0.0.1";

/// A network target that a policy's settings name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeclaredTarget {
    /// The settings it is made of, the one to blame first: `["url"]`,
    /// `["host", "port"]`, or `["port"]` when tcp-port's host is its default.
    pub keys: Vec<&'static str>,
    /// How the settings name it, for messages: `url http://192.0.2.11:8080/`,
    /// `host 192.0.2.11, port 8080`.
    pub named: String,
    /// The address and port, or why the settings name nothing Baton can
    /// reach (a host name: there is no DNS; a malformed URL or port).
    pub target: Result<Target, String>,
}

/// The settings an evaluation gets: `base` (a policy's `config`) with `over`
/// (a track's or check's `config`) merged over it; `over` wins.
pub fn merge_settings(
    base: &BTreeMap<String, String>,
    over: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut merged = base.clone();
    merged.extend(over.iter().map(|(k, v)| (k.clone(), v.clone())));
    merged
}

impl Policy {
    /// The network targets `settings` (this policy's `config`, merged with a
    /// track's or check's: see [`merge_settings`]) name: for `http-status`
    /// and `split-brain-peer-http` the `url` (`http://HOST[:PORT]/...`, port
    /// 80, or 443 for https); for `tcp-port` its `host` (default 127.0.0.1)
    /// and `port`; for a component from a file, a `url` (http or https) and
    /// a `host` given with a `port`, by the same convention.
    pub fn declared_targets(&self, settings: &BTreeMap<String, String>) -> Vec<DeclaredTarget> {
        let builtin = match &self.source {
            PolicySource::Builtin(b) => Some(*b),
            PolicySource::Path(_) | PolicySource::Oci(_) => None,
        };
        let (url, host_port) = match builtin {
            Some(Builtin::HttpStatus | Builtin::SplitBrainPeerHttp) => (true, None),
            Some(Builtin::TcpPort) => (false, Some(Some(TCP_PORT_DEFAULT_HOST))),
            Some(_) => (false, None),
            None => (true, Some(None)),
        };
        let mut out = Vec::new();
        if url && let Some(u) = settings.get("url") {
            let target = match url_target(u) {
                Some(t) => Some(t),
                // A builtin fetches only http(s) URLs; a component's `url`
                // of another scheme is no network target of Baton's.
                None if builtin.is_some() => Some(Err(format!("`{u}` is not an http:// or https:// URL"))),
                None => None,
            };
            if let Some(target) = target {
                out.push(DeclaredTarget {
                    keys: vec!["url"],
                    named: format!("url {u}"),
                    target,
                });
            }
        }
        if let Some(default_host) = host_port
            && let Some(port) = settings.get("port")
        {
            let given = settings.get("host").map(String::as_str);
            if let Some(host) = given.or(default_host) {
                let port_t = parse_port(port);
                let host_t = parse_host(host);
                let (keys, target) = match (host_t, port_t) {
                    (Err(e), _) => (vec!["host"], Err(e)),
                    (_, Err(e)) => (vec!["port"], Err(e)),
                    (Ok((addr, localhost)), Ok(port)) => {
                        let keys = if given.is_some() {
                            vec!["host", "port"]
                        } else {
                            vec!["port"]
                        };
                        (
                            keys,
                            Ok(Target {
                                addr,
                                port,
                                localhost,
                            }),
                        )
                    }
                };
                out.push(DeclaredTarget {
                    keys,
                    named: format!("host {host}, port {port}"),
                    target,
                });
            }
        }
        out
    }

    /// The network patterns the policy may reach with `settings`: its
    /// `allow`, and for a builtin one exact pattern per target its settings
    /// name (http-status with `url = "http://192.0.2.11:8080/"` and no
    /// `allow` may reach `192.0.2.11:8080`). A component from a file needs
    /// its `allow`.
    pub fn net_grants(&self, settings: &BTreeMap<String, String>) -> Vec<String> {
        let mut out = self.allow.clone();
        if matches!(self.source, PolicySource::Builtin(_)) {
            for t in self.declared_targets(settings) {
                if let Ok(t) = t.target
                    && !out.contains(&t.pattern())
                {
                    out.push(t.pattern());
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn policy(source: PolicySource, allow: &[&str]) -> Policy {
        Policy {
            name: "p".into(),
            source,
            sha256: None,
            config: BTreeMap::new(),
            allow: allow.iter().map(|s| s.to_string()).collect(),
            allow_files: Vec::new(),
            remedies: Vec::new(),
        }
    }

    fn settings(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn patterns(p: &Policy, kv: &[(&str, &str)]) -> Vec<String> {
        p.declared_targets(&settings(kv))
            .into_iter()
            .map(|t| t.target.map(|t| t.pattern()).unwrap_or_else(|e| e))
            .collect()
    }

    #[test]
    fn http_status_names_its_url() {
        let p = policy(PolicySource::Builtin(Builtin::HttpStatus), &[]);
        assert_eq!(
            patterns(&p, &[("url", "http://192.0.2.11:8080/")]),
            ["192.0.2.11:8080"]
        );
        assert_eq!(patterns(&p, &[("url", "http://192.0.2.11/")]), ["192.0.2.11:80"]);
        assert_eq!(
            patterns(&p, &[("url", "https://192.0.2.11/")]),
            ["192.0.2.11:443"]
        );
        assert_eq!(
            patterns(&p, &[("url", "http://[2001:db8::5]:81/x")]),
            ["[2001:db8::5]:81"]
        );
        assert_eq!(patterns(&p, &[("url", "http://localhost/")]), ["localhost:80"]);
        assert!(patterns(&p, &[("expect", "200")]).is_empty());
        // A host or port is not http-status's business.
        assert!(patterns(&p, &[("host", "192.0.2.1"), ("port", "80")]).is_empty());
        let t = &p.declared_targets(&settings(&[("url", "http://example.com/")]))[0];
        assert_eq!(t.keys, ["url"]);
        assert!(t.target.as_ref().expect_err("dns").contains("no DNS"));
        assert!(patterns(&p, &[("url", "ftp://192.0.2.1/")])[0].contains("not an http:// or https:// URL"));
    }

    #[test]
    fn tcp_port_names_host_and_port() {
        let p = policy(PolicySource::Builtin(Builtin::TcpPort), &[]);
        let t = p.declared_targets(&settings(&[("host", "192.0.2.7"), ("port", "5432")]));
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].keys, ["host", "port"]);
        assert_eq!(t[0].named, "host 192.0.2.7, port 5432");
        assert_eq!(
            t[0].target.as_ref().ok().map(Target::pattern).as_deref(),
            Some("192.0.2.7:5432")
        );
        // The host defaults to 127.0.0.1, as the policy's does.
        let t = p.declared_targets(&settings(&[("port", "6379")]));
        assert_eq!(t[0].keys, ["port"]);
        assert_eq!(
            t[0].target.as_ref().ok().map(Target::pattern).as_deref(),
            Some("127.0.0.1:6379")
        );
        assert_eq!(patterns(&p, &[("host", "::1"), ("port", "22")]), ["[::1]:22"]);
        assert_eq!(patterns(&p, &[("host", "[::1]"), ("port", "22")]), ["[::1]:22"]);
        assert!(patterns(&p, &[("host", "192.0.2.7")]).is_empty());
        let t = &p.declared_targets(&settings(&[("host", "db.example"), ("port", "1")]))[0];
        assert_eq!(t.keys, ["host"]);
        let t = &p.declared_targets(&settings(&[("port", "http")]))[0];
        assert_eq!(t.keys, ["port"]);
        assert!(t.target.is_err());
    }

    #[test]
    fn other_builtins_name_nothing() {
        for b in [
            Builtin::ProcessAlive,
            Builtin::File,
            Builtin::InterfaceUp,
            Builtin::Exec,
            Builtin::SplitBrainArp,
        ] {
            let p = policy(PolicySource::Builtin(b), &[]);
            assert!(
                patterns(&p, &[("url", "http://192.0.2.1/"), ("port", "1")]).is_empty(),
                "{b}"
            );
        }
        let p = policy(PolicySource::Builtin(Builtin::SplitBrainPeerHttp), &[]);
        assert_eq!(
            patterns(&p, &[("url", "http://198.51.100.5/")]),
            ["198.51.100.5:80"]
        );
    }

    #[test]
    fn a_component_names_url_or_host_and_port() {
        let p = policy(PolicySource::Path(PathBuf::from("/x.wasm")), &[]);
        assert_eq!(
            patterns(
                &p,
                &[("url", "http://192.0.2.1/"), ("host", "192.0.2.2"), ("port", "9")]
            ),
            ["192.0.2.1:80", "192.0.2.2:9"]
        );
        // No default host for a component, and other schemes are its own business.
        assert!(patterns(&p, &[("port", "9"), ("url", "mqtt://192.0.2.1/")]).is_empty());
    }

    #[test]
    fn grants_are_allow_plus_a_builtins_own_targets() {
        let url = [("url", "http://192.0.2.11:8080/")];
        let p = policy(PolicySource::Builtin(Builtin::HttpStatus), &[]);
        assert_eq!(p.net_grants(&settings(&url)), ["192.0.2.11:8080"]);
        let p = policy(PolicySource::Builtin(Builtin::HttpStatus), &["127.0.0.1:80"]);
        assert_eq!(p.net_grants(&settings(&url)), ["127.0.0.1:80", "192.0.2.11:8080"]);
        assert_eq!(
            p.net_grants(&settings(&[("url", "http://example.com/")])),
            ["127.0.0.1:80"]
        );
        let p = policy(PolicySource::Path(PathBuf::from("/x.wasm")), &["127.0.0.1:80"]);
        assert_eq!(p.net_grants(&settings(&url)), ["127.0.0.1:80"]);
    }

    #[test]
    fn track_settings_win() {
        let base = settings(&[("url", "http://a/"), ("expect", "200")]);
        let over = settings(&[("url", "http://b/"), ("timeout-ms", "50")]);
        let m = merge_settings(&base, &over);
        assert_eq!(
            m,
            settings(&[("expect", "200"), ("timeout-ms", "50"), ("url", "http://b/")])
        );
        assert_eq!(merge_settings(&base, &BTreeMap::new()), base);
    }
}
