//! Turns `clouds.json` (the one cloud table, shared with the build's CSP generator) into Rust
//! constants, so that the app's first-loaded wasm carries the table but no JSON parser for it.

use std::{env, fs, path::Path};

fn main() {
    println!("cargo::rerun-if-changed=clouds.json");
    let text = fs::read_to_string("clouds.json").expect("clouds.json");
    let table: serde_json::Value = serde_json::from_str(&text).expect("clouds.json is valid JSON");
    const FIELDS: [(&str, &str); 7] = [
        ("name", "name"),
        ("label", "label"),
        ("arm_endpoint", "armEndpoint"),
        ("authority", "authority"),
        ("ps_environment", "psEnvironment"),
        ("cli_cloud", "cliCloud"),
        ("legacy_audience", "legacyAudience"),
    ];
    let mut out = String::from("&[\n");
    for cloud in table["clouds"].as_array().expect("clouds: an array") {
        out.push_str("    CloudRow {\n");
        for (field, key) in FIELDS {
            let v = cloud[key]
                .as_str()
                .unwrap_or_else(|| panic!("clouds.json: {key} must be a string in {cloud}"));
            out.push_str(&format!("        {field}: {v:?},\n"));
        }
        out.push_str("    },\n");
    }
    out.push(']');
    let dest = Path::new(&env::var("OUT_DIR").unwrap()).join("clouds_table.rs");
    fs::write(dest, out).unwrap();
}
