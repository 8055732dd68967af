//! A small HTTP/1.1 server on 127.0.0.1 around a shared [`Sim`] (std::net + one thread per connection).
//!
//! The server stamps `now_ms` from the real clock, applies injected latency (sleep) and dropped connections
//! (closes the socket without answering), and adds `x-armsim-handle-us` (time spent inside the core).

use crate::{Sim, SimRequest};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A running server.
pub struct Server {
    /// The bound address, e.g. `127.0.0.1:41234`.
    pub addr: std::net::SocketAddr,
    /// The simulator behind it (lock it to inspect state or inject faults in-process).
    pub sim: Arc<Mutex<Sim>>,
    /// Whether it speaks HTTPS (feature `tls`, [`crate::tls::start_tls`]).
    pub tls: bool,
}

impl Server {
    /// Binds 127.0.0.1:`port` (0 = any free port), sets the simulator's base URL to `http://127.0.0.1:{port}`
    /// unless `keep_base_url`, and serves in background threads.
    ///
    /// ```no_run
    /// let s = armsim::server::Server::start(armsim::Sim::from_seed(armsim::Seed::demo()), 0, false).unwrap();
    /// println!("{}", s.url());
    /// ```
    pub fn start(mut sim: Sim, port: u16, keep_base_url: bool) -> std::io::Result<Server> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let addr = listener.local_addr()?;
        if !keep_base_url {
            let mut cfg = sim.config().clone();
            cfg.base_url = format!("http://{addr}");
            sim.set_config(cfg);
        }
        let sim = Arc::new(Mutex::new(sim));
        let shared = sim.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let sim = shared.clone();
                std::thread::spawn(move || {
                    let _ = serve_connection(stream, &sim);
                });
            }
        });
        Ok(Server {
            addr,
            sim,
            tls: false,
        })
    }

    /// `http://127.0.0.1:{port}` (`https://` when serving TLS).
    pub fn url(&self) -> String {
        format!(
            "{}://{}",
            if self.tls { "https" } else { "http" },
            self.addr
        )
    }
}

/// Milliseconds since the Unix epoch from the system clock.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn serve_connection(stream: TcpStream, sim: &Mutex<Sim>) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let tcp = stream.try_clone()?;
    serve_io(stream, sim, &move || {
        let _ = tcp.shutdown(std::net::Shutdown::Both);
    })
}

/// Serves HTTP/1.1 requests on any byte stream (plain TCP or TLS); `shutdown` closes the underlying socket.
pub(crate) fn serve_io<S: Read + Write>(
    io: S,
    sim: &Mutex<Sim>,
    shutdown: &dyn Fn(),
) -> std::io::Result<()> {
    let mut reader = BufReader::new(io);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let line = line.trim_end().to_string();
        if line.is_empty() {
            continue;
        }
        let mut parts = line.split(' ');
        let method = parts.next().unwrap_or("").to_string();
        let target = parts.next().unwrap_or("/").to_string();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h)? == 0 {
                return Ok(());
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_string(), v.trim().to_string()));
            }
        }
        let hv = |n: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.clone())
        };
        if hv("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")) {
            reader
                .get_mut()
                .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
            reader.get_mut().flush()?;
        }
        let mut body = Vec::new();
        if hv("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
            loop {
                let mut size = String::new();
                reader.read_line(&mut size)?;
                let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
                    .unwrap_or(0);
                if n == 0 {
                    let mut end = String::new();
                    reader.read_line(&mut end)?;
                    break;
                }
                let mut chunk = vec![0; n + 2];
                reader.read_exact(&mut chunk)?;
                body.extend_from_slice(&chunk[..n]);
            }
        } else if let Some(n) = hv("content-length").and_then(|v| v.parse::<usize>().ok()) {
            body = vec![0; n];
            reader.read_exact(&mut body)?;
        }
        let http10 = line.ends_with("HTTP/1.0");
        let close = hv("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"))
            || (http10 && !hv("connection").is_some_and(|v| v.eq_ignore_ascii_case("keep-alive")));
        let req = SimRequest {
            method,
            url: target,
            headers: headers.clone(),
            body: String::from_utf8_lossy(&body).into_owned(),
        };
        let started = Instant::now();
        let resp = {
            let mut s = sim.lock().unwrap_or_else(|e| e.into_inner());
            s.handle(req, now_ms())
        };
        let handle_us = started.elapsed().as_micros();
        if resp.delay_ms > 0 {
            std::thread::sleep(Duration::from_millis(resp.delay_ms));
        }
        if resp.drop_connection {
            shutdown();
            return Ok(());
        }
        let mut head = format!("HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status));
        for (k, v) in &resp.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str(&format!("x-armsim-handle-us: {handle_us}\r\n"));
        head.push_str(&format!("Content-Length: {}\r\n", resp.body.len()));
        if close {
            head.push_str("Connection: close\r\n");
        }
        head.push_str("\r\n");
        let out = reader.get_mut();
        out.write_all(head.as_bytes())?;
        out.write_all(resp.body.as_bytes())?;
        out.flush()?;
        if close {
            return Ok(());
        }
    }
}

fn reason(s: u16) -> &'static str {
    match s {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        412 => "Precondition Failed",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}
