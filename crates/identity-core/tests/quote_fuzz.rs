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
        let is_az = |i: &Invocation, w: &[&str]| i.name == "az" && lits_of(i).starts_with(&w.iter().map(|x| x.to_string()).collect::<Vec<_>>());
        if [&rg, &name, &id].iter().any(|v| v.starts_with('@')) {
            // az reads a value starting with @ as a file: the exact PATCH instead of az vmss identity remove
            prop_assert!(!invs.iter().any(|i| is_az(i, &["vmss", "identity", "remove"])), "{}", cli);
            prop_assert!(invs.iter().any(|i| is_az(i, &["rest"])), "{}", cli);
            return Ok(());
        }
        let remove = invs.iter().find(|i| is_az(i, &["vmss", "identity", "remove"])).unwrap();
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
    #![proptest_config(ProptestConfig { cases: 128, .. ProptestConfig::default() })]

    /// Arrays of ids (the keep-list of Update-AzVM, the snippet's add/remove lists) parse back exactly.
    #[test]
    fn id_arrays_survive_in_powershell(a in nasty_string(), b in nasty_string(), name in nasty_string()) {
        let target = Resource::new("sub", "rg", name.clone(), TargetKind::Vm);
        let after = Identities { system: true, user: vec![a.clone(), b.clone()] };
        let plan = ScriptPlan::identity(Cloud::AzureCloud, target.clone(), Identities::default(), after, None);
        let ps = generate(&plan, Flavour::AzPowerShell).text;
        prop_assert!(syntax_errors(&ps).is_empty(), "{:?}\n{}", syntax_errors(&ps), ps);
        if !a.eq_ignore_ascii_case(&b) {
            prop_assert_eq!(array_assignment(&ps, "identityIds"), Some(vec![a.clone(), b.clone()]));
        }
        prop_assert_eq!(assignments(&ps, "vmName"), vec![name.clone()]);
        let req = SnippetRequest { cloud: Cloud::AzureChinaCloud, target, intent: Intent::AddUser(vec![a.clone(), b.clone()]) };
        let sn = snippet(&req, Flavour::AzPowerShell).unwrap().text;
        prop_assert!(syntax_errors(&sn).is_empty(), "{:?}\n{}", syntax_errors(&sn), sn);
        prop_assert_eq!(array_assignment(&sn, "addIds"), Some(vec![a, b]));
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
        let prelude = "az() { for a in \"$@\"; do printf '%s\\0' \"$a\" >> \"$AZ_LOG\"; done; printf '\\036' >> \"$AZ_LOG\"; if [ \"$1\" = version ]; then echo 2.91.0; fi; case \"$*\" in *'--query properties.provisioningState'*|*'--query provisioningState'*) echo Succeeded ;; esac; }\n";
        let out = std::process::Command::new("bash").arg("-c").arg(format!("{prelude}{script}")).env("AZ_LOG", &log).output().unwrap();
        prop_assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let raw = String::from_utf8(std::fs::read(&log).unwrap()).unwrap();
        if [&rg, &name, &id].iter().any(|v| v.starts_with('@')) {
            // az reads a value starting with @ as a file: the exact PATCH instead of az vm identity assign
            prop_assert!(!raw.contains("vm\0identity\0assign\0"), "{}", script);
            prop_assert!(raw.split('\u{1e}').any(|c| c.starts_with("rest\0--method\0patch\0")), "{}", script);
            return Ok(());
        }
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

// ---- Windows: az is a batch file (az.cmd, az.bat) ----
//
// A model of the way from a PowerShell script to the argv azure-cli reads on Windows, to run
// the generated `az` function's encoding (taken from the script text) against fuzzed values:
//   (a) PowerShell's native-argument quoting (Legacy: Windows PowerShell 5.1 and 7.0-7.2, and
//       7.3+ in its default Windows mode for .cmd/.bat files), which the script does NOT rely on:
//       the negative control below shows why;
//   (b) CreateProcess running a batch file as `cmd.exe /c "<command line>"`, cmd.exe's parse of
//       that line (percent expansion in command-line mode, quotes, ^, & | < > ( )), then the
//       batch file's own line with %* (az.cmd from the MSI; az.bat from pip, inside a ( ) block);
//   (c) the MSVC runtime's split of python.exe's command line into argv (what Python uses).
mod windows {
    /// PowerShell's native-argument quoting in Legacy mode: an argument with whitespace outside
    /// (unescaped) double quotes is wrapped in quotes, nothing inside is escaped; PowerShell 7
    /// doubles trailing backslashes first (5.1 does not); an empty argument is dropped.
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub enum Ps {
        V51,
        V7,
    }

    /// PowerShell's `NeedQuotes`: whitespace while an even number of quotes not preceded by a
    /// backslash has been seen.
    pub fn ps_need_quotes(s: &str) -> bool {
        let (mut quotes, mut after_backslash) = (0, false);
        for c in s.chars() {
            if c == '"' && !after_backslash {
                quotes += 1;
            } else if c.is_whitespace() && quotes % 2 == 0 {
                return true;
            }
            after_backslash = c == '\\';
        }
        false
    }

    pub fn ps_legacy_command_line(args: &[String], v: Ps) -> String {
        args.iter()
            .filter(|a| !a.is_empty())
            .map(|a| {
                if ps_need_quotes(a) {
                    let trailing = a.chars().rev().take_while(|c| *c == '\\').count();
                    let extra = if v == Ps::V7 {
                        "\\".repeat(trailing)
                    } else {
                        String::new()
                    };
                    format!("\"{a}{extra}\"")
                } else {
                    a.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The environment cmd.exe expands `%name%` from.
    pub enum Env {
        /// Every non-empty name is defined (the adversary's environment).
        All,
        /// A few usual variables.
        Usual,
    }

    impl Env {
        fn get(&self, name: &str) -> Option<String> {
            let upper = name.to_ascii_uppercase();
            match self {
                _ if upper == "CD" => Some("C:\\Users\\me".into()),
                Env::All if !name.is_empty() => Some(format!("<{name}>")),
                Env::All => None,
                Env::Usual => match upper.as_str() {
                    "PATH" => Some("C:\\Windows\\system32;C:\\Windows".into()),
                    "USERNAME" => Some("me".into()),
                    "OS" => Some("Windows_NT".into()),
                    _ => None,
                },
            }
        }

        /// `%name%`, `%name:~start,length%` (an omitted number is 0, a negative one counts from
        /// the end), `%name:~start%`; None when not defined.
        fn expand(&self, spec: &str) -> Option<String> {
            let Some((name, sub)) = spec.split_once(":~") else {
                return match spec.split_once(':') {
                    // %name:a=b% substitution: not needed by these values, left unexpanded
                    Some(_) => None,
                    None => self.get(spec),
                };
            };
            let value: Vec<char> = self.get(name)?.chars().collect();
            let n = value.len() as i64;
            let num = |s: &str| -> Option<i64> {
                if s.is_empty() {
                    Some(0)
                } else {
                    s.parse().ok()
                }
            };
            let (start, len) = match sub.split_once(',') {
                Some((a, b)) => (num(a)?, Some(num(b)?)),
                None => (num(sub)?, None),
            };
            let start = if start < 0 {
                (n + start).max(0)
            } else {
                start.min(n)
            };
            let end = match len {
                None => n,
                Some(l) if l < 0 => (n + l).max(start),
                Some(l) => (start + l).min(n),
            };
            Some(
                value[start as usize..end.max(start) as usize]
                    .iter()
                    .collect(),
            )
        }
    }

    /// Phase 1 of cmd.exe in command-line mode (`cmd /c`): `%name%` becomes the value when the
    /// variable is defined; otherwise the `%` stays and the scan goes on after it. (Batch mode
    /// is not needed: the text %* brings into the batch file's line is not scanned again.)
    pub fn percent_command_line(s: &str, env: &Env) -> String {
        let c: Vec<char> = s.chars().collect();
        let mut out = String::new();
        let mut i = 0;
        while i < c.len() {
            if c[i] == '%'
                && let Some(j) = (i + 1..c.len()).find(|&j| c[j] == '%')
            {
                let name: String = c[i + 1..j].iter().collect();
                if let Some(v) = env.expand(&name) {
                    out.push_str(&v);
                    i = j + 1;
                    continue;
                }
            }
            out.push(c[i]);
            i += 1;
        }
        out
    }

    /// Phase 2 of cmd.exe: a `"` toggles quoting (and stays in the text); inside quotes every
    /// character is text; outside, `^` makes the next character text (a `^"` does not toggle)
    /// and is removed, `& | < >` end the command or redirect it (an error here), and in a
    /// `( … )` block an unquoted `)` ends the block (an error too). A line break ends the line.
    pub fn special_characters(s: &str, in_block: bool) -> Result<String, String> {
        let mut out = String::new();
        let mut quoted = false;
        let mut it = s.chars();
        while let Some(c) = it.next() {
            match c {
                '\n' | '\r' => return Err("a line break ends the command".into()),
                '"' => {
                    quoted = !quoted;
                    out.push(c);
                }
                _ if quoted => out.push(c),
                '^' => match it.next() {
                    Some('\n') | None => return Err("a trailing ^ continues the line".into()),
                    Some(n) => out.push(n),
                },
                '&' | '|' | '<' | '>' => {
                    return Err(format!("an unquoted {c} splits or redirects the command"));
                }
                ')' if in_block => return Err("an unquoted ) ends the ( ) block".into()),
                _ => out.push(c),
            }
        }
        Ok(out)
    }

    /// The MSVC runtime's split of a command line into argv (the UCRT rules Python's argv
    /// follows): the program name ends at the closing quote or the first blank, with no
    /// escapes; then 2n backslashes + `"` give n backslashes and a quote that toggles quoting
    /// (`""` inside quotes: a literal `"`, still quoted), 2n+1 backslashes + `"` give n
    /// backslashes and a literal `"`, other backslashes are literal; blanks outside quotes
    /// separate arguments.
    pub fn msvc_argv(s: &str) -> Vec<String> {
        let c: Vec<char> = s.chars().collect();
        let mut i = 0;
        let mut program = String::new();
        if c.first() == Some(&'"') {
            i = 1;
            while i < c.len() && c[i] != '"' {
                program.push(c[i]);
                i += 1;
            }
            i += 1;
        } else {
            while i < c.len() && c[i] != ' ' && c[i] != '\t' {
                program.push(c[i]);
                i += 1;
            }
        }
        let mut argv = vec![program];
        loop {
            while i < c.len() && (c[i] == ' ' || c[i] == '\t') {
                i += 1;
            }
            if i >= c.len() {
                break;
            }
            let mut arg = String::new();
            let mut quoted = false;
            while i < c.len() {
                let mut n = 0;
                while i < c.len() && c[i] == '\\' {
                    n += 1;
                    i += 1;
                }
                if i < c.len() && c[i] == '"' {
                    arg.push_str(&"\\".repeat(n / 2));
                    if n % 2 == 1 {
                        arg.push('"');
                        i += 1;
                    } else if quoted && c.get(i + 1) == Some(&'"') {
                        arg.push('"');
                        i += 2;
                    } else {
                        quoted = !quoted;
                        i += 1;
                    }
                    continue;
                }
                arg.push_str(&"\\".repeat(n));
                if i >= c.len() || (!quoted && (c[i] == ' ' || c[i] == '\t')) {
                    break;
                }
                arg.push(c[i]);
                i += 1;
            }
            argv.push(arg);
        }
        argv
    }

    /// How azure-cli's batch file passes %* to Python.
    #[derive(Clone, Copy, Debug)]
    pub enum Wrapper {
        /// az.cmd of the MSI: `"%~dp0\..\python.exe" -IBm azure.cli %*` on a line of its own.
        Msi,
        /// az.bat of pip: `"%~dp0\python.exe" -m azure.cli %*` inside `IF EXIST … ( … )`.
        Pip,
    }

    pub const AZ_CMD: &str = r"C:\Program Files\Microsoft SDKs\Azure\CLI2\wbin\az.cmd";

    /// The argv azure-cli receives from `cmd.exe /c "<"az.cmd"> <arguments>"`: how CreateProcess
    /// runs a batch file for PowerShell's native call (`arguments` as PowerShell built them), and
    /// how the script's az function starts it (`/c ""path" " + arguments + "\""`, with /d /v:off
    /// /e:on: the state modelled here whatever the registry says). /c finds more than two quotes
    /// and removes the first and the last one, which gives `"path" arguments` back.
    pub fn az_argv(arguments: &str, env: &Env, wrapper: Wrapper) -> Result<Vec<String>, String> {
        let after_c = format!("\"\"{AZ_CMD}\" {arguments}\"");
        let line = &after_c[1..after_c.len() - 1];
        let parsed = special_characters(&percent_command_line(line, env), false)?;
        // the batch file's %*: what follows its name and the blanks after it
        let rest = parsed
            .strip_prefix(&format!("\"{AZ_CMD}\""))
            .ok_or("the batch file's name changed")?;
        let tail = rest.trim_start_matches([' ', '\t']);
        let python = match wrapper {
            Wrapper::Msi => format!(
                "\"C:\\Program Files\\Microsoft SDKs\\Azure\\CLI2\\wbin\\\\..\\python.exe\" -IBm azure.cli {tail}"
            ),
            Wrapper::Pip => format!("\"C:\\venv\\Scripts\\\\python.exe\" -m azure.cli {tail}"),
        };
        let python = special_characters(&python, matches!(wrapper, Wrapper::Pip))?;
        let argv = msvc_argv(&python);
        let skip = match wrapper {
            Wrapper::Msi => ["-IBm", "azure.cli"],
            Wrapper::Pip => ["-m", "azure.cli"],
        };
        if argv.len() < 3 || argv[1] != skip[0] || argv[2] != skip[1] {
            return Err(format!("python's options changed: {argv:?}"));
        }
        Ok(argv[3..].to_vec())
    }
}

/// The generated `az` function's encoding, taken from the script text and run here: the refusal
/// pattern, the `-replace` pattern/replacement pairs (the same regex syntax in .NET and in the
/// regex crate for these), the quotes around, and the join with one space.
struct AzFunction {
    refuse: regex::Regex,
    replaces: Vec<(regex::Regex, String)>,
}

impl AzFunction {
    fn from_script(ps: &str) -> AzFunction {
        let lits = |line: &str| -> Vec<String> {
            let re = regex::Regex::new(r"'(?:[^']|'')*'").unwrap();
            re.find_iter(line)
                .map(|m| ps_unquote(m.as_str()).unwrap())
                .collect()
        };
        let line = |prefix: &str| -> &str {
            ps.lines()
                .find(|l| l.trim_start().starts_with(prefix))
                .unwrap_or_else(|| panic!("no line {prefix}\n{ps}"))
        };
        let refuse_line = line("if ($Value -match '");
        let refuse = regex::Regex::new(&lits(refuse_line)[0]).unwrap();
        let replace_line = line("$quoted = $Value -replace ");
        let l = lits(replace_line);
        assert_eq!(replace_line.matches("-replace").count() * 2, l.len());
        let replaces = l
            .chunks(2)
            .map(|p| (regex::Regex::new(&p[0]).unwrap(), p[1].clone()))
            .collect();
        assert!(ps.contains("\n    '\"' + $quoted + '\"'\n}"), "{ps}");
        assert!(
            ps.contains("$cmdArgs = @($azArgs | ForEach-Object { ConvertTo-AzCmdArgument $_ }) -join ' '")
                && ps.contains("$startInfo.Arguments = '/d /v:off /e:on /c \"\"' + $azCommand.Path + '\" ' + $cmdArgs + '\"'")
                && ps.contains("ProcessStartInfo]::new(\"$env:SystemRoot\\System32\\cmd.exe\")"),
            "{ps}"
        );
        AzFunction { refuse, replaces }
    }

    /// `ConvertTo-AzCmdArgument`, or None where it throws.
    fn convert(&self, value: &str) -> Option<String> {
        if self.refuse.is_match(value) {
            return None;
        }
        let mut v = value.to_string();
        for (re, with) in &self.replaces {
            v = re.replace_all(&v, with.as_str()).into_owned();
        }
        Some(format!("\"{v}\""))
    }

    /// `$startInfo.Arguments` for these arguments.
    fn arguments(&self, args: &[String]) -> Option<String> {
        let v: Option<Vec<String>> = args.iter().map(|a| self.convert(a)).collect();
        Some(v?.join(" "))
    }
}

fn generated_az_function() -> AzFunction {
    let target = Resource::new("sub", "rg", "vm", TargetKind::Vm);
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
    AzFunction::from_script(&generate(&plan, Flavour::CliPowerShell).text)
}

/// Characters cmd.exe and the MSVC runtime treat specially, plus the usual nasty ones.
fn windows_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => prop::sample::select(vec![
            '&', '|', '<', '>', '^', '%', '(', ')', '"', '\\', ' ', '\t', '!', '=', ',', ';', '\'',
            '`', '$', '@', '-', '[', ']', '{', '}', '*', '?', '~', ':', 'é', '中', '\u{1F600}', '\u{a0}',
        ]),
        1 => any::<char>().prop_filter("no control characters", |c| !c.is_control()),
        2 => prop::char::range('a', 'z'),
    ]
}

fn windows_string() -> impl Strategy<Value = String> {
    prop::collection::vec(windows_char(), 0..20).prop_map(|v| v.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    /// Any values, through the script's az function, cmd.exe (both batch files, every variable
    /// defined) and the MSVC runtime, reach azure-cli exactly.
    #[test]
    fn az_function_values_reach_az_exactly_on_windows(values in prop::collection::vec(windows_string(), 0..5)) {
        let f = generated_az_function();
        let arguments = f.arguments(&values).expect("no control characters");
        for w in [windows::Wrapper::Msi, windows::Wrapper::Pip] {
            let argv = windows::az_argv(&arguments, &windows::Env::All, w);
            prop_assert_eq!(argv.as_ref(), Ok(&values), "{:?}: {}", w, arguments);
        }
    }

}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, .. ProptestConfig::default() })]

    /// Whole scripts: the words each `az` line passes (as PowerShell evaluates them) reach
    /// azure-cli exactly through the az function, for arbitrary names and ids.
    #[test]
    fn cli_powershell_scripts_reach_az_exactly_on_windows(rg in windows_string(), name in windows_string(), id in windows_string()) {
        let target = Resource::new("sub", rg.clone(), name.clone(), TargetKind::ScaleSetUniform);
        let before = Identities { system: true, user: vec![id.clone(), "/other".into()] };
        let after = Identities { system: false, user: vec!["/other".into()] };
        let plan = ScriptPlan::identity(Cloud::AzureCloud, target, before, after, Some("\"1\"".into()));
        for flavour in [Flavour::CliPowerShell, Flavour::CliRestPowerShell] {
            let ps = generate(&plan, flavour).text;
            prop_assert!(syntax_errors(&ps).is_empty(), "{:?}", syntax_errors(&ps));
            let f = AzFunction::from_script(&ps);
            let mut seen_rg = false;
            for words in az_words(&ps) {
                let arguments = f.arguments(&words).expect("no control characters");
                let argv = windows::az_argv(&arguments, &windows::Env::All, windows::Wrapper::Msi);
                prop_assert_eq!(argv.as_ref(), Ok(&words), "{}", arguments);
                // (a group or name az would read as a file is passed only inside the resource's id)
                let by_id = rg.starts_with('@') || name.starts_with('@');
                seen_rg |= words.iter().any(|w| *w == rg || w.strip_prefix("--resource-group=") == Some(rg.as_str())
                    || (by_id && w.contains(&format!("/resourceGroups/{rg}/providers/"))));
            }
            prop_assert!(seen_rg, "{}", ps);
        }
    }
}

/// The words of each `az` call in a script, in order, as PowerShell evaluates them:
/// single-quoted literals decoded by PowerShell's rules, bare words as written. Calls with a
/// computed argument (`$var`, `"…"`) are left out.
fn az_words(ps: &str) -> Vec<Vec<String>> {
    let tree = parse(ps);
    let mut out = Vec::new();
    walk(tree.root_node(), &mut |n| {
        if n.kind() != "command" {
            return;
        }
        let Some(name) = n.child_by_field_name("command_name") else {
            return;
        };
        if &ps[name.byte_range()] != "az" {
            return;
        }
        let mut words = Vec::new();
        if let Some(elems) = n.child_by_field_name("command_elements") {
            let mut c = elems.walk();
            for k in elems.children(&mut c) {
                if matches!(k.kind(), "command_argument_sep" | "comment") {
                    continue;
                }
                let t = &ps[k.byte_range()];
                if let Some(v) = ps_unquote(t) {
                    words.push(v);
                } else if t.starts_with(['$', '@', '(', '"']) {
                    return;
                } else {
                    words.push(t.to_string());
                }
            }
        }
        out.push(words);
    });
    out
}

/// A value with a line break or another control character cannot pass through cmd.exe: the
/// function refuses it (clear error) instead of passing something else.
#[test]
fn az_function_refuses_line_breaks() {
    let f = generated_az_function();
    for v in ["a\nb", "a\rb", "\u{0}", "x\u{1a}y", "\u{1f}"] {
        assert_eq!(f.convert(v), None, "{v:?}");
    }
    assert!(f.convert("a\tb").is_some());
}

/// Negative control: the model is not permissive. Values passed the plain way (PowerShell's
/// Legacy quoting, which 5.1 and 7.3+'s Windows mode use for a batch file) break or change.
#[test]
fn plain_native_arguments_break_through_cmd() {
    use windows::*;
    let cases: &[(&str, Wrapper)] = &[
        ("rg-prod(eu).1", Wrapper::Pip),
        ("a&b", Wrapper::Msi),
        ("p|w", Wrapper::Msi),
        ("x>y", Wrapper::Msi),
        ("a^b", Wrapper::Msi),
        ("%PATH%", Wrapper::Msi),
        ("say \"hi\"", Wrapper::Msi),
        ("{\"a\":1}", Wrapper::Msi),
    ];
    for (value, w) in cases {
        for v in [Ps::V51, Ps::V7] {
            let args = vec!["--name".to_string(), value.to_string()];
            let line = ps_legacy_command_line(&args, v);
            let got = az_argv(&line, &Env::Usual, *w);
            assert_ne!(got.as_ref(), Ok(&args), "{value:?} {v:?}: {line}");
        }
        // the az function's command line carries it
        let f = generated_az_function();
        let args = vec!["--name".to_string(), value.to_string()];
        assert_eq!(
            az_argv(&f.arguments(&args).unwrap(), &Env::Usual, *w),
            Ok(args)
        );
    }
    // 5.1 does not double a trailing backslash before the quote it adds
    let args = vec!["--name".to_string(), "C:\\my dir\\".into()];
    assert_ne!(
        az_argv(
            &ps_legacy_command_line(&args, Ps::V51),
            &Env::Usual,
            Wrapper::Msi
        )
        .as_ref(),
        Ok(&args)
    );
    // an empty value disappears from PowerShell's Legacy command line, not from the function's
    let args = vec![
        "--lb".to_string(),
        String::new(),
        "--name".into(),
        "n".into(),
    ];
    assert_ne!(
        az_argv(
            &ps_legacy_command_line(&args, Ps::V51),
            &Env::Usual,
            Wrapper::Msi
        )
        .as_ref(),
        Ok(&args)
    );
    let f = generated_az_function();
    assert_eq!(
        az_argv(&f.arguments(&args).unwrap(), &Env::Usual, Wrapper::Msi),
        Ok(args)
    );
}

/// The models against known behaviour: azure-cli's own quoting notes (`az '"a&b"'` reaches az as
/// `a&b`, a bare `a&b` runs `b` as a command), the UCRT argv rules, cmd's percent expansion.
#[test]
fn the_windows_models_match_documented_cases() {
    use windows::*;
    let one = |line: &str| az_argv(line, &Env::Usual, Wrapper::Msi);
    assert_eq!(one("\"a&b\""), Ok(vec!["a&b".to_string()]));
    assert!(one("a&b").is_err());
    // cmd.exe parses twice (the command line, then the batch file's %* line): one ^ is not enough
    assert!(one("a^&b").is_err());
    assert_eq!(one("a^^^&b"), Ok(vec!["a&b".to_string()]));
    assert_eq!(one("\"%OS%\""), Ok(vec!["Windows_NT".to_string()]));
    assert_eq!(one("%NOT_SET%"), Ok(vec!["%NOT_SET%".to_string()]));
    assert_eq!(one("%%cd:~,%PATH%%cd:~,%"), Ok(vec!["%PATH%".to_string()]));
    assert_eq!(
        msvc_argv(r#"p "a b" c\\"d" e\"f "g""h" i\\\"j"#),
        vec!["p", "a b", "c\\d", "e\"f", "g\"h", "i\\\"j"]
    );
    assert_eq!(msvc_argv(r#"p "" x"#), vec!["p", "", "x"]);
    // PowerShell does not count a quote after a backslash: `"a\"" b"` (a " after a backslash,
    // quoted for the MSVC runtime) looks unquoted at the blank, so PowerShell would wrap it again
    assert!(ps_need_quotes("a b") && !ps_need_quotes("\"a b\"") && !ps_need_quotes("\"a\\\" b\""));
    assert!(ps_need_quotes(r#""a\\"" b""#));
    assert_eq!(
        ps_legacy_command_line(&["a b\\".into()], Ps::V51),
        "\"a b\\\""
    );
    assert_eq!(
        ps_legacy_command_line(&["a b\\".into()], Ps::V7),
        "\"a b\\\\\""
    );
}
