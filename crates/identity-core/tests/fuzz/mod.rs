//! Strategies for the no-panic fuzz tests: arbitrary Unicode, biased towards what breaks byte
//! slicing, quoting and id parsing (multi-byte letters, separators, quotes, controls).
#![allow(dead_code)]

use proptest::prelude::*;
use serde_json::Value;

/// Pieces that have broken (or could break) string handling.
pub const PIECES: &[&str] = &[
    "ü",
    "grüppe",
    "日本-rg",
    "MC_",
    "MC",
    "aks-managed-",
    "aks-managed",
    "/",
    "//",
    "%",
    "%4",
    "%E6%97",
    "'",
    "\"",
    "`",
    "$",
    "$(x)",
    "\u{2018}",
    "\u{201B}",
    "\n",
    "\r\n",
    "\t",
    " ",
    "\0",
    "\u{202E}",
    "🦀",
    "e\u{301}",
    "\u{FEFF}",
    ",",
    ";",
    "&",
    "|",
    "^",
    "-",
    "--x",
    "\\",
    "subscriptions",
    "resourceGroups",
    "providers",
    "Microsoft.Compute",
    "virtualMachineScaleSets",
    "Microsoft.ManagedIdentity",
    "userAssignedIdentities",
    "SystemAssigned",
    "UserAssigned",
    "None",
    "İ",
    "ß",
    "\u{10FFFF}",
];

/// An arbitrary string: pieces from [`PIECES`] and arbitrary characters, concatenated.
pub fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        3 => prop::sample::select(PIECES).prop_map(str::to_string),
        2 => any::<String>(),
        1 => any::<char>().prop_map(|c| c.to_string()),
    ];
    prop::collection::vec(piece, 0..5).prop_map(|v| v.concat())
}

/// A non-empty name-like string (often valid-looking, often not).
pub fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => Just("vmss1".to_string()),
        3 => text(),
        1 => (text(), text()).prop_map(|(a, b)| format!("{a}x{b}")),
    ]
}

/// A resource id with arbitrary parts, or arbitrary text.
pub fn id_text() -> impl Strategy<Value = String> {
    let ty = prop::sample::select(
        &[
            "Microsoft.Compute/virtualMachineScaleSets",
            "Microsoft.Compute/virtualMachines",
            "Microsoft.ManagedIdentity/userAssignedIdentities",
            "Microsoft.Network/virtualNetworks/v/subnets",
            "microsoft.compute/VIRTUALMACHINESCALESETS",
        ][..],
    );
    prop_oneof![
        (name(), name(), ty, name()).prop_map(|(s, g, t, n)| format!(
            "/subscriptions/{s}/resourceGroups/{g}/providers/{t}/{n}"
        )),
        (name(), name()).prop_map(|(s, g)| format!("/subscriptions/{s}/resourceGroups/{g}")),
        name().prop_map(|s| format!("/subscriptions/{s}")),
        text(),
    ]
}

/// Arbitrary JSON, strings from [`text`].
pub fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((text(), inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}
