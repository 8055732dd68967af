//! HTTPS for the server (feature `tls`): a throw-away certificate authority and a `127.0.0.1` / `localhost`
//! server certificate made when the server starts (rcgen), served with rustls. Clients trust the CA's PEM
//! (`ca_pem`, written by `--tls-ca-out FILE`), or the server uses a given certificate and key (PEM files).
//!
//! ```no_run
//! use armsim::{Seed, Sim};
//! use armsim::tls::{TlsIdentity, start_tls};
//! let id = TlsIdentity::generate().unwrap();
//! std::fs::write("/tmp/armsim-ca.pem", &id.ca_pem).unwrap();
//! let s = start_tls(Sim::from_seed(Seed::demo()), 0, false, &id).unwrap();
//! println!("https://{}", s.addr);
//! ```

use crate::Sim;
use crate::server::{Server, serve_io};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// A certificate chain and key for the server, and the PEM of the CA that clients should trust.
pub struct TlsIdentity {
    /// Server certificate first, then the CA.
    pub chain: Vec<CertificateDer<'static>>,
    /// The server key (PKCS#8).
    pub key: PrivateKeyDer<'static>,
    /// The CA certificate as PEM (what a client puts in its trust store).
    pub ca_pem: String,
}

impl TlsIdentity {
    /// A fresh CA ("armsim throw-away CA") and a server certificate for `127.0.0.1`, `localhost` and `::1`.
    pub fn generate() -> Result<TlsIdentity, String> {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
        let e = |x: rcgen::Error| x.to_string();
        let ca_key = KeyPair::generate().map_err(e)?;
        let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(e)?;
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "armsim throw-away CA");
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca.self_signed(&ca_key).map_err(e)?;
        let leaf_key = KeyPair::generate().map_err(e)?;
        let mut leaf = CertificateParams::new(vec![
            "127.0.0.1".to_string(),
            "localhost".to_string(),
            "::1".to_string(),
        ])
        .map_err(e)?;
        leaf.distinguished_name.push(DnType::CommonName, "armsim");
        leaf.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        leaf.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let leaf_cert = leaf.signed_by(&leaf_key, &ca_cert, &ca_key).map_err(e)?;
        Ok(TlsIdentity {
            chain: vec![leaf_cert.der().clone(), ca_cert.der().clone()],
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
            ca_pem: ca_cert.pem(),
        })
    }

    /// A certificate chain and key from PEM files (`ca_pem` is then the chain's last certificate).
    pub fn from_pem_files(cert: &str, key: &str) -> Result<TlsIdentity, String> {
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
            .map_err(|e| format!("{cert}: {e}"))?
            .collect::<Result<_, _>>()
            .map_err(|e| format!("{cert}: {e}"))?;
        let k = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{key}: {e}"))?;
        let last = std::fs::read_to_string(cert).map_err(|e| format!("{cert}: {e}"))?;
        Ok(TlsIdentity {
            chain,
            key: k,
            ca_pem: last,
        })
    }

    fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let cfg = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), self.key.clone_key())
            .map_err(|e| e.to_string())?;
        Ok(Arc::new(cfg))
    }
}

/// Like [`Server::start`], over HTTPS: binds 127.0.0.1:`port` and sets the base URL to `https://127.0.0.1:{port}`
/// unless `keep_base_url`.
pub fn start_tls(
    mut sim: Sim,
    port: u16,
    keep_base_url: bool,
    id: &TlsIdentity,
) -> std::io::Result<Server> {
    let cfg = id.server_config().map_err(std::io::Error::other)?;
    let listener = TcpListener::bind(("127.0.0.1", port))?;
    let addr = listener.local_addr()?;
    if !keep_base_url {
        let mut c = sim.config().clone();
        c.base_url = format!("https://{addr}");
        sim.set_config(c);
    }
    let sim = Arc::new(Mutex::new(sim));
    let shared = sim.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let sim = shared.clone();
            let cfg = cfg.clone();
            std::thread::spawn(move || {
                let _ = stream.set_nodelay(true);
                let Ok(tcp) = stream.try_clone() else { return };
                let Ok(conn) = rustls::ServerConnection::new(cfg) else {
                    return;
                };
                let tls = rustls::StreamOwned::new(conn, stream);
                let _ = serve_io(tls, &sim, &move || {
                    let _ = tcp.shutdown(std::net::Shutdown::Both);
                });
            });
        }
    });
    Ok(Server {
        addr,
        sim,
        tls: true,
    })
}
