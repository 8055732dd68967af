//! The server over HTTPS with a throw-away CA made at test time: a rustls client that trusts only that CA
//! gets answers; one that trusts nothing fails the handshake.

use armsim::tls::{TlsIdentity, start_tls};
use armsim::{Seed, Sim};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

fn client(roots: rustls::RootCertStore) -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

fn get(
    cfg: Arc<rustls::ClientConfig>,
    addr: std::net::SocketAddr,
    host: &str,
    path: &str,
) -> std::io::Result<String> {
    let name = ServerName::try_from(host.to_string()).unwrap();
    let conn = rustls::ClientConnection::new(cfg, name).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, TcpStream::connect(addr)?);
    write!(
        tls,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )?;
    let mut out = String::new();
    match tls.read_to_string(&mut out) {
        Ok(_) => Ok(out),
        Err(e) if !out.is_empty() && e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(out),
        Err(e) => Err(e),
    }
}

#[test]
fn https_with_a_throw_away_ca() {
    let id = TlsIdentity::generate().unwrap();
    assert!(id.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
    let s = start_tls(Sim::from_seed(Seed::demo()), 0, false, &id).unwrap();
    assert!(s.url().starts_with("https://127.0.0.1:"));
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(id.ca_pem.as_bytes()).unwrap())
        .unwrap();
    let cfg = client(roots);
    for host in ["127.0.0.1", "localhost"] {
        let r = get(
            cfg.clone(),
            s.addr,
            host,
            "/subscriptions?api-version=2022-12-01",
        )
        .unwrap();
        assert!(r.starts_with("HTTP/1.1 200"), "{r}");
        assert!(r.contains("\"subscriptionId\""));
    }
    // nextLink and operation URLs carry the https origin
    let sim = s.sim.lock().unwrap();
    assert!(sim.config().base_url.starts_with("https://127.0.0.1:"));
    drop(sim);
    // a client that does not trust the throw-away CA cannot connect
    let untrusting = client(rustls::RootCertStore::empty());
    assert!(
        get(
            untrusting,
            s.addr,
            "127.0.0.1",
            "/subscriptions?api-version=2022-12-01"
        )
        .is_err()
    );
    // another CA's certificate is not accepted either
    let other = TlsIdentity::generate().unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(other.ca_pem.as_bytes()).unwrap())
        .unwrap();
    assert!(get(client(roots), s.addr, "127.0.0.1", "/").is_err());
}

/// `--jwks https://127.0.0.1:…/keys --jwks-ca FILE`: the binary reads the provider's JWKS over TLS (here served
/// chunked, as Node servers may) and then accepts that provider's tokens.
#[test]
fn jwks_over_https_with_the_providers_ca() {
    use std::io::{BufRead, BufReader};
    let idp_cert = TlsIdentity::generate().unwrap();
    let issuer = armsim::testing::TestIssuer::with_bits(21, 1024);
    let jwks = issuer.jwks().to_string();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(idp_cert.chain.clone(), idp_cert.key.clone_key())
            .unwrap(),
    );
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let idp = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let conn = rustls::ServerConnection::new(cfg.clone()).unwrap();
            let mut tls = rustls::StreamOwned::new(conn, s);
            let mut r = BufReader::new(&mut tls);
            let mut line = String::new();
            while r.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let (a, b) = jwks.split_at(jwks.len() / 2);
            let _ = write!(
                tls,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n",
                a.len(),
                b.len()
            );
            let _ = tls.flush();
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
    });
    let dir = std::env::temp_dir().join(format!("armsim-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("idp-ca.pem");
    std::fs::write(&ca, &idp_cert.ca_pem).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_armsim"))
        .args([
            "--jwks",
            &format!(
                "https://127.0.0.1:{}/tenant/discovery/v2.0/keys",
                idp.port()
            ),
            "--jwks-ca",
            ca.to_str().unwrap(),
            "--auth-issuer",
            &issuer.issuer,
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut url = String::new();
    out.read_line(&mut url).unwrap();
    let addr = url.trim().trim_start_matches("http://").to_string();
    assert!(
        !addr.is_empty(),
        "armsim did not start: {:?}",
        child
            .wait_with_output()
            .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
    );
    let token = issuer.token(
        "0000a11c-0000-4000-8000-0000000000aa",
        armsim::server::now_ms() / 1000,
    );
    let ask = |auth: Option<&str>| {
        let mut s = TcpStream::connect(&addr).unwrap();
        let h = auth
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        write!(s, "GET /subscriptions?api-version=2022-12-01 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{h}\r\n").unwrap();
        let mut r = String::new();
        s.read_to_string(&mut r).unwrap();
        r
    };
    assert!(ask(Some(&token)).starts_with("HTTP/1.1 200"));
    assert!(ask(None).starts_with("HTTP/1.1 401"));
    let _ = child.kill();
    let _ = child.wait();
    // without the CA the provider's certificate is not trusted: the binary refuses to start
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_armsim"))
        .args([
            "--jwks",
            &format!("https://127.0.0.1:{}/keys", idp.port()),
            "--auth-issuer",
            "x",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--jwks-ca"));
    let _ = std::fs::remove_dir_all(&dir);
}
