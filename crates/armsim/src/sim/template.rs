//! ARM template expressions (`"[concat('a', parameters('b'))]"`): a parser and an evaluator for the subset of the
//! template language the deployment engine supports (see `deployments` and the README's list). Pure functions
//! (`concat`, `if`, `equals`, …) are evaluated here; the ones that need the deployment (`parameters`,
//! `variables`, `resourceId`, `reference`, `providers`, `copyIndex`, `resourceGroup`, `subscription`) are asked of
//! a [`Functions`] implementation.

use serde_json::{Map, Value, json};

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    Str(String),
    Int(i64),
    Call(String, Vec<Expr>),
    Prop(Box<Expr>, String),
    Index(Box<Expr>, Box<Expr>),
}

/// The functions whose value depends on the deployment.
pub(crate) trait Functions {
    /// `name` (lower case) applied to `args`; `Err` for an unknown function or a wrong use.
    fn call(&mut self, name: &str, args: &[Value]) -> Result<Value, String>;
}

/// The functions evaluated by [`eval`] itself (lower case).
pub(crate) const PURE: &[&str] = &[
    "concat", "if", "equals", "not", "and", "or", "tolower", "toupper", "string", "length",
    "empty", "add", "true", "false",
];

/// Whether a JSON string is an expression: `[…]`, but not `[[…` (an escaped literal `[`).
pub(crate) fn is_expression(s: &str) -> bool {
    s.starts_with('[') && s.ends_with(']') && !s.starts_with("[[") && s.len() >= 2
}

/// Parses the text between the brackets.
pub(crate) fn parse(src: &str) -> Result<Expr, String> {
    let mut p = Parser {
        s: src.as_bytes(),
        i: 0,
        src,
    };
    let e = p.expr()?;
    p.ws();
    if p.i != p.s.len() {
        return Err(p.err("unexpected text"));
    }
    Ok(e)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    src: &'a str,
}

impl Parser<'_> {
    fn err(&self, what: &str) -> String {
        format!(
            "The template language expression '{}' is not valid: {what} at position {}.",
            self.src,
            self.i + 1
        )
    }
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }
    fn expr(&mut self) -> Result<Expr, String> {
        let mut e = self.primary()?;
        loop {
            match self.peek() {
                Some(b'.') => {
                    self.i += 1;
                    self.ws();
                    let name = self.ident()?;
                    e = Expr::Prop(Box::new(e), name);
                }
                Some(b'[') => {
                    self.i += 1;
                    let ix = self.expr()?;
                    if self.peek() != Some(b']') {
                        return Err(self.err("expected ']'"));
                    }
                    self.i += 1;
                    e = Expr::Index(Box::new(e), Box::new(ix));
                }
                _ => return Ok(e),
            }
        }
    }
    fn ident(&mut self) -> Result<String, String> {
        let start = self.i;
        while self.i < self.s.len()
            && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'_')
        {
            self.i += 1;
        }
        if start == self.i || self.s[start].is_ascii_digit() {
            return Err(self.err("expected a name"));
        }
        Ok(self.src[start..self.i].to_string())
    }
    fn primary(&mut self) -> Result<Expr, String> {
        match self.peek() {
            Some(b'\'') => {
                self.i += 1;
                let mut out = String::new();
                let mut start = self.i;
                loop {
                    match self.s.get(self.i) {
                        None => return Err(self.err("unterminated string")),
                        Some(b'\'') if self.s.get(self.i + 1) == Some(&b'\'') => {
                            out.push_str(&self.src[start..=self.i]);
                            self.i += 2;
                            start = self.i;
                        }
                        Some(b'\'') => {
                            out.push_str(&self.src[start..self.i]);
                            self.i += 1;
                            return Ok(Expr::Str(out));
                        }
                        Some(_) => self.i += 1,
                    }
                }
            }
            Some(c) if c.is_ascii_digit() || c == b'-' => {
                let start = self.i;
                self.i += 1;
                while self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
                    self.i += 1;
                }
                self.src[start..self.i]
                    .parse()
                    .map(Expr::Int)
                    .map_err(|_| self.err("invalid number"))
            }
            Some(_) => {
                let name = self.ident()?;
                if self.peek() != Some(b'(') {
                    return Err(self.err("expected '(' after a function name"));
                }
                self.i += 1;
                let mut args = Vec::new();
                if self.peek() == Some(b')') {
                    self.i += 1;
                    return Ok(Expr::Call(name, args));
                }
                loop {
                    args.push(self.expr()?);
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b')') => {
                            self.i += 1;
                            return Ok(Expr::Call(name, args));
                        }
                        _ => return Err(self.err("expected ',' or ')'")),
                    }
                }
            }
            None => Err(self.err("unexpected end")),
        }
    }
}

/// Text of a value as `concat` and `string` give it.
pub(crate) fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn truthy(v: &Value, f: &str) -> Result<bool, String> {
    v.as_bool()
        .ok_or_else(|| format!("The template function '{f}' expects boolean arguments."))
}

/// Evaluates an expression.
pub(crate) fn eval(e: &Expr, f: &mut dyn Functions) -> Result<Value, String> {
    match e {
        Expr::Str(s) => Ok(json!(s)),
        Expr::Int(n) => Ok(json!(n)),
        Expr::Prop(inner, name) => {
            let v = eval(inner, f)?;
            let o = v.as_object().ok_or_else(|| {
                format!("The language expression property '{name}' can't be evaluated: the value is not an object.")
            })?;
            o.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
                .ok_or_else(|| {
                    let keys: Vec<&str> = o.keys().map(String::as_str).collect();
                    format!(
                        "The language expression property '{name}' doesn't exist, available properties are '{}'.",
                        keys.join(", ")
                    )
                })
        }
        Expr::Index(inner, ix) => {
            let v = eval(inner, f)?;
            let i = eval(ix, f)?;
            match (&v, &i) {
                (Value::Array(a), Value::Number(n)) => n
                    .as_u64()
                    .and_then(|n| a.get(n as usize))
                    .cloned()
                    .ok_or_else(|| format!("The language expression index '{n}' is out of range.")),
                (Value::Object(o), Value::String(k)) => o
                    .iter()
                    .find(|(x, _)| x.eq_ignore_ascii_case(k))
                    .map(|(_, v)| v.clone())
                    .ok_or_else(|| {
                        format!("The language expression property '{k}' doesn't exist.")
                    }),
                _ => Err("The language expression index can't be applied to this value.".into()),
            }
        }
        Expr::Call(name, args) => {
            let lname = name.to_ascii_lowercase();
            if lname == "if" {
                // lazy: only the branch taken is evaluated
                if args.len() != 3 {
                    return Err("The template function 'if' expects three arguments.".into());
                }
                let c = eval(&args[0], f)?;
                return eval(&args[if truthy(&c, "if")? { 1 } else { 2 }], f);
            }
            let vals: Vec<Value> = args.iter().map(|a| eval(a, f)).collect::<Result<_, _>>()?;
            pure(&lname, &vals).unwrap_or_else(|| f.call(&lname, &vals))
        }
    }
}

fn pure(name: &str, a: &[Value]) -> Option<Result<Value, String>> {
    let arity = |n: usize| -> Result<(), String> {
        if a.len() == n {
            Ok(())
        } else {
            Err(format!(
                "The template function '{name}' expects {n} argument(s), got {}.",
                a.len()
            ))
        }
    };
    Some(match name {
        "concat" => {
            if a.iter().all(Value::is_array) && !a.is_empty() {
                Ok(Value::Array(
                    a.iter()
                        .flat_map(|x| x.as_array().cloned().unwrap_or_default())
                        .collect(),
                ))
            } else if a.iter().any(|x| x.is_array() || x.is_object()) {
                Err("The template function 'concat' expects strings (or arrays only).".into())
            } else {
                Ok(json!(a.iter().map(text).collect::<String>()))
            }
        }
        "equals" => arity(2).map(|_| json!(a[0] == a[1])),
        "not" => arity(1).and_then(|_| truthy(&a[0], name).map(|b| json!(!b))),
        "and" | "or" => {
            let bs: Result<Vec<bool>, String> = a.iter().map(|v| truthy(v, name)).collect();
            bs.map(|bs| {
                json!(if name == "and" {
                    bs.iter().all(|b| *b)
                } else {
                    bs.iter().any(|b| *b)
                })
            })
        }
        "tolower" | "toupper" => arity(1).and_then(|_| {
            let s = a[0]
                .as_str()
                .ok_or_else(|| format!("The template function '{name}' expects a string."))?;
            Ok(json!(if name == "tolower" {
                s.to_lowercase()
            } else {
                s.to_uppercase()
            }))
        }),
        "string" => arity(1).map(|_| json!(text(&a[0]))),
        "length" | "empty" => arity(1).and_then(|_| {
            let n = match &a[0] {
                Value::String(s) => s.chars().count(),
                Value::Array(x) => x.len(),
                Value::Object(o) => o.len(),
                Value::Null => 0,
                _ => {
                    return Err(format!(
                        "The template function '{name}' expects a string, array or object."
                    ));
                }
            };
            Ok(if name == "length" {
                json!(n)
            } else {
                json!(n == 0)
            })
        }),
        "add" => arity(2).and_then(|_| match (a[0].as_i64(), a[1].as_i64()) {
            (Some(x), Some(y)) => Ok(json!(x + y)),
            _ => Err("The template function 'add' expects integers.".into()),
        }),
        "true" => arity(0).map(|_| json!(true)),
        "false" => arity(0).map(|_| json!(false)),
        _ => return None,
    })
}

/// A JSON string of a template: the expression's value, an escaped `[[…` literal without its first `[`, or the
/// text itself.
pub(crate) fn eval_str(s: &str, f: &mut dyn Functions) -> Result<Value, String> {
    if is_expression(s) {
        eval(&parse(&s[1..s.len() - 1])?, f)
    } else if let Some(rest) = s.strip_prefix("[[") {
        Ok(json!(format!("[{rest}")))
    } else {
        Ok(json!(s))
    }
}

/// Every string value of `v` evaluated (object keys are left as they are).
pub(crate) fn eval_value(v: &Value, f: &mut dyn Functions) -> Result<Value, String> {
    Ok(match v {
        Value::String(s) => eval_str(s, f)?,
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| eval_value(x, f))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(o) => {
            let mut m = Map::new();
            for (k, x) in o {
                m.insert(k.clone(), eval_value(x, f)?);
            }
            Value::Object(m)
        }
        other => other.clone(),
    })
}

/// The calls of function `name` (lower case) anywhere in the expressions of `v`, for implicit dependencies.
pub(crate) fn calls_in(v: &Value, name: &str, out: &mut Vec<Vec<Expr>>) {
    fn walk(e: &Expr, name: &str, out: &mut Vec<Vec<Expr>>) {
        match e {
            Expr::Call(n, args) => {
                if n.eq_ignore_ascii_case(name) {
                    out.push(args.clone());
                }
                for a in args {
                    walk(a, name, out);
                }
            }
            Expr::Prop(i, _) => walk(i, name, out),
            Expr::Index(i, x) => {
                walk(i, name, out);
                walk(x, name, out);
            }
            _ => {}
        }
    }
    match v {
        Value::String(s) if is_expression(s) => {
            if let Ok(e) = parse(&s[1..s.len() - 1]) {
                walk(&e, name, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| calls_in(x, name, out)),
        Value::Object(o) => o.values().for_each(|x| calls_in(x, name, out)),
        _ => {}
    }
}

/// Newtonsoft's camel case, as ARM names a deployment's outputs (`VMSS` → `vmss`, `NicId` → `nicId`).
pub(crate) fn camel(s: &str) -> String {
    let c: Vec<char> = s.chars().collect();
    let mut out = c.clone();
    for i in 0..c.len() {
        if i == 1 && !c[i].is_uppercase() {
            break;
        }
        let has_next = i + 1 < c.len();
        if i > 0 && has_next && !c[i + 1].is_uppercase() {
            if c[i + 1] == ' ' {
                out[i] = c[i].to_lowercase().next().unwrap_or(c[i]);
            }
            break;
        }
        out[i] = c[i].to_lowercase().next().unwrap_or(c[i]);
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoFns;
    impl Functions for NoFns {
        fn call(&mut self, name: &str, _: &[Value]) -> Result<Value, String> {
            Err(format!("unknown {name}"))
        }
    }

    #[test]
    fn parses_and_evaluates_the_pure_subset() {
        let f = &mut NoFns;
        assert_eq!(
            eval_str("[concat('a', 'b''c', 1)]", f).unwrap(),
            json!("ab'c1")
        );
        assert_eq!(
            eval_str("[[not an expression]", f).unwrap(),
            json!("[not an expression]")
        );
        assert_eq!(eval_str("plain", f).unwrap(), json!("plain"));
        assert_eq!(
            eval_str("[if(equals(toLower('A'), 'a'), add(1, 2), missing())]", f).unwrap(),
            json!(3)
        );
        assert_eq!(
            eval_str("[concat(createArray(), 'x')]", f).unwrap_err(),
            "unknown createarray"
        );
        assert!(parse("concat('a'").is_err());
        assert!(parse("concat('a') x").is_err());
    }

    #[test]
    fn camel_case_as_newtonsoft() {
        for (a, b) in [
            ("VMSS", "vmss"),
            ("NicId", "nicId"),
            ("vm", "vm"),
            ("URLValue", "urlValue"),
            ("", ""),
        ] {
            assert_eq!(camel(a), b);
        }
    }
}
