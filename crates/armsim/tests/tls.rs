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
