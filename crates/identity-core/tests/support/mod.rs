//! Test harness for generated PowerShell: tree-sitter parse (no ERROR/MISSING), a binder
//! against the real parameter sets (az-cmdlets.json / azurerm-cmdlets.json), defined-variable
//! checks, and a decoder for single-quoted literals that follows PowerShell's tokenizer
//! (including the typographic quotes the grammar does not know).
#![allow(dead_code)]

use serde_json::Value;
use std::collections::HashSet;
use tree_sitter::{Node, Parser, Tree};

pub fn parse(src: &str) -> Tree {
    let mut p = Parser::new();
    p.set_language(&tree_sitter_powershell::LANGUAGE.into())
        .unwrap();
    p.parse(src, None).unwrap()
}

/// Every ERROR or MISSING node, with its text.
pub fn syntax_errors(src: &str) -> Vec<String> {
    let tree = parse(src);
    let mut out = Vec::new();
    walk(tree.root_node(), &mut |n| {
        if n.is_error() || n.is_missing() {
            out.push(format!(
                "{} at {}: {:?}",
                if n.is_missing() { "MISSING" } else { "ERROR" },
                n.start_position().row + 1,
                &src[n.byte_range()]
            ));
        }
    });
    out
}

pub fn walk<'a>(n: Node<'a>, f: &mut impl FnMut(Node<'a>)) {
    f(n);
    let mut c = n.walk();
    for ch in n.children(&mut c) {
        walk(ch, f);
    }
}

/// Decode a PowerShell single-quoted literal following the tokenizer: any of ' U+2018..U+201B
/// opens/closes; two quote characters in a row yield the second one. Returns None unless the
/// literal is consumed exactly.
pub fn ps_unquote(lit: &str) -> Option<String> {
    let isq = |c: char| matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}');
    let mut it = lit.chars().peekable();
    if !isq(it.next()?) {
        return None;
    }
    let mut out = String::new();
    loop {
        let c = it.next()?;
        if isq(c) {
            match it.peek() {
                Some(&n) if isq(n) => {
                    out.push(n);
                    it.next();
                }
                _ => break,
            }
        } else {
            out.push(c);
        }
    }
    if it.next().is_some() { None } else { Some(out) }
}

/// The decoded value of every `$name = '<literal>'` assignment, in order.
pub fn assignments(src: &str, var: &str) -> Vec<String> {
    let tree = parse(src);
    let mut out = Vec::new();
    walk(tree.root_node(), &mut |n| {
        if n.kind() == "assignment_expression" {
            let left = n.child(0).unwrap();
            if src[left.byte_range()]
                .trim()
                .eq_ignore_ascii_case(&format!("${var}"))
            {
                let value = n.child_by_field_name("value").unwrap();
                let text = src[value.byte_range()].trim();
                if let Some(v) = ps_unquote(text) {
                    out.push(v);
                }
            }
        }
    });
    out
}

/// An argument as the binder sees it.
#[derive(Debug, Clone)]
pub enum Arg {
    /// A literal (bare word or single-quoted string), decoded; one entry per array element.
    Literal(Vec<String>),
    /// Anything computed at run time (variable, expression).
    Dynamic,
}

#[derive(Debug)]
pub struct Invocation {
    pub name: String,
    pub named: Vec<(String, Option<Arg>)>,
    pub positional: Vec<Arg>,
    pub line: usize,
}

fn literal_of(n: Node, src: &str) -> Arg {
    let mut vals = Vec::new();
    let mut dynamic = false;
    fn leaves<'a>(n: Node<'a>, src: &str, vals: &mut Vec<String>, dynamic: &mut bool) {
        match n.kind() {
            "generic_token" => vals.push(src[n.byte_range()].to_string()),
            "string_literal" => {
                let t = &src[n.byte_range()];
                match ps_unquote(t) {
                    Some(v) => vals.push(v),
                    None => *dynamic = true,
                }
            }
            "array_literal_expression" | "unary_expression" => {
                let mut c = n.walk();
                for ch in n.named_children(&mut c) {
                    leaves(ch, src, vals, dynamic);
                }
            }
            _ => *dynamic = true,
        }
    }
    leaves(n, src, &mut vals, &mut dynamic);
    if dynamic {
        Arg::Dynamic
    } else {
        Arg::Literal(vals)
    }
}

/// Every command invocation with its named and positional arguments.
/// `is_switch(cmd, param)` tells whether a parameter takes no argument.
pub fn invocations(src: &str, is_switch: &dyn Fn(&str, &str) -> bool) -> Vec<Invocation> {
    let tree = parse(src);
    let mut out = Vec::new();
    walk(tree.root_node(), &mut |n| {
        if n.kind() != "command" {
            return;
        }
        let Some(name_node) = n.child_by_field_name("command_name") else {
            return;
        };
        let name = src[name_node.byte_range()].to_string();
        let mut inv = Invocation {
            name: name.clone(),
            named: vec![],
            positional: vec![],
            line: n.start_position().row + 1,
        };
        if let Some(elems) = n.child_by_field_name("command_elements") {
            let mut c = elems.walk();
            let kids: Vec<Node> = elems
                .children(&mut c)
                .filter(|k| k.kind() != "command_argument_sep" && k.kind() != "comment")
                .collect();
            let mut i = 0;
            while i < kids.len() {
                let k = kids[i];
                if k.kind() == "command_parameter" {
                    let pname = src[k.byte_range()].trim_start_matches('-').to_string();
                    let takes_arg = !is_switch(&name, &pname);
                    if takes_arg && i + 1 < kids.len() && kids[i + 1].kind() != "command_parameter"
                    {
                        inv.named.push((pname, Some(literal_of(kids[i + 1], src))));
                        i += 2;
                        continue;
                    }
                    inv.named.push((pname, None));
                } else {
                    inv.positional.push(literal_of(k, src));
                }
                i += 1;
            }
        }
        out.push(inv);
    });
    out
}

/// Commands the scripts may use that the cmdlet files do not describe (native tools and
/// core PowerShell / other Az modules); they are parsed but not bound.
pub const UNBOUND: &[&str] = &[
    "az",
    "Get-AzAccessToken",
    "Get-AzContext",
    "Invoke-RestMethod",
    "New-AzRoleAssignment",
    "New-AzureRmRoleAssignment",
    "Remove-AzVMExtension",
    "Remove-AzureRmVMExtension",
    "Select-Object",
    "Where-Object",
    "ConvertTo-Json",
    "ConvertFrom-Json",
    "Start-Sleep",
    "Write-Output",
    "Write-Warning",
    "Read-Host",
    "Get-Credential",
    "New-TemporaryFile",
    "Set-Content",
    "Get-Command",
    "ForEach-Object",
];

pub struct Catalogue {
    cmdlets: serde_json::Map<String, Value>,
}

impl Catalogue {
    pub fn load(file: &str) -> Self {
        let path = format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
        let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let cmdlets = v
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| !k.starts_with('_'))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Catalogue { cmdlets }
    }

    /// Az 16.2.0 (tests/data/az-cmdlets.json) plus the VMSS profile cmdlets New-AzVmss needs
    /// (tests/support/az-cmdlets-vmss-profile.json), the VM create chain's cmdlets
    /// (tests/support/az-cmdlets-vm-profile.json) and Remove-AzRoleAssignment
    /// (tests/support/az-cmdlets-roles.json); their source is named in each `_source`.
    pub fn az() -> Self {
        Self::load("az-cmdlets.json").with_extras(&[
            "az-cmdlets-vmss-profile.json",
            "az-cmdlets-vm-profile.json",
            "az-cmdlets-roles.json",
        ])
    }

    fn with_extras(mut self, extras: &[&str]) -> Self {
        let c = &mut self;
        for extra in extras {
            let path = format!("{}/tests/support/{extra}", env!("CARGO_MANIFEST_DIR"));
            let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            for (k, x) in v.as_object().unwrap() {
                if !k.starts_with('_') {
                    assert!(
                        c.cmdlets.insert(k.clone(), x.clone()).is_none(),
                        "{k} twice"
                    );
                }
            }
        }
        self
    }

    /// AzureRM 6.13 (tests/data/azurerm-cmdlets.json) plus Remove-AzureRmRoleAssignment
    /// (tests/support/azurerm-cmdlets-roles.json).
    pub fn azurerm() -> Self {
        Self::load("azurerm-cmdlets.json").with_extras(&["azurerm-cmdlets-roles.json"])
    }

    pub fn cmdlet(&self, name: &str) -> Option<&Value> {
        self.cmdlets.iter().find_map(|(k, v)| {
            let aliases = v["cmdletAliases"].as_array().cloned().unwrap_or_default();
            (k.eq_ignore_ascii_case(name)
                || aliases
                    .iter()
                    .any(|a| a.as_str().unwrap().eq_ignore_ascii_case(name)))
            .then_some(v)
        })
    }

    /// Every distinct parameter of a cmdlet (over all sets) plus the common parameters: (name, aliases).
    fn all_params(c: &Value) -> Vec<(String, Vec<String>)> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for ps in c["parameterSets"].as_array().unwrap() {
            for p in ps["parameters"].as_array().unwrap() {
                let n = p["name"].as_str().unwrap().to_string();
                if seen.insert(n.to_ascii_lowercase()) {
                    let al = p["aliases"]
                        .as_array()
                        .map(|a| a.iter().map(|x| x.as_str().unwrap().to_string()).collect())
                        .unwrap_or_default();
                    out.push((n, al));
                }
            }
        }
        for cp in c["commonParameters"].as_array().into_iter().flatten() {
            let n = cp.as_str().unwrap().to_string();
            if seen.insert(n.to_ascii_lowercase()) {
                out.push((n, vec![]));
            }
        }
        out
    }

    /// Resolve a written parameter name the way PowerShell does: exact name or alias, else a
    /// unique prefix of the names and aliases.
    pub fn resolve(&self, cmd: &str, written: &str) -> Result<String, String> {
        let c = self
            .cmdlet(cmd)
            .ok_or_else(|| format!("unknown cmdlet {cmd}"))?;
        let all = Self::all_params(c);
        let w = written.to_ascii_lowercase();
        for (n, al) in &all {
            if n.to_ascii_lowercase() == w || al.iter().any(|a| a.to_ascii_lowercase() == w) {
                return Ok(n.clone());
            }
        }
        let hits: HashSet<&String> = all
            .iter()
            .filter(|(n, al)| {
                n.to_ascii_lowercase().starts_with(&w)
                    || al.iter().any(|a| a.to_ascii_lowercase().starts_with(&w))
            })
            .map(|(n, _)| n)
            .collect();
        match hits.len() {
            1 => Ok((*hits.iter().next().unwrap()).clone()),
            0 => Err(format!("{cmd}: no parameter matches -{written}")),
            _ => Err(format!("{cmd}: -{written} is ambiguous: {hits:?}")),
        }
    }

    pub fn is_switch(&self, cmd: &str, written: &str) -> bool {
        let Some(c) = self.cmdlet(cmd) else {
            return false;
        };
        let Ok(name) = self.resolve(cmd, written) else {
            return false;
        };
        c["parameterSets"].as_array().unwrap().iter().any(|ps| {
            ps["parameters"].as_array().unwrap().iter().any(|p| {
                p["name"] == name.as_str()
                    && p["type"].as_str().unwrap().ends_with("SwitchParameter")
            })
        }) || ["Verbose", "Debug"].contains(&name.as_str())
    }

    /// Bind one invocation: the name of the single parameter set it binds to.
    pub fn bind(&self, inv: &Invocation) -> Result<String, String> {
        let c = self
            .cmdlet(&inv.name)
            .ok_or_else(|| format!("line {}: unknown cmdlet {}", inv.line, inv.name))?;
        let mut bound: Vec<(String, Option<&Arg>)> = Vec::new();
        for (w, a) in &inv.named {
            let n = self
                .resolve(&inv.name, w)
                .map_err(|e| format!("line {}: {e}", inv.line))?;
            if bound.iter().any(|(b, _)| *b == n) {
                return Err(format!("line {}: -{n} bound twice", inv.line));
            }
            bound.push((n, a.as_ref()));
        }
        let common: Vec<String> = c["commonParameters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|x| x.as_str().unwrap().to_string())
            .collect();
        let mut ok_sets = Vec::new();
        let mut reasons = Vec::new();
        'sets: for ps in c["parameterSets"].as_array().unwrap() {
            let params = ps["parameters"].as_array().unwrap();
            let find = |n: &str| params.iter().find(|p| p["name"] == n);
            let mut names: Vec<String> = Vec::new();
            for (n, a) in &bound {
                let Some(p) = find(n) else {
                    if common.contains(n) {
                        continue;
                    }
                    reasons.push(format!("{}: -{n} not in set", ps["name"]));
                    continue 'sets;
                };
                let is_switch = p["type"].as_str().unwrap().ends_with("SwitchParameter");
                if a.is_none() && !is_switch {
                    reasons.push(format!("{}: missing an argument for -{n}", ps["name"]));
                    continue 'sets;
                }
                if let (Some(Arg::Literal(vals)), Some(allowed)) = (a, p["values"].as_array()) {
                    for v in vals {
                        if !allowed
                            .iter()
                            .any(|x| x.as_str().unwrap().eq_ignore_ascii_case(v))
                        {
                            return Err(format!(
                                "line {}: {} -{n} {v:?} is not one of {allowed:?}",
                                inv.line, inv.name
                            ));
                        }
                    }
                }
                names.push(n.clone());
            }
            // positional arguments fill the unbound positional parameters in order
            let mut slots: Vec<(i64, String)> = params
                .iter()
                .filter(|p| {
                    p["position"].is_i64()
                        && !names.contains(&p["name"].as_str().unwrap().to_string())
                })
                .map(|p| {
                    (
                        p["position"].as_i64().unwrap(),
                        p["name"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            slots.sort();
            if inv.positional.len() > slots.len() {
                reasons.push(format!("{}: too many positional arguments", ps["name"]));
                continue;
            }
            for (i, _) in inv.positional.iter().enumerate() {
                names.push(slots[i].1.clone());
            }
            for p in params {
                if p["mandatory"] == true
                    && !names.contains(&p["name"].as_str().unwrap().to_string())
                {
                    reasons.push(format!("{}: mandatory -{} missing", ps["name"], p["name"]));
                    continue 'sets;
                }
            }
            ok_sets.push(ps["name"].as_str().unwrap().to_string());
        }
        match ok_sets.len() {
            1 => Ok(ok_sets.remove(0)),
            // PowerShell's rule when several sets remain: the default set wins if it is among them
            _ if ok_sets
                .iter()
                .any(|s| c["defaultParameterSet"] == s.as_str()) =>
            {
                Ok(c["defaultParameterSet"].as_str().unwrap().to_string())
            }
            0 => Err(format!(
                "line {}: {} binds to no parameter set: {reasons:?}",
                inv.line, inv.name
            )),
            _ => Err(format!(
                "line {}: {} is ambiguous between {ok_sets:?}",
                inv.line, inv.name
            )),
        }
    }

    /// Bind every invocation of a script; unknown commands must be in [`UNBOUND`].
    pub fn check_script(&self, src: &str) -> Result<Vec<(String, String)>, String> {
        let invs = invocations(src, &|c, p| self.is_switch(c, p));
        let defined = defined_functions(src);
        let mut out = Vec::new();
        for inv in &invs {
            if self.cmdlet(&inv.name).is_some() {
                out.push((inv.name.clone(), self.bind(inv)?));
            } else if inv.name.starts_with('$') {
                // `& $path …`: a program found at run time (the az function's native call)
            } else if !UNBOUND.iter().any(|u| u.eq_ignore_ascii_case(&inv.name))
                && !defined.iter().any(|d| d.eq_ignore_ascii_case(&inv.name))
            {
                return Err(format!("line {}: unknown command {}", inv.line, inv.name));
            }
        }
        Ok(out)
    }
}

fn has_ancestor(n: Node, kind: &str) -> bool {
    let mut p = n.parent();
    while let Some(x) = p {
        if x.kind() == kind {
            return true;
        }
        p = x.parent();
    }
    false
}

/// The names of the functions a script defines (`function name { … }`).
pub fn defined_functions(src: &str) -> Vec<String> {
    let tree = parse(src);
    let mut out = Vec::new();
    walk(tree.root_node(), &mut |n| {
        if n.kind() == "function_statement" {
            let mut c = n.walk();
            if let Some(name) = n
                .named_children(&mut c)
                .find(|k| k.kind() == "function_name")
            {
                out.push(src[name.byte_range()].to_string());
            }
        }
    });
    out
}

/// Variables used before any assignment (automatic variables aside).
pub fn undefined_variables(src: &str) -> Vec<String> {
    let tree = parse(src);
    let automatic = [
        "$_",
        "$true",
        "$false",
        "$null",
        "$lastexitcode",
        "$erroractionpreference",
        "$psitem",
        "$args",
        "$input",
        "$matches",
    ];
    let mut defined: HashSet<String> = automatic.iter().map(|s| s.to_string()).collect();
    let mut bad = Vec::new();
    // assignments and foreach iterators define; a use is checked at its position
    let mut defs: Vec<(usize, String)> = Vec::new();
    let mut uses: Vec<(usize, String)> = Vec::new();
    walk(tree.root_node(), &mut |n| {
        if n.kind() == "assignment_expression" {
            let left = n.child(0).unwrap();
            defs.push((
                n.end_byte(),
                src[left.byte_range()].trim().to_ascii_lowercase(),
            ));
        }
        if n.kind() == "foreach_statement" {
            let mut c = n.walk();
            if let Some(v) = n.named_children(&mut c).find(|k| k.kind() == "variable") {
                defs.push((v.start_byte(), src[v.byte_range()].to_ascii_lowercase()));
            }
        }
        if n.kind() == "variable" && has_ancestor(n, "script_parameter") {
            // a function's parameter: defined where it is declared
            defs.push((n.start_byte(), src[n.byte_range()].to_ascii_lowercase()));
        }
        if n.kind() == "variable" {
            let in_left = n
                .parent()
                .map(|p| {
                    let mut q = Some(p);
                    while let Some(x) = q {
                        if x.kind() == "left_assignment_expression" {
                            return true;
                        }
                        q = x.parent();
                    }
                    false
                })
                .unwrap_or(false);
            if !in_left {
                uses.push((n.start_byte(), src[n.byte_range()].to_ascii_lowercase()));
            }
        }
    });
    for (pos, u) in uses {
        // `@name` splats the variable `$name`
        let u = match u.strip_prefix('@') {
            Some(rest) => format!("${rest}"),
            None => u,
        };
        let base = u.split(['.', '[']).next().unwrap().to_string();
        if base.starts_with("$env:") {
            continue; // the process environment
        }
        if !defined.contains(&base) && !defs.iter().any(|(p, d)| *p <= pos && *d == base) {
            bad.push(base);
        }
    }
    defined.clear();
    bad
}

/// The decoded string literals of `$var = @( … )` (every single-quoted literal in the value).
pub fn array_assignment(src: &str, var: &str) -> Option<Vec<String>> {
    let tree = parse(src);
    let mut out = None;
    walk(tree.root_node(), &mut |n| {
        if n.kind() == "assignment_expression" {
            let left = n.child(0).unwrap();
            if src[left.byte_range()]
                .trim()
                .eq_ignore_ascii_case(&format!("${var}"))
            {
                let value = n.child_by_field_name("value").unwrap();
                let mut vals = Vec::new();
                walk(value, &mut |m| {
                    if m.kind() == "string_literal" {
                        vals.push(ps_unquote(&src[m.byte_range()]).expect("single-quoted"));
                    }
                });
                out = Some(vals);
            }
        }
    });
    out
}

/// `bash -n`: the script parses (else the error and the script).
pub fn bash_syntax_ok(text: &str) {
    let out = std::process::Command::new("bash")
        .arg("-n")
        .arg("-c")
        .arg(text)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "bash -n: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
}
