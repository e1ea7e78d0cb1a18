//! Policy references into an OCI registry: `oci://HOST[:PORT]/REPO[/...]@sha256:HEX`
//! or `oci://HOST[:PORT]/REPO[/...]:TAG`.
//!
//! The digest of a reference is the component's: the sha256 of the `.wasm`
//! bytes, which is the digest of the manifest's one `application/wasm`
//! layer (the layout of wasm-pkg-tools' `wkg oci push`), and the same thing a
//! `sha256` pin pins for a file. It is not the manifest's digest: a Baton
//! reference pins the code that runs, whatever manifest carries it. A tag
//! can move, so a config that names one must pin the digest with `sha256`
//! (the validation says so).

use std::fmt;

use crate::net::parse_sha256;

/// Where a policy is in an OCI registry.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OciRef {
    /// `HOST` or `HOST:PORT`, as written (lower-cased).
    pub registry: String,
    /// The repository path: `baton/web`.
    pub repository: String,
    pub target: OciTarget,
}

/// The tag or digest after the repository.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum OciTarget {
    /// `@sha256:HEX`: the component's digest.
    Digest([u8; 32]),
    /// `:TAG`, which needs a `sha256` pin in a config.
    Tag(String),
}

/// A registry as `insecure_registries` and references name it: `HOST` or
/// `HOST:PORT` (a name, an IPv4 address or `[IPv6]`), without scheme or path.
pub fn parse_registry(s: &str) -> Result<String, String> {
    if s.is_empty() {
        return Err("the registry is empty (expected HOST or HOST:PORT)".into());
    }
    if s.contains('/') {
        return Err(format!(
            "registry `{s}`: write HOST or HOST:PORT, without a scheme or path"
        ));
    }
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let Some((h, after)) = rest.split_once(']') else {
            return Err(format!("registry `{s}`: unclosed [ in an IPv6 address"));
        };
        if h.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("registry `{s}`: `{h}` is not an IPv6 address"));
        }
        match after {
            "" => (h, None),
            p if p.starts_with(':') => (h, Some(&p[1..])),
            _ => return Err(format!("registry `{s}`: expected :PORT after ]")),
        }
    } else {
        match s.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    let host_ok = s.starts_with('[')
        || (!host.is_empty()
            && host
                .split('.')
                .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')));
    if !host_ok {
        return Err(format!(
            "registry `{s}`: `{host}` is not a host name or address (expected HOST or HOST:PORT)"
        ));
    }
    if let Some(p) = port
        && !matches!(p.parse::<u16>(), Ok(n) if n > 0)
    {
        return Err(format!("registry `{s}`: port `{p}` is not 1..=65535"));
    }
    Ok(s.to_ascii_lowercase())
}

/// The OCI distribution spec's repository path component: lower-case
/// alphanumerics separated by `.`, `_`, `__` or runs of `-`.
fn repository_ok(repo: &str) -> bool {
    !repo.is_empty()
        && repo.split('/').all(|c| {
            !c.is_empty()
                && c.bytes()
                    .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-'))
                && c.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
                && c.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric())
        })
}

fn tag_ok(tag: &str) -> bool {
    (1..=128).contains(&tag.len())
        && tag
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

impl OciRef {
    /// The scheme every reference starts with.
    pub const SCHEME: &'static str = "oci://";

    /// Parses `oci://HOST[:PORT]/REPO[/...]@sha256:HEX` or `oci://HOST[:PORT]/REPO[/...]:TAG`.
    pub fn parse(s: &str) -> Result<OciRef, String> {
        let Some(rest) = s.strip_prefix(Self::SCHEME) else {
            return Err(format!("`{s}` does not start with oci://"));
        };
        let Some((registry, path)) = rest.split_once('/') else {
            return Err(format!(
                "`{s}`: expected oci://HOST[:PORT]/REPO@sha256:DIGEST or oci://HOST[:PORT]/REPO:TAG"
            ));
        };
        let registry = parse_registry(registry)?;
        let (repository, target) = if let Some((repo, digest)) = path.split_once('@') {
            let Some(hex) = digest.strip_prefix("sha256:") else {
                return Err(format!("`{s}`: the digest must be sha256:<64 hex digits>"));
            };
            let d =
                parse_sha256(hex).map_err(|_| format!("`{s}`: the digest must be sha256:<64 hex digits>"))?;
            (repo, OciTarget::Digest(d))
        } else {
            let last = path.rsplit('/').next().unwrap_or(path);
            let Some((_, tag)) = last.split_once(':') else {
                return Err(format!(
                    "`{s}`: name a digest (REPO@sha256:...) or a tag (REPO:TAG, with a `sha256` pin)"
                ));
            };
            if !tag_ok(tag) {
                return Err(format!("`{s}`: `{tag}` is not a valid tag"));
            }
            (
                &path[..path.len() - tag.len() - 1],
                OciTarget::Tag(tag.to_string()),
            )
        };
        if !repository_ok(repository) {
            return Err(format!(
                "`{s}`: repository `{repository}` must be lower-case letters, digits and . _ - separated by /"
            ));
        }
        Ok(OciRef {
            registry,
            repository: repository.to_string(),
            target,
        })
    }

    /// The component digest the reference names, if it names one.
    pub fn digest(&self) -> Option<[u8; 32]> {
        match self.target {
            OciTarget::Digest(d) => Some(d),
            OciTarget::Tag(_) => None,
        }
    }

    /// The same repository at `digest`.
    pub fn at_digest(&self, digest: [u8; 32]) -> OciRef {
        OciRef {
            target: OciTarget::Digest(digest),
            ..self.clone()
        }
    }
}

/// `sha256:HEX`.
pub fn digest_string(d: &[u8; 32]) -> String {
    let mut s = String::with_capacity(71);
    s.push_str("sha256:");
    for b in d {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

impl fmt::Display for OciRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}/{}", Self::SCHEME, self.registry, self.repository)?;
        match &self.target {
            OciTarget::Digest(d) => write!(f, "@{}", digest_string(d)),
            OciTarget::Tag(t) => write!(f, ":{t}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    #[test]
    fn digest_reference_round_trips() {
        let s = format!("oci://127.0.0.1:5000/baton/web@sha256:{HEX}");
        let r = OciRef::parse(&s).unwrap();
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.repository, "baton/web");
        assert_eq!(
            r.digest().map(|d| digest_string(&d)),
            Some(format!("sha256:{HEX}"))
        );
        assert_eq!(r.to_string(), s);
    }

    #[test]
    fn tag_reference_round_trips() {
        let r = OciRef::parse("oci://registry.example:443/a/b/c:v1.2").unwrap();
        assert_eq!(r.repository, "a/b/c");
        assert_eq!(r.target, OciTarget::Tag("v1.2".into()));
        assert_eq!(r.to_string(), "oci://registry.example:443/a/b/c:v1.2");
        let r = OciRef::parse("oci://[::1]:5000/web:latest").unwrap();
        assert_eq!(r.registry, "[::1]:5000");
    }

    #[test]
    fn bad_references_say_why() {
        for (s, why) in [
            ("https://x/y:1", "oci://"),
            ("oci://host", "expected oci://HOST"),
            ("oci://host/web", "name a digest"),
            ("oci://host/web@sha256:abc", "64 hex"),
            ("oci://host/web@md5:abc", "sha256:"),
            ("oci://host/Web:1", "lower-case"),
            ("oci://host:99999/web:1", "port"),
            ("oci://ho st/web:1", "not a host"),
            ("oci://host/web:bad tag", "not a valid tag"),
        ] {
            let e = OciRef::parse(s).expect_err(s);
            assert!(e.contains(why), "{s}: {e}");
        }
    }

    #[test]
    fn registries() {
        assert_eq!(parse_registry("127.0.0.1:5000").unwrap(), "127.0.0.1:5000");
        assert_eq!(parse_registry("Localhost").unwrap(), "localhost");
        assert!(parse_registry("http://x").is_err());
        assert!(parse_registry("x/y").is_err());
        assert!(parse_registry("x:0").is_err());
    }
}
