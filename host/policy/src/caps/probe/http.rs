//! `probe.http-get`: a small HTTP/1.1 GET client over `TcpStream` (http:// only).
//!
//! One request, `Connection: close`, bounded everywhere: connect and every read and
//! write use `min(timeout, remaining budget)`, the head is read up to 16 KiB, the body
//! up to `max-body` (itself capped at 1 MiB). Content-Length and chunked bodies are
//! understood; otherwise the body runs to EOF.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use super::allowed_target;
use crate::caps::{CapError, Deadline};
use crate::grants::Grants;

/// Largest `max-body` honoured.
pub const MAX_BODY_CAP: u32 = 1 << 20;
const HEAD_CAP: usize = 16 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

/// `http://HOST[:PORT][/PATH]` split up; HOST is kept as written (for `Host:`).
#[derive(Debug, PartialEq, Eq)]
struct Url<'a> {
    host: &'a str,
    port: u16,
    authority: &'a str,
    path: String,
}

fn parse_url(url: &str) -> Result<Url<'_>, CapError> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| CapError::Denied(format!("{url}: only http:// URLs are supported")))?;
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let bad = || CapError::Failed(format!("{url}: malformed URL"));
    if authority.contains('@') || authority.is_empty() {
        return Err(bad());
    }
    let (host, port) = if authority.starts_with('[') {
        match authority.find(']') {
            Some(i) => {
                let port = match &authority[i + 1..] {
                    "" => 80,
                    p => p.strip_prefix(':').and_then(|p| p.parse().ok()).ok_or_else(bad)?,
                };
                (&authority[..=i], port)
            }
            None => return Err(bad()),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().map_err(|_| bad())?),
            None => (authority, 80),
        }
    };
    if path.bytes().any(|b| b.is_ascii_control() || b == b' ') {
        return Err(bad());
    }
    let path = if path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_string()
    };
    Ok(Url {
        host,
        port,
        authority,
        path,
    })
}

struct Conn {
    stream: TcpStream,
    deadline: Deadline,
    end: Instant,
    buf: Vec<u8>,
    pos: usize,
    eof: bool,
}

impl Conn {
    fn time_left(&self) -> Result<Duration, CapError> {
        let t = self
            .end
            .saturating_duration_since(Instant::now())
            .min(self.deadline.remaining());
        if t.is_zero() {
            Err(CapError::Timeout)
        } else {
            Ok(t)
        }
    }

    /// Closes after a complete response. Normally the server has closed
    /// already (`Connection: close`) and its FIN is here: closing second
    /// leaves no TIME_WAIT socket on this host. Otherwise (FIN not here yet,
    /// or body left unread) close with a reset, as HAProxy's checks do,
    /// rather than leave one TIME_WAIT socket per check for a minute.
    fn close(self) {
        if !self.eof {
            let mut rest = [0u8; 512];
            let peek = nix::sys::socket::recv(
                self.stream.as_raw_fd(),
                &mut rest,
                nix::sys::socket::MsgFlags::MSG_DONTWAIT,
            );
            if peek != Ok(0) {
                super::tcp::close_with_reset(self.stream);
            }
        }
    }

    /// Reads more bytes into the buffer; false at EOF.
    fn fill(&mut self) -> Result<bool, CapError> {
        if self.eof {
            return Ok(false);
        }
        let t = self.time_left()?;
        self.stream
            .set_read_timeout(Some(t))
            .map_err(|e| CapError::from_io(&e))?;
        let mut chunk = [0u8; 8192];
        let n = self.stream.read(&mut chunk).map_err(|e| CapError::from_io(&e))?;
        if n == 0 {
            self.eof = true;
            return Ok(false);
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(true)
    }

    fn avail(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    /// A line ending in CRLF (or LF), without it; bounded by `cap`.
    fn line(&mut self, cap: usize) -> Result<String, CapError> {
        loop {
            if let Some(i) = self.avail().iter().position(|&b| b == b'\n') {
                let line = &self.buf[self.pos..self.pos + i];
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                let s = String::from_utf8_lossy(line).into_owned();
                self.pos += i + 1;
                return Ok(s);
            }
            if self.avail().len() > cap {
                return Err(CapError::Failed("response head too long".into()));
            }
            if !self.fill()? {
                return Err(CapError::Failed("connection closed in the response head".into()));
            }
        }
    }

    /// Up to `n` body bytes (fewer at EOF).
    fn take(&mut self, n: usize, out: &mut Vec<u8>) -> Result<usize, CapError> {
        let mut got = 0;
        while got < n {
            if self.avail().is_empty() && !self.fill()? {
                break;
            }
            let k = self.avail().len().min(n - got);
            out.extend_from_slice(&self.buf[self.pos..self.pos + k]);
            self.pos += k;
            got += k;
        }
        Ok(got)
    }
}

/// GETs `url` within `min(timeout_ms, remaining budget)`, keeping at most `max_body` bytes.
/// The checks a GET passes before any socket exists: an http:// URL, a
/// target the grants allow.
pub fn check(grants: &Grants, url: &str) -> Result<(), CapError> {
    let u = parse_url(url)?;
    allowed_target(grants, u.host, u.port).map(|_| ())
}

pub fn get(
    grants: &Grants,
    deadline: Deadline,
    url: &str,
    timeout_ms: u32,
    max_body: u32,
) -> Result<Response, CapError> {
    let u = parse_url(url)?;
    let addr = allowed_target(grants, u.host, u.port)?;
    let timeout = deadline.timeout(timeout_ms)?;
    let end = Instant::now() + timeout;
    let stream = TcpStream::connect_timeout(&addr, timeout).map_err(|e| CapError::from_io(&e))?;
    let _ = stream.set_nodelay(true);
    let mut conn = Conn {
        stream,
        deadline,
        end,
        buf: Vec::new(),
        pos: 0,
        eof: false,
    };

    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: baton-policy\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        u.path, u.authority
    );
    let t = conn.time_left()?;
    conn.stream
        .set_write_timeout(Some(t))
        .map_err(|e| CapError::from_io(&e))?;
    conn.stream
        .write_all(request.as_bytes())
        .map_err(|e| CapError::from_io(&e))?;

    // Status line, skipping interim 1xx responses.
    let status = loop {
        let line = conn.line(HEAD_CAP)?;
        let mut parts = line.splitn(3, ' ');
        let (version, code) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        if !version.starts_with("HTTP/1.") || code.len() != 3 {
            return Err(CapError::Failed(format!(
                "not an HTTP/1.x status line: {:.80}",
                line
            )));
        }
        let status: u16 = code
            .parse()
            .map_err(|_| CapError::Failed(format!("bad status code {code:?}")))?;
        let mut head = 0usize;
        let mut content_length = None;
        let mut chunked = false;
        loop {
            let h = conn.line(HEAD_CAP)?;
            head += h.len();
            if head > HEAD_CAP {
                return Err(CapError::Failed("response head too long".into()));
            }
            if h.is_empty() {
                break;
            }
            if let Some((name, value)) = h.split_once(':') {
                let value = value.trim();
                if name.eq_ignore_ascii_case("content-length") {
                    content_length = value.parse::<u64>().ok();
                } else if name.eq_ignore_ascii_case("transfer-encoding") {
                    chunked = value.to_ascii_lowercase().contains("chunked");
                }
            }
        }
        if (100..200).contains(&status) {
            continue;
        }
        break (status, content_length, chunked);
    };
    let (status, content_length, chunked) = status;
    let max = max_body.min(MAX_BODY_CAP) as usize;
    let mut body = Vec::new();
    if chunked {
        while body.len() < max {
            let size_line = conn.line(1024)?;
            let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| CapError::Failed("bad chunk size".into()))?;
            if size == 0 {
                break;
            }
            let want = size.min(max - body.len());
            if conn.take(want, &mut body)? < want {
                break;
            }
            if want < size {
                break;
            }
            conn.line(16)?;
        }
    } else {
        let want = content_length.map_or(max, |n| usize::try_from(n).unwrap_or(usize::MAX).min(max));
        conn.take(want, &mut body)?;
    }
    conn.close();
    Ok(Response { status, body })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::thread;

    /// Serves one connection with `response`, returning the request it read.
    fn serve_once(response: &'static [u8], delay: Duration) -> (u16, thread::JoinHandle<String>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let h = thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut req = Vec::new();
            let mut b = [0u8; 1024];
            while !req.ends_with(b"\r\n\r\n") {
                let n = s.read(&mut b).unwrap();
                if n == 0 {
                    break;
                }
                req.extend_from_slice(&b[..n]);
            }
            thread::sleep(delay);
            let _ = s.write_all(response);
            String::from_utf8(req).unwrap()
        });
        (port, h)
    }

    fn grants() -> Grants {
        Grants::default().allow_net("127.0.0.1:*").unwrap()
    }

    /// Sockets on this host whose remote end is 127.0.0.1:`port`: after a
    /// check, any is one it left behind (FIN_WAIT or TIME_WAIT: this side
    /// closed first).
    pub(crate) fn left_to(port: u16) -> usize {
        let tcp = std::fs::read_to_string("/proc/net/tcp").unwrap();
        let remote = format!("0100007F:{port:04X}");
        tcp.lines()
            .skip(1)
            .filter(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                f.get(2) == Some(&remote.as_str())
            })
            .count()
    }

    /// A server that answers every connection and then keeps it open, as one
    /// that ignores `Connection: close` does: the checker must close first.
    pub(crate) fn lingering_server(response: &'static [u8]) -> u16 {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        thread::spawn(move || {
            let mut held = Vec::new();
            for s in l.incoming() {
                let Ok(mut s) = s else { continue };
                let mut b = [0u8; 1024];
                let _ = s.read(&mut b);
                let _ = s.write_all(response);
                held.push(s);
            }
        });
        port
    }

    /// Checks every few ms must not leave a socket each (a closed-first one
    /// lingers in FIN_WAIT/TIME_WAIT for up to a minute): whether the server
    /// closes first or not, nothing is left on this side.
    #[test]
    fn leaves_no_socket_behind() {
        let port = lingering_server(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        let url = format!("http://127.0.0.1:{port}/");
        let d = Deadline::after(Duration::from_secs(5));
        for _ in 0..5 {
            assert_eq!(get(&grants(), d, &url, 1000, 0).unwrap().status, 200);
        }
        for _ in 0..5 {
            let (port, h) = serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", Duration::ZERO);
            let url = format!("http://127.0.0.1:{port}/");
            assert_eq!(get(&grants(), d, &url, 1000, 0).unwrap().status, 200);
            h.join().unwrap();
            assert_eq!(left_to(port), 0);
        }
        assert_eq!(left_to(port), 0);
    }

    #[test]
    fn url_parsing() {
        assert_eq!(
            parse_url("http://127.0.0.1:8080/x?y").unwrap(),
            Url {
                host: "127.0.0.1",
                port: 8080,
                authority: "127.0.0.1:8080",
                path: "/x?y".into()
            }
        );
        assert_eq!(parse_url("http://[::1]/").unwrap().host, "[::1]");
        assert_eq!(parse_url("http://localhost").unwrap().path, "/");
        assert!(matches!(
            parse_url("https://127.0.0.1/"),
            Err(CapError::Denied(_))
        ));
        assert!(parse_url("http://a@b/").is_err());
        assert!(parse_url("http://1.2.3.4/a b").is_err());
    }

    #[test]
    fn content_length_body_and_request_shape() {
        let (port, h) = serve_once(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello-extra",
            Duration::ZERO,
        );
        let url = format!("http://127.0.0.1:{port}/health");
        let r = get(
            &grants(),
            Deadline::after(Duration::from_secs(2)),
            &url,
            1000,
            100,
        )
        .unwrap();
        assert_eq!(
            r,
            Response {
                status: 200,
                body: b"hello".to_vec()
            }
        );
        let req = h.join().unwrap();
        assert!(req.starts_with("GET /health HTTP/1.1\r\n"), "{req}");
        assert!(req.contains(&format!("Host: 127.0.0.1:{port}\r\n")));
        assert!(req.contains("Connection: close\r\n"));
    }

    #[test]
    fn body_is_bounded_and_chunked_is_decoded() {
        let (port, _h) = serve_once(
            b"HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n",
            Duration::ZERO,
        );
        let url = format!("http://127.0.0.1:{port}/");
        let r = get(&grants(), Deadline::after(Duration::from_secs(2)), &url, 1000, 6).unwrap();
        assert_eq!(
            r,
            Response {
                status: 503,
                body: b"abcdef".to_vec()
            }
        );
        let (port, _h) = serve_once(b"HTTP/1.0 404 Not Found\r\n\r\n0123456789", Duration::ZERO);
        let url = format!("http://127.0.0.1:{port}/");
        let r = get(&grants(), Deadline::after(Duration::from_secs(2)), &url, 1000, 4).unwrap();
        assert_eq!(
            r,
            Response {
                status: 404,
                body: b"0123".to_vec()
            }
        );
    }

    #[test]
    fn slow_server_is_cut_by_budget() {
        let (port, _h) = serve_once(b"HTTP/1.1 200 OK\r\n\r\n", Duration::from_millis(500));
        let url = format!("http://127.0.0.1:{port}/");
        let t0 = Instant::now();
        let r = get(
            &grants(),
            Deadline::after(Duration::from_millis(60)),
            &url,
            10_000,
            10,
        );
        assert_eq!(r, Err(CapError::Timeout));
        assert!(t0.elapsed() < Duration::from_millis(120), "{:?}", t0.elapsed());
    }

    #[test]
    fn denied_targets() {
        let g = Grants::default().allow_net("127.0.0.1:80").unwrap();
        let d = Deadline::after(Duration::from_secs(1));
        assert!(matches!(
            get(&g, d, "http://127.0.0.1:81/", 100, 10),
            Err(CapError::Denied(_))
        ));
        assert!(matches!(
            get(&g, d, "http://example.com/", 100, 10),
            Err(CapError::Denied(_))
        ));
    }
}
