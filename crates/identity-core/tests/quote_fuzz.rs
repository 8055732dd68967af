//! Fuzzing the quoting: arbitrary names and ids (quotes of every kind, `$`, backticks,
//! semicolons, newlines, unicode) come back exactly from the parsed PowerShell and from bash.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use identity_core::scripts::quote::{ps_single, sh_single};
use identity_core::scripts::*;
use proptest::prelude::*;
use support::*;

fn nasty_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => prop::sample::select(vec![
            '\'', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}', '"', '\u{201C}', '\u{201D}', '$', '`', ';',
            '\n', '\r', '\t', ' ', '(', ')', '{', '}', '@', '#', '<', '>', '|', '&', '\\', '%', '!', '*', '[', ']',
            '\u{2028}', '-', '=', 'é', '中', '\u{1F600}',
        ]),
        2 => any::<char>().prop_filter("no NUL", |c| *c != '\0'),
        2 => prop::char::range('a', 'z'),
    ]
}

fn nasty_string() -> impl Strategy<Value = String> {
    prop::collection::vec(nasty_char(), 0..24).prop_map(|v| v.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    /// The PowerShell tokenizer rule (typographic quotes included) gives back the input.
    #[test]
    fn ps_literal_decodes_to_input(s in nasty_string()) {
        prop_assert_eq!(ps_unquote(&ps_single(&s)), Some(s));
    }

    /// In a whole generated script: no ERROR/MISSING node, and the parsed assignment of the
    /// resource group and name equal the input exactly; ids survive in the exact body.
    #[test]
    fn names_and_ids_survive_in_generated_powershell(rg in nasty_string(), name in nasty_string(), id in nasty_string()) {
        let target = Resource::new("sub", rg.clone(), name.clone(), TargetKind::ScaleSetUniform);
        let before = Identities { system: true, user: vec![id.clone(), "/other".into()] };
        let after = Identities { system: true, user: vec!["/other".into()] };
        let plan = ScriptPlan::identity(Cloud::AzureCloud, target, before, after, Some("\"1\"".into()));
        let ps = generate(&plan, Flavour::AzureRm).text;
        prop_assert!(syntax_errors(&ps).is_empty(), "{:?}\n{}", syntax_errors(&ps), ps);
        prop_assert_eq!(assignments(&ps, "resourceGroupName"), vec![rg.clone()]);
        prop_assert_eq!(assignments(&ps, "vmssName"), vec![name.clone()]);
        let exact = generate(&plan, Flavour::AzPowerShellExact).text;
        prop_assert!(syntax_errors(&exact).is_empty(), "{:?}\n{}", syntax_errors(&exact), exact);
        let body: serde_json::Value = serde_json::from_str(&assignments(&exact, "body")[0]).unwrap();
        let Outcome::Requests(reqs) = &plan.outcome else { unreachable!() };
        prop_assert_eq!(Some(&body), reqs[0].body.as_ref());
        let cli = generate(&plan, Flavour::CliPowerShell).text;
        prop_assert!(syntax_errors(&cli).is_empty(), "{:?}\n{}", syntax_errors(&cli), cli);
        let invs = invocations(&cli, &|_, _| false);
        let lits_of = |i: &Invocation| -> Vec<String> { i.positional.iter().filter_map(|a| match a { Arg::Literal(v) => Some(v.concat()), Arg::Dynamic => None }).collect() };
        let remove = invs.iter().find(|i| i.name == "az" && lits_of(i).starts_with(&["vmss".to_string(), "identity".into(), "remove".into()])).unwrap();
        // native arguments: `--x` is read as a parameter token, its value follows
        let named = |n: &str| remove.named.iter().find(|(k, _)| k == n).and_then(|(_, a)| match a { Some(Arg::Literal(v)) => Some(v.concat()), _ => None })
            .or_else(|| lits_of(remove).iter().find_map(|l| l.strip_prefix(&format!("--{n}=")).map(String::from)));
        prop_assert_eq!(named("resource-group"), Some(rg.clone()));
        prop_assert_eq!(named("name"), Some(name.clone()));
        let mut lits = lits_of(remove);
        lits.extend(named("identities"));
        prop_assert!(lits.contains(&id), "{:?}", lits);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    /// bash: `printf %s <quoted>` prints the input exactly.
    #[test]
    fn bash_round_trip(s in nasty_string()) {
        let out = std::process::Command::new("bash").arg("-c").arg(format!("printf %s {}", sh_single(&s))).output().unwrap();
        prop_assert!(out.status.success());
        prop_assert_eq!(String::from_utf8(out.stdout).unwrap(), s);
    }

    /// bash CLI script: the arguments az receives are the inputs exactly.
    #[test]
    fn bash_cli_arguments_are_exact(rg in nasty_string(), name in nasty_string(), id in nasty_string()) {
        let target = Resource::new("sub", rg.clone(), name.clone(), TargetKind::Vm);
        let plan = ScriptPlan::identity(Cloud::AzureCloud, target, Identities::default(), Identities { system: false, user: vec![id.clone()] }, None);
        let script = generate(&plan, Flavour::CliBash).text;
        let dir = std::env::temp_dir().join(format!("idw-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("calls");
        let _ = std::fs::remove_file(&log);
        let prelude = "az() { for a in \"$@\"; do printf '%s\\0' \"$a\" >> \"$AZ_LOG\"; done; printf '\\036' >> \"$AZ_LOG\"; }\n";
        let out = std::process::Command::new("bash").arg("-c").arg(format!("{prelude}{script}")).env("AZ_LOG", &log).output().unwrap();
        prop_assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let raw = String::from_utf8(std::fs::read(&log).unwrap()).unwrap();
        let assign: Vec<&str> = raw.split('\u{1e}').find(|c| c.starts_with("vm\0identity\0assign\0")).unwrap().split('\0').collect();
        // `--flag value` or `--flag=value` (used when the value starts with '-')
        let at = |flag: &str| -> String {
            match assign.iter().position(|a| *a == flag) {
                Some(i) => assign[i + 1].to_string(),
                None => assign.iter().find_map(|a| a.strip_prefix(&format!("{flag}="))).unwrap().to_string(),
            }
        };
        prop_assert_eq!(at("--resource-group"), rg);
        prop_assert_eq!(at("--name"), name);
        prop_assert_eq!(at("--identities"), id);
    }
}

/// A value that starts with `-` is passed as `--flag=value`, never as a separate word the CLI
/// would read as an option (the tutorial's `-Name -myVmss` error, for native commands).
#[test]
fn leading_dash_values_are_attached_to_their_flag() {
    let target = Resource::new("sub", "-rg", "--vm", TargetKind::Vm);
    let plan = ScriptPlan::identity(
        Cloud::AzureCloud,
        target,
        Identities::default(),
        Identities {
            system: true,
            user: vec![],
        },
        None,
    );
    let bash = generate(&plan, Flavour::CliBash).text;
    assert!(
        bash.contains("'--resource-group=-rg' '--name=--vm'"),
        "{bash}"
    );
    let ps = generate(&plan, Flavour::CliPowerShell).text;
    assert!(syntax_errors(&ps).is_empty());
    let invs = invocations(&ps, &|_, _| false);
    let assign = invs
        .iter()
        .find(|i| {
            i.positional
                .iter()
                .any(|a| matches!(a, Arg::Literal(v) if v.concat() == "assign"))
        })
        .unwrap();
    let lits: Vec<String> = assign
        .positional
        .iter()
        .filter_map(|a| match a {
            Arg::Literal(v) => Some(v.concat()),
            Arg::Dynamic => None,
        })
        .collect();
    assert!(
        lits.contains(&"--resource-group=-rg".to_string())
            && lits.contains(&"--name=--vm".to_string()),
        "{lits:?}"
    );
}
