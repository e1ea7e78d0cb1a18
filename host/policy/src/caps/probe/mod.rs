//! `probe`: network probes ([`tcp`] connect, [`http`] GET) to targets the config
//! allows (`allow` patterns), each within `min(timeout, remaining budget)`.
//!
//! State: the grants and the deadline ([`ProbeState`]). The allowlist check is
//! [`allowed_target`], made before any socket exists; a refusal is recorded in the
//! evaluation's audit.

use std::net::SocketAddr;
use std::sync::Arc;

use wasmtime::component::Linker;

use super::{CapError, CapGetter, CapView, Deadline, HasCapView};
use crate::bindings::{probe as wit, types};
use crate::grants::{Grants, resolve_literal};
use crate::script::Script;

pub mod http;
pub mod tcp;

/// Resolves `host` (literal IP or `localhost`, never DNS) and checks the allowlist.
pub fn allowed_target(grants: &Grants, host: &str, port: u16) -> Result<SocketAddr, CapError> {
    let ip = resolve_literal(host).ok_or_else(|| {
        CapError::Denied(format!(
            "{host}: only literal IP addresses and localhost are allowed (no DNS)"
        ))
    })?;
    if !grants.net_allowed(ip, port) {
        return Err(CapError::Denied(format!(
            "{}: not in the allowlist",
            SocketAddr::new(ip, port)
        )));
    }
    Ok(SocketAddr::new(ip, port))
}

/// The `probe` of one evaluation.
#[derive(Debug)]
pub struct ProbeState {
    pub grants: Arc<Grants>,
    pub deadline: Deadline,
    /// Answers instead of the network, after the same checks.
    pub script: Option<Arc<Script>>,
}

impl wit::Host for CapView<'_, ProbeState> {
    fn tcp_connect(&mut self, host: String, port: u16, timeout_ms: u32) -> Result<u64, types::ProbeError> {
        let r = match &self.state.script {
            Some(s) => {
                allowed_target(&self.state.grants, &host, port).and_then(|_| s.tcp_connect(&host, port))
            }
            None => tcp::connect(&self.state.grants, self.state.deadline, &host, port, timeout_ms),
        };
        self.audit.note(&format!("tcp-connect {host}:{port}"), r)
    }

    fn http_get(
        &mut self,
        url: String,
        timeout_ms: u32,
        max_body: u32,
    ) -> Result<wit::HttpResponse, types::ProbeError> {
        let r = match &self.state.script {
            Some(s) => http::check(&self.state.grants, &url).and_then(|()| {
                s.http_get(&url, max_body)
                    .map(|(status, body)| http::Response { status, body })
            }),
            None => http::get(
                &self.state.grants,
                self.state.deadline,
                &url,
                timeout_ms,
                max_body,
            ),
        }
        .map(|r| wit::HttpResponse {
            status: r.status,
            body: r.body,
        });
        self.audit.note(&format!("http-get {url}"), r)
    }
}

/// Links `baton:policy/probe` to the [`ProbeState`] `get` finds in the store data.
pub(crate) fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    get: CapGetter<T, ProbeState>,
) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, HasCapView<ProbeState>>(linker, get)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::time::Duration;
    use wit::Host as _;

    #[test]
    fn allowlist_without_dns() {
        let g = Grants::default().allow_net("127.0.0.1:80").unwrap();
        assert_eq!(
            allowed_target(&g, "localhost", 80),
            Ok("127.0.0.1:80".parse().unwrap())
        );
        assert!(matches!(
            allowed_target(&g, "127.0.0.1", 81),
            Err(CapError::Denied(_))
        ));
        assert!(matches!(
            allowed_target(&g, "127.0.0.2", 80),
            Err(CapError::Denied(_))
        ));
        assert!(matches!(
            allowed_target(&g, "example.com", 80),
            Err(CapError::Denied(_))
        ));
        assert!(matches!(
            allowed_target(&Grants::default(), "127.0.0.1", 80),
            Err(CapError::Denied(_))
        ));
    }

    /// A target outside the grants is refused and recorded, and no connection
    /// is attempted, by either probe.
    #[test]
    fn refused_targets_are_audited_without_touching_the_network() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        let port = l.local_addr().unwrap().port();
        let mut state = ProbeState {
            grants: Arc::new(Grants::default().allow_net("127.0.0.1:1").unwrap()),
            deadline: Deadline::after(Duration::from_secs(1)),
            script: None,
        };
        let mut audit = crate::caps::tests::audit();
        let mut p = CapView::new(&mut state, &mut audit);
        assert!(matches!(
            p.tcp_connect("127.0.0.1".into(), port, 500),
            Err(types::ProbeError::Denied(_))
        ));
        assert!(matches!(
            p.http_get(format!("http://127.0.0.1:{port}/"), 500, 10),
            Err(types::ProbeError::Denied(_))
        ));
        assert!(l.accept().is_err());
        assert_eq!(audit.denials().len(), 2);
        assert!(audit.denials()[0].starts_with(&format!("tcp-connect 127.0.0.1:{port}")));
        assert!(audit.denials()[1].starts_with("http-get http://"));
    }
}
