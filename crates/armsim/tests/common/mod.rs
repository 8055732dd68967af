//! Helpers shared by armsim's test files (each includes this module with `mod common;`): the demo tenant's ids,
//! the recordings' folder, and a small HTTP/1.1 client for the server tests.
#![allow(dead_code)] // every test file uses a part of it

use armsim::{Seed, Sim, SimConfig, SimRequest};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::Duration;

/// The demo tenant's subscriptions (`Seed::demo()`).
pub const SUB1: &str = "11111111-1111-4111-8111-111111111111";
pub const SUB2: &str = "22222222-2222-4222-8222-222222222222";

pub fn rg(sub: &str, g: &str) -> String {
    format!("/subscriptions/{sub}/resourceGroups/{g}")
}

/// A scale set in the demo's first subscription.
pub fn vmss(g: &str, n: &str) -> String {
    format!(
        "{}/providers/Microsoft.Compute/virtualMachineScaleSets/{n}",
        rg(SUB1, g)
    )
}

/// A user-assigned identity in the demo's first subscription.
pub fn ua(g: &str, n: &str) -> String {
    format!(
        "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{n}",
        rg(SUB1, g)
    )
}

/// The demo tenant in-process with its own clock (`now`, ms); each test file adds its request helpers.
pub struct T {
    pub sim: Sim,
    pub now: u64,
}

impl T {
    pub fn demo_at(cfg: SimConfig, now: u64) -> T {
        T {
            sim: Sim::with_config(Seed::demo(), cfg),
            now,
        }
    }
}

/// The demo tenant in-process with the control endpoint on, after `POST /_armsim/config` with `body` (at time 0);
/// returned with the endpoint's answer (the settings now in force).
pub fn demo_configured(body: Value) -> (Sim, Value) {
    let mut sim = Sim::with_config(
        Seed::demo(),
        SimConfig {
            control: true,
            ..SimConfig::default()
        },
    );
    let r = sim.handle(SimRequest::new("POST", "/_armsim/config").json(&body), 0);
    (sim, r.json())
}

/// `shared/arm/recordings` above the crate (or `ARMSIM_RECORDINGS`).
pub fn recordings_dir() -> PathBuf {
    if let Ok(d) = std::env::var("ARMSIM_RECORDINGS") {
        return PathBuf::from(d);
    }
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    loop {
        let cand = dir.join("shared/arm/recordings");
        if cand.is_dir() {
            return cand;
        }
        assert!(
            dir.pop(),
            "shared/arm/recordings not found above the crate (set ARMSIM_RECORDINGS)"
        );
    }
}

/// An HTTP answer read by [`http`].
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn header(&self, n: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// One request on a fresh connection (`Connection: close`) to `base` (`http://host:port` or `host:port`); `url`
/// is a path or starts with `base`. Err when the server closes without answering.
pub fn http(
    base: &str,
    method: &str,
    url: &str,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> std::io::Result<Resp> {
    let hostport = base.trim_start_matches("http://").trim_end_matches('/');
    let path = url.strip_prefix(base).unwrap_or(url);
    let mut s = TcpStream::connect(hostport)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let b = body.map(Value::to_string).unwrap_or_default();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\nContent-Length: {}\r\n",
        b.len()
    );
    if body.is_some() {
        req.push_str("Content-Type: application/json\r\n");
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(&b);
    s.write_all(req.as_bytes())?;
    let mut raw = String::new();
    s.read_to_string(&mut raw)?;
    if raw.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "closed without an answer",
        ));
    }
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| {
            l.split_once(": ")
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect();
    Ok(Resp {
        status,
        headers,
        body: body.to_string(),
    })
}

/// Starts the `armsim` binary with `args` (include `--port 0`), reads the URL it prints first, runs `f` on it,
/// then kills the binary, whether `f` passed or panicked (the panic is the test's failure).
#[cfg(feature = "server")]
pub fn with_binary(args: &[&str], f: impl FnOnce(&str) + std::panic::UnwindSafe) {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_armsim"))
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line.trim().to_string();
    let result = std::panic::catch_unwind(|| f(&base));
    child.kill().unwrap();
    child.wait().unwrap();
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
}
