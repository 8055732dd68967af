//! A tiny blocking HTTP/1.1 client over `std::net` for native integration tests
//! against the armsim server (plain `http://` only; one connection per request).

use crate::http::{HttpRequest, HttpResponse, LocalBoxFuture, Transport, TransportError};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Sends each request on a fresh TCP connection (`Connection: close`).
#[derive(Debug, Clone)]
pub struct TcpTransport {
    /// Read/write timeout per request.
    pub timeout: Duration,
}

impl Default for TcpTransport {
    fn default() -> Self {
        TcpTransport {
            timeout: Duration::from_secs(30),
        }
    }
}

impl Transport for TcpTransport {
    fn send(&self, req: HttpRequest) -> LocalBoxFuture<'_, Result<HttpResponse, TransportError>> {
        let out = self.send_blocking(&req);
        Box::pin(std::future::ready(out))
    }
}

impl TcpTransport {
    /// Send one request and read the whole response.
    pub fn send_blocking(&self, req: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let rest = req
            .url
            .strip_prefix("http://")
            .ok_or_else(|| TransportError::Invalid(format!("only http:// URLs: {}", req.url)))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let addr = if authority.contains(':') {
            authority.to_string()
        } else {
            format!("{authority}:80")
        };
        let net = |e: std::io::Error| TransportError::Network(e.to_string());
        let mut s = TcpStream::connect(&addr).map_err(net)?;
        s.set_read_timeout(Some(self.timeout)).map_err(net)?;
        s.set_write_timeout(Some(self.timeout)).map_err(net)?;
        let mut head = format!(
            "{} {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            req.method.as_str(),
            path,
            authority
        );
        for (k, v) in &req.headers {
            if k.contains(['\r', '\n', ':']) || v.contains(['\r', '\n']) {
                return Err(TransportError::Invalid(format!("bad header {k}")));
            }
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        let body = req.body.as_deref().unwrap_or(&[]);
        if req.body.is_some() || req.method.as_str() != "GET" {
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        let mut wire = head.into_bytes();
        wire.extend_from_slice(body);
        s.write_all(&wire).map_err(net)?;
        s.flush().map_err(net)?;
        read_response(BufReader::new(s)).map_err(net)
    }
}

fn bad(msg: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, msg.to_string())
}

fn read_response<R: BufRead>(mut r: R) -> std::io::Result<HttpResponse> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "connection closed before a response",
        ));
    }
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("bad status line"))?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            return Err(bad("connection closed in headers"));
        }
        let l = line.trim_end_matches(['\r', '\n']);
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let h = |n: &str| {
        headers
            .iter()
            .find(|(k, _): &&(String, String)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.clone())
    };
    let mut body = Vec::new();
    if h("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
        loop {
            line.clear();
            if r.read_line(&mut line)? == 0 {
                return Err(bad("connection closed in a chunk"));
            }
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| bad("bad chunk size"))?;
            if size == 0 {
                break;
            }
            let start = body.len();
            body.resize(start + size, 0);
            r.read_exact(&mut body[start..])?;
            line.clear();
            r.read_line(&mut line)?;
        }
    } else if let Some(n) = h("content-length") {
        let n: usize = n.parse().map_err(|_| bad("bad content-length"))?;
        body.resize(n, 0);
        r.read_exact(&mut body)?;
    } else if !(status == 204 || status == 304 || (100..200).contains(&status)) {
        r.read_to_end(&mut body)?;
    }
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Method;
    use std::io::Read;
    use std::net::TcpListener;

    /// A one-shot server on 127.0.0.1 answering with `reply`; returns its URL and a
    /// handle yielding the raw request it read.
    fn serve(reply: &'static [u8]) -> (String, std::thread::JoinHandle<String>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        let h = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            // read the head, then as many body bytes as Content-Length says
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                let n = s.read(&mut buf).unwrap();
                got.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&got).into_owned();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text[..end]
                        .lines()
                        .find_map(|l| l.strip_prefix("Content-Length: "))
                        .map(|v| v.trim().parse::<usize>().unwrap())
                        .unwrap_or(0);
                    if got.len() >= end + 4 + len || n == 0 {
                        break;
                    }
                } else if n == 0 {
                    break;
                }
            }
            s.write_all(reply).unwrap();
            String::from_utf8_lossy(&got).into_owned()
        });
        (url, h)
    }

    #[test]
    fn content_length_and_request_shape() {
        let (url, h) = serve(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nETag: \"1\"\r\n\r\n{}");
        let mut req = HttpRequest::new(Method::Patch, format!("{url}/a?b=1"));
        req.set_header("Authorization", "Bearer t");
        req.body = Some(b"{\"x\":1}".to_vec());
        let r = TcpTransport::default().send_blocking(&req).unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"{}"[..]));
        assert_eq!(r.header("etag"), Some("\"1\""));
        let raw = h.join().unwrap();
        assert!(raw.starts_with("PATCH /a?b=1 HTTP/1.1\r\n"), "{raw}");
        assert!(raw.contains("Authorization: Bearer t\r\n"));
        assert!(raw.ends_with("Content-Length: 7\r\n\r\n{\"x\":1}"));
    }

    #[test]
    fn chunked_bodies_and_dropped_connections() {
        let (url, h) = serve(
            b"HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        );
        let r = TcpTransport::default()
            .send_blocking(&HttpRequest::new(Method::Get, format!("{url}/")))
            .unwrap();
        assert_eq!((r.status, r.body.as_slice()), (202, &b"abcde"[..]));
        h.join().unwrap();
        let (url, h) = serve(b"");
        let e = TcpTransport::default()
            .send_blocking(&HttpRequest::new(Method::Get, format!("{url}/")))
            .unwrap_err();
        assert!(matches!(e, TransportError::Network(_)), "{e:?}");
        h.join().unwrap();
        let e = TcpTransport::default()
            .send_blocking(&HttpRequest::new(Method::Get, "https://x/"))
            .unwrap_err();
        assert!(matches!(e, TransportError::Invalid(_)));
    }
}

/// [`TcpTransport`] made concurrent: each request runs on a thread of its own and its future completes when the
/// answer is read (the waker is called from that thread), so many requests are in flight at once — for a batch
/// run natively on a real clock ([`crate::bulk::RealClock`]).
#[derive(Debug, Clone, Default)]
pub struct ThreadedTcpTransport {
    pub inner: TcpTransport,
}

type Slot = std::sync::Arc<
    std::sync::Mutex<(
        Option<Result<HttpResponse, TransportError>>,
        Option<std::task::Waker>,
    )>,
>;

struct Pending(Slot);

impl std::future::Future for Pending {
    type Output = Result<HttpResponse, TransportError>;
    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match s.0.take() {
            Some(r) => std::task::Poll::Ready(r),
            None => {
                s.1 = Some(cx.waker().clone());
                std::task::Poll::Pending
            }
        }
    }
}

impl Transport for ThreadedTcpTransport {
    fn send(&self, req: HttpRequest) -> LocalBoxFuture<'_, Result<HttpResponse, TransportError>> {
        let slot: Slot = Default::default();
        let s2 = slot.clone();
        let t = self.inner.clone();
        let spawned = std::thread::Builder::new().spawn(move || {
            let r = t.send_blocking(&req);
            let w = {
                let mut s = s2.lock().unwrap_or_else(|e| e.into_inner());
                s.0 = Some(r);
                s.1.take()
            };
            if let Some(w) = w {
                w.wake();
            }
        });
        if let Err(e) = spawned {
            return Box::pin(std::future::ready(Err(TransportError::Network(format!(
                "no thread for the request: {e}"
            )))));
        }
        Box::pin(Pending(slot))
    }
}
