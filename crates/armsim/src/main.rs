//! `armsim` — the ARM simulator server on 127.0.0.1 (see `--help`).

use armsim::auth::AuthConfig;
use armsim::cors::CorsMode;
use armsim::server::Server;
use armsim::{Seed, Sim, SimConfig};

const HELP: &str = r#"armsim - an Azure Resource Manager simulator on 127.0.0.1

USAGE:
    armsim [--port N] [--seed FILE] [--page-size N] [--lro-delay-ms N] [--control] [--base-url URL]
           [--jwks FILE|URL --auth-issuer ISS [--auth-audience AUD]... [--roles FILE] [--principal-delay-ms N]]
           [--cors-origin ORIGIN]... [--cors-mode generous|strict]
           [--tls [--tls-ca-out FILE] | --tls-cert FILE --tls-key FILE]
           [--tenant SUBS,SCALE_SETS,VMS,IDENTITIES] [--graph-quota on|off] [--arm-quota on|off]
    armsim --generate-scale N [--subscriptions M] [--vms N] [--identities N] [--out FILE]

OPTIONS:
    --port N            port on 127.0.0.1 (default 0 = any free port); the bound URL is the first line on stdout
    --seed FILE         seed JSON (see crates/armsim/README.md); default: the built-in demo tenant
    --page-size N       items per list page before nextLink (default 100)
    --lro-delay-ms N    how long operations stay InProgress (default 5000)
    --control           enable the control endpoint /_armsim/faults and /_armsim/requests
    --base-url URL      origin used in nextLink / Azure-AsyncOperation / Location (default: the bound URL)
    --jwks FILE|URL     require a bearer JWT (RS256) verified against this JWKS: a file, or an http(s):// URL on
                        127.0.0.1/localhost read once at start (auth is off without it)
    --jwks-ca FILE      the CA (PEM) that an https JWKS URL's certificate chains to (needs the `tls` feature)
    --auth-issuer ISS   accepted `iss` (repeatable; required with --jwks)
    --auth-audience AUD accepted `aud` (repeatable); default: https://management.core.windows.net/,
                        https://management.core.windows.net, https://management.azure.com/, https://management.azure.com
    --auth-uri URI      authorization_uri in WWW-Authenticate (default: the first issuer without /v2.0)
    --roles FILE        role map: JSON [{"principalId": OID, "role": NAME|GUID, "scope": SCOPE}, ...]; with --jwks
                        every request is authorized against it (403 AuthorizationFailed / LinkedAuthorizationFailed)
    --test-token-for OID  test support: require tokens of armsim's throw-away test issuer (unless --jwks is
                        given) and print one for principal OID as the second stdout line: `token <JWT>`
    --principal-delay-ms N  new identities answer PrincipalNotFound to role assignments for N ms (default 0)
    --cors-origin ORIGIN    allow this browser origin (repeatable; `*` for any); CORS is off without it
    --cors-mode MODE    generous (default: exposes Azure-AsyncOperation, Location, Retry-After, ETag, x-ms-*)
                        or strict (exposes no header)
    --tls               serve HTTPS with a throw-away CA + 127.0.0.1/localhost certificate made at start
                        (needs the `tls` feature: cargo run -p armsim --features tls -- --tls)
    --tls-ca-out FILE   with --tls: write the CA certificate (PEM) for clients to trust
    --tls-cert FILE / --tls-key FILE   serve HTTPS with this PEM chain and key instead
    --tenant SPEC       serve a generated tenant instead of the demo: SUBS,SCALE_SETS,VMS,IDENTITIES, e.g.
                        100,10000,2000,500 (realistic identity mixes and role assignments; see src/tenant.rs)
    --graph-quota on|off  Resource Graph's per-user quota (15 queries per 5 s, then 429 + Retry-After);
                        default on (the x-ms-user-quota-* headers are sent either way)
    --arm-quota on|off  ARM's request buckets per subscription and caller (reads 250 + 25/s, writes 200 +
                        10/s) and Compute's per-resource budgets, then 429 + Retry-After; default off (the
                        x-ms-ratelimit-remaining-* headers are sent either way)
    --generate-scale N  print a seed with N scale sets (spread over --subscriptions M, default 100; with
                        --vms N and --identities N, default one identity per subscription) and exit
    --out FILE          with --generate-scale: write the seed to FILE instead of stdout
    -h, --help          this text
"#;

fn main() {
    if let Err(e) = run() {
        eprintln!("armsim: {e}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut port = 0u16;
    let mut seed_file = None;
    let mut cfg = SimConfig::default();
    let mut base_url = None;
    let mut generate = None;
    let mut subs = 100usize;
    let (mut gen_vms, mut gen_ids, mut tenant) = (0usize, None::<usize>, None);
    let mut out = None;
    let mut test_token_for = None::<String>;
    let mut jwks_ca = None::<String>;
    let (mut tls, mut tls_ca_out, mut tls_cert, mut tls_key) =
        (false, None::<String>, None::<String>, None::<String>);
    let (mut jwks, mut issuers, mut audiences, mut auth_uri, mut roles) = (
        None::<String>,
        vec![],
        vec![],
        None::<String>,
        None::<String>,
    );
    let mut i = 0;
    let val = |i: &mut usize| -> Result<String, String> {
        *i += 1;
        args.get(*i)
            .cloned()
            .ok_or_else(|| format!("{} needs a value", args[*i - 1]))
    };
    let num = |s: String, what: &str| {
        s.parse::<u64>()
            .map_err(|_| format!("{what}: not a number: {s}"))
    };
    while i < args.len() {
        match args[i].as_str() {
            "-h" | "--help" => {
                print!("{HELP}");
                return Ok(());
            }
            "--port" => port = num(val(&mut i)?, "--port")? as u16,
            "--seed" => seed_file = Some(val(&mut i)?),
            "--page-size" => cfg.page_size = num(val(&mut i)?, "--page-size")? as usize,
            "--lro-delay-ms" => cfg.lro_delay_ms = num(val(&mut i)?, "--lro-delay-ms")?,
            "--control" => cfg.control = true,
            "--base-url" => base_url = Some(val(&mut i)?),
            "--generate-scale" => generate = Some(num(val(&mut i)?, "--generate-scale")? as usize),
            "--subscriptions" => subs = num(val(&mut i)?, "--subscriptions")? as usize,
            "--vms" => gen_vms = num(val(&mut i)?, "--vms")? as usize,
            "--identities" => gen_ids = Some(num(val(&mut i)?, "--identities")? as usize),
            "--tenant" => tenant = Some(armsim::tenant::TenantSpec::parse(&val(&mut i)?)?),
            "--graph-quota" => {
                cfg.graph_quota = match val(&mut i)?.as_str() {
                    "on" => true,
                    "off" => false,
                    v => return Err(format!("--graph-quota: on or off, not {v}")),
                }
            }
            "--arm-quota" => {
                cfg.arm_quota = match val(&mut i)?.as_str() {
                    "on" => true,
                    "off" => false,
                    v => return Err(format!("--arm-quota: on or off, not {v}")),
                }
            }
            "--out" => out = Some(val(&mut i)?),
            "--jwks" => jwks = Some(val(&mut i)?),
            "--jwks-ca" => jwks_ca = Some(val(&mut i)?),
            "--auth-issuer" => issuers.push(val(&mut i)?),
            "--auth-audience" => audiences.push(val(&mut i)?),
            "--auth-uri" => auth_uri = Some(val(&mut i)?),
            "--roles" => roles = Some(val(&mut i)?),
            "--test-token-for" => test_token_for = Some(val(&mut i)?),
            "--principal-delay-ms" => {
                cfg.principal_delay_ms = num(val(&mut i)?, "--principal-delay-ms")?
            }
            "--tls" => tls = true,
            "--tls-ca-out" => tls_ca_out = Some(val(&mut i)?),
            "--tls-cert" => tls_cert = Some(val(&mut i)?),
            "--tls-key" => tls_key = Some(val(&mut i)?),
            "--cors-origin" => cfg.cors.origins.push(val(&mut i)?),
            "--cors-mode" => {
                let v = val(&mut i)?;
                cfg.cors.mode = CorsMode::parse(&v)
                    .ok_or_else(|| format!("--cors-mode: generous or strict, not {v}"))?;
            }
            other => return Err(format!("unknown argument {other} (see --help)")),
        }
        i += 1;
    }
    if let Some(n) = generate {
        let spec = armsim::tenant::TenantSpec {
            subscriptions: subs,
            scale_sets: n,
            vms: gen_vms,
            identities: gen_ids.unwrap_or(subs.max(1)),
        };
        let text =
            serde_json::to_string(&Seed::generate_tenant(&spec)).map_err(|e| e.to_string())?;
        match out {
            Some(f) => std::fs::write(&f, text).map_err(|e| format!("{f}: {e}"))?,
            None => println!("{text}"),
        }
        return Ok(());
    }
    let seed = match (seed_file, tenant) {
        (Some(_), Some(_)) => return Err("--seed and --tenant exclude each other".into()),
        (Some(f), None) => {
            Seed::from_json(&std::fs::read_to_string(&f).map_err(|e| format!("{f}: {e}"))?)?
        }
        (None, Some(spec)) => Seed::generate_tenant(&spec),
        (None, None) => Seed::demo(),
    };
    if let Some(j) = jwks {
        let doc = read_jwks(&j, jwks_ca.as_deref())?;
        let first = issuers
            .first()
            .cloned()
            .ok_or("--jwks needs at least one --auth-issuer")?;
        let mut a = AuthConfig::new(&first, doc).map_err(|e| format!("--jwks {j}: {e}"))?;
        a.issuers = issuers;
        if !audiences.is_empty() {
            a.audiences = audiences;
        }
        if let Some(u) = auth_uri {
            a.authorization_uri = u;
        }
        cfg.auth = Some(a);
    }
    let mut test_token = None;
    if let Some(oid) = test_token_for {
        let iss = armsim::testing::TestIssuer::new(now_s());
        if cfg.auth.is_none() {
            cfg.auth = Some(iss.auth_config());
        }
        test_token = Some(iss.token(&oid, now_s()));
    }
    if let Some(f) = roles {
        let text = std::fs::read_to_string(&f).map_err(|e| format!("{f}: {e}"))?;
        cfg.role_map = Some(serde_json::from_str(&text).map_err(|e| format!("{f}: {e}"))?);
    }
    let keep = base_url.is_some();
    if let Some(b) = base_url {
        cfg.base_url = b;
    }
    let sim = Sim::with_config(seed, cfg);
    let server = if tls || tls_cert.is_some() {
        start_tls(sim, port, keep, tls_cert, tls_key, tls_ca_out)?
    } else {
        Server::start(sim, port, keep).map_err(|e| format!("bind: {e}"))?
    };
    println!("{}", server.url());
    if let Some(t) = test_token {
        println!("token {t}");
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();
    loop {
        std::thread::park();
    }
}

/// Reads a JWKS from a file, or from an `http://` / `https://` URL on the loopback interface (https needs the
/// `tls` feature and `--jwks-ca FILE`, the CA that signed the provider's certificate).
fn read_jwks(src: &str, ca: Option<&str>) -> Result<serde_json::Value, String> {
    let (https, rest) = match (src.strip_prefix("http://"), src.strip_prefix("https://")) {
        (Some(r), _) => (false, r),
        (_, Some(r)) => (true, r),
        _ => {
            let text = std::fs::read_to_string(src).map_err(|e| format!("{src}: {e}"))?;
            return serde_json::from_str(&text).map_err(|e| format!("--jwks {src}: {e}"));
        }
    };
    let (hostport, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = hostport.rsplit_once(':').map(|h| h.0).unwrap_or(hostport);
    if !["127.0.0.1", "localhost", "[::1]"].contains(&host) {
        return Err(format!("--jwks {src}: only loopback URLs are fetched"));
    }
    let addr = if hostport.contains(':') {
        hostport.to_string()
    } else {
        format!("{hostport}:{}", if https { 443 } else { 80 })
    };
    let tcp = std::net::TcpStream::connect(addr.replace("localhost", "127.0.0.1"))
        .map_err(|e| format!("--jwks {src}: {e}"))?;
    let request = format!(
        "GET /{path} HTTP/1.1\r\nHost: {hostport}\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
    );
    let raw = if https {
        fetch_tls(tcp, host, ca, &request).map_err(|e| format!("--jwks {src}: {e}"))?
    } else {
        use std::io::{Read, Write};
        let mut s = tcp;
        s.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        s.read_to_end(&mut out).map_err(|e| e.to_string())?;
        out
    };
    let text = http_body(&raw).map_err(|e| format!("--jwks {src}: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("--jwks {src}: {e}"))
}

/// The body of a raw HTTP/1.1 200 answer (Content-Length or chunked).
fn http_body(raw: &[u8]) -> Result<String, String> {
    let resp = String::from_utf8_lossy(raw);
    let (head, body) = resp.split_once("\r\n\r\n").ok_or("no HTTP body")?;
    if !head.starts_with("HTTP/1.1 200") && !head.starts_with("HTTP/1.0 200") {
        return Err(head.lines().next().unwrap_or("").to_string());
    }
    if !head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return Ok(body.to_string());
    }
    let (mut out, mut rest) = (String::new(), body);
    loop {
        let (size, after) = rest.split_once("\r\n").ok_or("bad chunk")?;
        let n = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| "bad chunk size")?;
        if n == 0 {
            return Ok(out);
        }
        out.push_str(after.get(..n).ok_or("short chunk")?);
        rest = after.get(n + 2..).ok_or("short chunk")?;
    }
}

#[cfg(feature = "tls")]
fn fetch_tls(
    tcp: std::net::TcpStream,
    host: &str,
    ca: Option<&str>,
    request: &str,
) -> Result<Vec<u8>, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName};
    use std::io::{Read, Write};
    let ca = ca.ok_or("an https JWKS needs --jwks-ca FILE (the provider's CA, PEM)")?;
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(ca).map_err(|e| format!("{ca}: {e}"))? {
        roots
            .add(c.map_err(|e| format!("{ca}: {e}"))?)
            .map_err(|e| format!("{ca}: {e}"))?;
    }
    let cfg = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = ServerName::try_from(host.trim_matches(|c| c == '[' || c == ']').to_string())
        .map_err(|e| e.to_string())?;
    let conn =
        rustls::ClientConnection::new(std::sync::Arc::new(cfg), name).map_err(|e| e.to_string())?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    tls.write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    match tls.read_to_end(&mut out) {
        Ok(_) => Ok(out),
        Err(e) if !out.is_empty() && e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(out),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(not(feature = "tls"))]
fn fetch_tls(
    _tcp: std::net::TcpStream,
    _host: &str,
    _ca: Option<&str>,
    _request: &str,
) -> Result<Vec<u8>, String> {
    Err("an https JWKS needs the `tls` feature (cargo run -p armsim --features tls), or save it to a file".into())
}

#[cfg(feature = "tls")]
fn start_tls(
    sim: Sim,
    port: u16,
    keep: bool,
    cert: Option<String>,
    key: Option<String>,
    ca_out: Option<String>,
) -> Result<Server, String> {
    use armsim::tls::TlsIdentity;
    let id = match (cert, key) {
        (Some(c), Some(k)) => TlsIdentity::from_pem_files(&c, &k)?,
        (None, None) => TlsIdentity::generate()?,
        _ => return Err("--tls-cert and --tls-key go together".into()),
    };
    if let Some(f) = ca_out {
        std::fs::write(&f, &id.ca_pem).map_err(|e| format!("{f}: {e}"))?;
    }
    armsim::tls::start_tls(sim, port, keep, &id).map_err(|e| format!("bind: {e}"))
}

#[cfg(not(feature = "tls"))]
fn start_tls(
    _sim: Sim,
    _port: u16,
    _keep: bool,
    _cert: Option<String>,
    _key: Option<String>,
    _ca_out: Option<String>,
) -> Result<Server, String> {
    Err("this armsim was built without the `tls` feature (cargo run -p armsim --features tls -- --tls)".into())
}

fn now_s() -> u64 {
    armsim::server::now_ms() / 1000
}
