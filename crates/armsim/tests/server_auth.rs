//! The binary's part-2 flags over real HTTP: `--jwks` read from a loopback URL, `--auth-issuer`, `--roles`,
//! `--cors-origin` / `--cors-mode strict`, and `--test-token-for`.

use armsim::testing::TestIssuer;
use common::{SUB1, http};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};

mod common;

const READER: &str = "0000a11c-0000-4000-8000-00000000000a";

/// Serves one JWKS document over HTTP on 127.0.0.1 (as a local OpenID provider's `jwks_uri` would).
fn serve_jwks(doc: Value) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut line = String::new();
            while r.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let b = doc.to_string();
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{b}",
                b.len()
            );
        }
    });
    format!("http://{addr}/tenant/discovery/v2.0/keys")
}

struct Running {
    child: Child,
    addr: String,
    lines: Vec<String>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(args: &[&str], lines: usize) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_armsim"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut got = vec![];
    for _ in 0..lines {
        let mut l = String::new();
        out.read_line(&mut l).unwrap();
        got.push(l.trim().to_string());
    }
    let addr = got[0].trim_start_matches("http://").to_string();
    Running {
        child,
        addr,
        lines: got,
    }
}

#[test]
fn jwks_from_a_loopback_url_roles_file_and_strict_cors() {
    let iss = TestIssuer::with_bits(11, 1024);
    let jwks_url = serve_jwks(iss.jwks());
    let dir = std::env::temp_dir().join(format!("armsim-auth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let roles = dir.join("roles.json");
    std::fs::write(&roles, json!([{"principalId": READER, "role": "Reader", "scope": format!("/subscriptions/{SUB1}")}]).to_string()).unwrap();
    let origin = "http://localhost:3000";
    let s = start(
        &[
            "--jwks",
            &jwks_url,
            "--auth-issuer",
            &iss.issuer,
            "--roles",
            roles.to_str().unwrap(),
            "--cors-origin",
            origin,
            "--cors-mode",
            "strict",
        ],
        1,
    );
    let vmss = format!(
        "/subscriptions/{SUB1}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-web?api-version=2024-11-01"
    );
    // preflight without a token
    let r = http(
        &s.addr,
        "OPTIONS",
        &vmss,
        None,
        &[
            ("Origin", origin),
            ("Access-Control-Request-Method", "PATCH"),
            (
                "Access-Control-Request-Headers",
                "authorization,if-match,content-type",
            ),
        ],
    )
    .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Access-Control-Allow-Origin"), Some(origin));
    // no token → 401, readable by the browser (ACAO) but nothing exposed in strict mode
    let r = http(&s.addr, "GET", &vmss, None, &[("Origin", origin)]).unwrap();
    assert_eq!(r.status, 401);
    assert!(
        r.header("WWW-Authenticate")
            .unwrap()
            .contains("error=\"invalid_token\"")
    );
    assert_eq!(r.header("Access-Control-Allow-Origin"), Some(origin));
    assert!(r.header("Access-Control-Expose-Headers").is_none());
    let now = armsim::server::now_ms() / 1000;
    let bearer = format!("Bearer {}", iss.token(READER, now));
    let r = http(&s.addr, "GET", &vmss, None, &[("Authorization", &bearer)]).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let r = http(
        &s.addr,
        "PATCH",
        &vmss,
        Some(&json!({"identity": {"type": "SystemAssigned"}})),
        &[("Authorization", &bearer)],
    )
    .unwrap();
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_str()),
        (403, Some("AuthorizationFailed"))
    );
    // the subscriptions list shows only what the caller holds a role in
    let r = http(
        &s.addr,
        "GET",
        "/subscriptions?api-version=2022-12-01",
        None,
        &[("Authorization", &bearer)],
    )
    .unwrap();
    let b = r.json();
    let ids: Vec<&str> = b["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["subscriptionId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![SUB1]);
    // another principal, and a token of another issuer
    let get_with = |token: String| {
        let bearer = format!("Bearer {token}");
        http(&s.addr, "GET", &vmss, None, &[("Authorization", &bearer)]).unwrap()
    };
    let r = get_with(iss.token("0000dead-0000-4000-8000-000000000000", now));
    assert_eq!(r.status, 403);
    let other = TestIssuer::with_bits(12, 1024);
    let r = get_with(other.token(READER, now));
    assert_eq!(r.status, 401);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn test_token_for_prints_a_token_the_server_accepts() {
    let s = start(&["--test-token-for", READER], 2);
    let tok = s.lines[1].strip_prefix("token ").unwrap().to_string();
    assert_eq!(tok.split('.').count(), 3);
    let r = http(
        &s.addr,
        "GET",
        "/subscriptions?api-version=2022-12-01",
        None,
        &[("Authorization", &format!("Bearer {tok}"))],
    )
    .unwrap();
    assert_eq!(r.status, 200);
    let r = http(
        &s.addr,
        "GET",
        "/subscriptions?api-version=2022-12-01",
        None,
        &[],
    )
    .unwrap();
    assert_eq!(r.status, 401);
}

#[test]
fn bad_auth_flags_are_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_armsim"))
        .args(["--jwks", "/nonexistent/jwks.json", "--auth-issuer", "x"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let out = Command::new(env!("CARGO_BIN_EXE_armsim"))
        .args(["--jwks", "http://example.com/keys", "--auth-issuer", "x"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
    let out = Command::new(env!("CARGO_BIN_EXE_armsim"))
        .args(["--cors-mode", "lax"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}
