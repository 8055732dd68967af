//! The app's module layering, read from its sources: components never reach into pages, and
//! navigation does not depend on the lazily loaded pages (the app wires link warm-up), so there
//! is no import circle nav → lazy → pages → nav.
#![cfg(not(target_arch = "wasm32"))]

use std::path::Path;

/// A source file without its comment lines (docs may name any module).
fn code(p: &Path) -> String {
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn sources(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(sources(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push((p.display().to_string(), code(&p)));
        }
    }
    out
}

#[test]
fn components_and_shared_modules_do_not_import_pages() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = sources(&src.join("components"));
    for f in ["hooks.rs", "nav.rs", "session.rs", "components.rs"] {
        let p = src.join(f);
        files.push((p.display().to_string(), code(&p)));
    }
    assert!(files.len() > 10, "{files:?}");
    for (path, text) in &files {
        assert!(!text.contains("crate::pages"), "{path} imports a page");
        assert!(!text.contains("crate::app"), "{path} imports the app");
    }
    let nav = code(&src.join("nav.rs"));
    assert!(
        !nav.contains("crate::lazy"),
        "nav.rs depends on the lazy pages"
    );
}

#[test]
fn the_inventory_and_the_pages_do_not_import_each_other() {
    // each is its own lazily loaded module (src/lazy.rs): an import either way would pull one into the other
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let inv = sources(&src.join("inventory"));
    assert!(inv.len() >= 3, "{inv:?}");
    for (path, text) in &inv {
        assert!(!text.contains("crate::pages"), "{path} imports a page");
    }
    let mut pages = sources(&src.join("pages"));
    pages.push(("pages.rs".into(), code(&src.join("pages.rs"))));
    for (path, text) in &pages {
        assert!(
            !text.contains("crate::inventory"),
            "{path} imports the inventory"
        );
    }
}

#[test]
fn split_off_code_is_named_only_through_its_split_point() {
    // src/lazy.rs: whatever a module holds stays out of the others only while nothing else names it
    // (a call from the pages would pull it into the pages, or into a chunk fetched with them)
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let all = sources(&src);
    assert!(all.len() > 30, "{all:?}");
    let only_in = [
        // the script generators: the `scripts` module (their tabs, `ScriptTabs`, are shared UI)
        ("components/scripts.rs", "generate_all"),
        ("components/scripts.rs", "snippet_all"),
        ("components/scripts.rs", "scripts::generate("),
        // the create wizards and the new-identity form: the `create` module
        ("pages/create.rs", "NewIdentityForm"),
        ("pages/create.rs", "create::render"),
        ("pages/create.rs", "create::CreateScaleSet"),
        ("pages/create.rs", "create::CreateVm"),
        ("pages/create.rs", "create::CreateIdentity"),
        ("pages/create.rs", "CreatePage"),
    ];
    for (path, text) in &all {
        for (home, name) in only_in {
            let home_or_split_point = path.ends_with(home) || path.ends_with("src/lazy.rs");
            assert!(
                home_or_split_point || !text.contains(name),
                "{path} names {name}: only {home} (and its split point in src/lazy.rs) may"
            );
        }
    }
}
