//! `armsim` — the ARM simulator server on 127.0.0.1 (see `--help`).

use armsim::server::Server;
use armsim::{Seed, Sim, SimConfig};

const HELP: &str = "armsim - an Azure Resource Manager simulator on 127.0.0.1

USAGE:
    armsim [--port N] [--seed FILE] [--page-size N] [--lro-delay-ms N] [--control] [--base-url URL]
    armsim --generate-scale N [--subscriptions M] [--out FILE]

OPTIONS:
    --port N            port on 127.0.0.1 (default 0 = any free port); the bound URL is the first line on stdout
    --seed FILE         seed JSON (see crates/armsim/README.md); default: the built-in demo tenant
    --page-size N       items per list page before nextLink (default 100)
    --lro-delay-ms N    how long operations stay InProgress (default 5000)
    --control           enable the control endpoint /_armsim/faults and /_armsim/requests
    --base-url URL      origin used in nextLink / Azure-AsyncOperation / Location (default: the bound URL)
    --generate-scale N  print a seed with N scale sets (spread over --subscriptions M, default 100) and exit
    --out FILE          with --generate-scale: write the seed to FILE instead of stdout
    -h, --help          this text
";

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
    let keep = base_url.is_some();
    if let Some(b) = base_url {
        cfg.base_url = b;
    }
    let server =
        Server::start(Sim::with_config(seed, cfg), port, keep).map_err(|e| format!("bind: {e}"))?;
    println!("{}", server.url());
    use std::io::Write;
    let _ = std::io::stdout().flush();
    loop {
        std::thread::park();
    }
}
