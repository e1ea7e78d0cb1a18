//! `probe.tcp-connect`: open and close a TCP connection to an allowed target.

use std::net::TcpStream;
use std::time::Instant;

use super::allowed_target;
use crate::caps::{CapError, Deadline};
use crate::grants::Grants;

/// Closes with a reset instead of a FIN, as HAProxy's checks do: a probe every
/// few milliseconds that closed first would leave one TIME_WAIT socket (and
/// an ephemeral port) per check on this host for a minute.
pub fn close_with_reset(stream: TcpStream) {
    let _ = socket2::SockRef::from(&stream).set_linger(Some(std::time::Duration::ZERO));
}

/// Connects within `min(timeout_ms, remaining budget)`; returns the connect time in µs.
pub fn connect(
    grants: &Grants,
    deadline: Deadline,
    host: &str,
    port: u16,
    timeout_ms: u32,
) -> Result<u64, CapError> {
    let addr = allowed_target(grants, host, port)?;
    let timeout = deadline.timeout(timeout_ms)?;
    let t0 = Instant::now();
    let stream = TcpStream::connect_timeout(&addr, timeout).map_err(|e| CapError::from_io(&e))?;
    let us = u64::try_from(t0.elapsed().as_micros()).unwrap_or(u64::MAX);
    close_with_reset(stream);
    Ok(us)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::time::Duration;

    fn grants(p: &str) -> Grants {
        Grants::default().allow_net(p).unwrap()
    }

    #[test]
    fn leaves_no_socket_behind() {
        let port = crate::caps::probe::http::tests::lingering_server(b"");
        let g = grants(&format!("127.0.0.1:{port}"));
        let d = Deadline::after(Duration::from_secs(1));
        for _ in 0..5 {
            assert!(connect(&g, d, "127.0.0.1", port, 500).is_ok());
        }
        assert_eq!(crate::caps::probe::http::tests::left_to(port), 0);
    }

    #[test]
    fn open_port_connects() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let g = grants(&format!("127.0.0.1:{port}"));
        let d = Deadline::after(Duration::from_secs(1));
        assert!(connect(&g, d, "127.0.0.1", port, 500).is_ok());
        assert!(connect(&g, d, "localhost", port, 500).is_ok());
    }

    #[test]
    fn closed_port_is_refused() {
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let g = grants("127.0.0.1:*");
        let d = Deadline::after(Duration::from_secs(1));
        assert_eq!(connect(&g, d, "127.0.0.1", port, 500), Err(CapError::Refused));
    }

    #[test]
    fn denied_without_connecting() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        let port = l.local_addr().unwrap().port();
        let g = grants("127.0.0.1:1");
        let d = Deadline::after(Duration::from_secs(1));
        assert!(matches!(
            connect(&g, d, "127.0.0.1", port, 500),
            Err(CapError::Denied(_))
        ));
        assert!(matches!(
            connect(&g, d, "example.com", 1, 500),
            Err(CapError::Denied(_))
        ));
        // Nothing reached the listener.
        assert!(l.accept().is_err());
    }

    #[test]
    fn spent_budget_times_out_at_once() {
        let g = grants("127.0.0.1:*");
        let d = Deadline(Instant::now());
        assert_eq!(connect(&g, d, "127.0.0.1", 1, 500), Err(CapError::Timeout));
    }
}
