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
    armsim --generate-scale N [--subscriptions M] [--out FILE]

OPTIONS:
    --port N            port on 127.0.0.1 (default 0 = any free port); the bound URL is the first line on stdout
    --seed FILE         seed JSON (see crates/armsim/README.md); default: the built-in demo tenant
    --page-size N       items per list page before nextLink (default 100)
    --lro-delay-ms N    how long operations stay InProgress (default 5000)
    --control           enable the control endpoint /_armsim/faults and /_armsim/requests
    --base-url URL      origin used in nextLink / Azure-AsyncOperation / Location (default: the bound URL)
    --jwks FILE|URL     require a bearer JWT (RS256) verified against this JWKS: a file, or an http:// URL on
                        127.0.0.1/localhost read once at start (auth is off without it)
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
    --generate-scale N  print a seed with N scale sets (spread over --subscriptions M, default 100) and exit
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
    let mut out = None;
    let mut test_token_for = None::<String>;
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
            "--out" => out = Some(val(&mut i)?),
            "--jwks" => jwks = Some(val(&mut i)?),
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
        let text =
            serde_json::to_string(&Seed::generate_scale(n, subs)).map_err(|e| e.to_string())?;
        match out {
            Some(f) => std::fs::write(&f, text).map_err(|e| format!("{f}: {e}"))?,
            None => println!("{text}"),
        }
        return Ok(());
    }
    let seed = match seed_file {
        Some(f) => Seed::from_json(&std::fs::read_to_string(&f).map_err(|e| format!("{f}: {e}"))?)?,
        None => Seed::demo(),
    };
    if let Some(j) = jwks {
        let doc = read_jwks(&j)?;
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

/// Reads a JWKS from a file or from an `http://` URL on the loopback interface.
fn read_jwks(src: &str) -> Result<serde_json::Value, String> {
    let text = if let Some(rest) = src.strip_prefix("http://") {
        let (hostport, path) = rest.split_once('/').unwrap_or((rest, ""));
        let host = hostport.rsplit_once(':').map(|h| h.0).unwrap_or(hostport);
        if !["127.0.0.1", "localhost", "[::1]"].contains(&host) {
            return Err(format!("--jwks {src}: only loopback URLs are fetched"));
        }
        let addr = if hostport.contains(':') {
            hostport.to_string()
        } else {
            format!("{hostport}:80")
        };
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr.replace("localhost", "127.0.0.1"))
            .map_err(|e| format!("--jwks {src}: {e}"))?;
        write!(
            s,
            "GET /{path} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\n\r\n"
        )
        .map_err(|e| e.to_string())?;
        let mut resp = String::new();
        s.read_to_string(&mut resp).map_err(|e| e.to_string())?;
        let (head, body) = resp.split_once("\r\n\r\n").ok_or("--jwks: no HTTP body")?;
        if !head.starts_with("HTTP/1.1 200") && !head.starts_with("HTTP/1.0 200") {
            return Err(format!(
                "--jwks {src}: {}",
                head.lines().next().unwrap_or("")
            ));
        }
        if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            return Err(format!(
                "--jwks {src}: chunked answers are not supported; save the JWKS to a file"
            ));
        }
        body.to_string()
    } else if src.starts_with("https://") {
        return Err(format!(
            "--jwks {src}: save an https JWKS to a file first (e.g. curl -k … > jwks.json)"
        ));
    } else {
        std::fs::read_to_string(src).map_err(|e| format!("{src}: {e}"))?
    };
    serde_json::from_str(&text).map_err(|e| format!("--jwks {src}: {e}"))
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
