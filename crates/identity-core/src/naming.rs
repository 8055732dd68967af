//! Azure naming rules for the names this tool creates or accepts, with errors that name the rule.
//!
//! Rules from Azure's "Naming rules and restrictions for Azure resources" page
//! (Microsoft.Compute, Microsoft.ManagedIdentity, Microsoft.Resources, Microsoft.Authorization).

use serde::{Deserialize, Serialize};
use std::fmt;

/// Which naming rule a value breaks. Displayed as one sentence: the value, what is wrong with
/// it (naming the rule) and what to do, e.g. `scale set name "web-" ends with '-', which is not
/// allowed (a name cannot end with a period or a hyphen): remove it`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameError {
    /// What the value is ("scale set name", "principal id", ...).
    pub what: &'static str,
    /// The offending value (empty when it is not shown, e.g. a password).
    pub name: String,
    /// What is wrong, naming the rule, and what to do: a clause that follows `what` and the
    /// value ("is not a GUID: give …").
    pub rule: String,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.name.is_empty() {
            write!(f, "{} {}", self.what, self.rule)
        } else {
            write!(f, "{} {:?} {}", self.what, self.name, self.rule)
        }
    }
}

impl std::error::Error for NameError {}

/// The operating system, where a naming rule depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OsType {
    Linux,
    Windows,
}

fn fail(what: &'static str, name: &str, rule: impl Into<String>) -> Result<(), NameError> {
    Err(NameError {
        what,
        name: name.to_string(),
        rule: rule.into(),
    })
}

/// The length rule, as a clause: "is empty: give 1-64 characters" / "is 70 characters long, too
/// long: shorten it to 1-64 characters". `extra` qualifies the range (" for Linux").
pub(crate) fn length_rule(n: usize, min: usize, max: usize, extra: &str) -> Option<String> {
    if n == 0 && min > 0 {
        Some(format!("is empty: give {min}-{max} characters{extra}"))
    } else if n < min {
        Some(format!(
            "is {n} character(s) long, too short: give {min}-{max} characters{extra}"
        ))
    } else if n > max {
        Some(format!(
            "is {n} characters long, too long: shorten it to {min}-{max} characters{extra}"
        ))
    } else {
        None
    }
}

fn check_len(what: &'static str, name: &str, min: usize, max: usize) -> Result<(), NameError> {
    match length_rule(name.chars().count(), min, max, "") {
        Some(rule) => fail(what, name, rule),
        None => Ok(()),
    }
}

const COMPUTE_FORBIDDEN: &str = "~!@#$%^&*()=+_[]{}\\|;:.'\",<>/?";

fn compute_name(what: &'static str, name: &str, os: OsType) -> Result<(), NameError> {
    let max = match os {
        OsType::Windows => 15,
        OsType::Linux => 64,
    };
    if let Some(rule) = length_rule(name.chars().count(), 1, max, &format!(" for {os:?}")) {
        return fail(what, name, rule);
    }
    if let Some(c) = name.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return fail(
            what,
            name,
            format!(
                "contains {c:?}, which is not allowed (no spaces or control characters): remove it or use '-'"
            ),
        );
    }
    // '.' '_' are allowed inside a Linux name by Compute, but the documented rule forbids a
    // leading '_' and a trailing '.' or '-'; everything else in the list is forbidden.
    if let Some(c) = name
        .chars()
        .find(|c| COMPUTE_FORBIDDEN.contains(*c) && *c != '.' && *c != '_')
    {
        return fail(
            what,
            name,
            format!(
                "contains {c:?}, which is not allowed (none of ~ ! @ # $ % ^ & * ( ) = + [ ] {{ }} \\ | ; : ' \" , < > / ?): remove it or use '-'"
            ),
        );
    }
    if os == OsType::Windows {
        if let Some(c) = name.chars().find(|c| *c == '.' || *c == '_') {
            return fail(
                what,
                name,
                format!("contains {c:?}, which is not allowed in a Windows name: use '-' instead"),
            );
        }
        if name.chars().all(|c| c.is_ascii_digit()) {
            return fail(
                what,
                name,
                "is all digits, which a Windows name cannot be: add a letter",
            );
        }
    }
    if name.starts_with('_') {
        return fail(
            what,
            name,
            "starts with '_', which is not allowed (a name cannot start with an underscore): start with a letter or digit",
        );
    }
    if let Some(c) = name.chars().last().filter(|c| *c == '.' || *c == '-') {
        return fail(
            what,
            name,
            format!(
                "ends with {c:?}, which is not allowed (a name cannot end with a period or a hyphen): remove it"
            ),
        );
    }
    Ok(())
}

/// A scale set name: 1–15 characters (Windows) or 1–64 (Linux); no spaces, control characters or
/// `~ ! @ # $ % ^ & * ( ) = + _ [ ] { } \ | ; : . ' " , < > /  ?` (Linux tolerates `.` and `_`
/// inside); cannot start with `_` nor end with `.` or `-`.
///
/// ```
/// use identity_core::naming::{validate_scale_set_name, OsType};
/// assert!(validate_scale_set_name("web-vmss-01", OsType::Linux).is_ok());
/// let e = validate_scale_set_name("web-", OsType::Linux).unwrap_err();
/// assert!(e.rule.contains("cannot end with a period or a hyphen"));
/// assert_eq!(e.to_string(), "scale set name \"web-\" ends with '-', which is not allowed (a name cannot end with a period or a hyphen): remove it");
/// assert!(validate_scale_set_name("a-very-long-windows-name", OsType::Windows).is_err());
/// ```
pub fn validate_scale_set_name(name: &str, os: OsType) -> Result<(), NameError> {
    compute_name("scale set name", name, os)
}

/// A virtual machine name: the same rules as a scale set.
pub fn validate_vm_name(name: &str, os: OsType) -> Result<(), NameError> {
    compute_name("virtual machine name", name, os)
}

/// A user-assigned identity name: 3–128 characters, letters, digits, `-` and `_`,
/// starting with a letter or digit.
///
/// ```
/// use identity_core::naming::validate_user_assigned_identity_name;
/// assert!(validate_user_assigned_identity_name("app-id_1").is_ok());
/// assert!(validate_user_assigned_identity_name("-x1").unwrap_err().rule.contains("start with a letter or digit"));
/// ```
pub fn validate_user_assigned_identity_name(name: &str) -> Result<(), NameError> {
    const W: &str = "user-assigned identity name";
    check_len(W, name, 3, 128)?;
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return fail(
            W,
            name,
            format!(
                "contains {c:?}, which is not allowed (only letters, digits, '-' and '_'): remove it or use '-'"
            ),
        );
    }
    if let Some(c) = name.chars().next().filter(|c| !c.is_ascii_alphanumeric()) {
        return fail(
            W,
            name,
            format!(
                "starts with {c:?}, which is not allowed (a name must start with a letter or digit): remove it"
            ),
        );
    }
    Ok(())
}

/// A resource group name: 1–90 characters; letters (Unicode), digits, `_`, `(`, `)`, `-`, `.`;
/// cannot end with `.`.
///
/// ```
/// use identity_core::naming::validate_resource_group_name;
/// assert!(validate_resource_group_name("rg-prod(eu).1").is_ok());
/// assert!(validate_resource_group_name("rg.").is_err());
/// ```
pub fn validate_resource_group_name(name: &str) -> Result<(), NameError> {
    const W: &str = "resource group name";
    check_len(W, name, 1, 90)?;
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_alphanumeric() || "_()-.".contains(*c)))
    {
        return fail(
            W,
            name,
            format!(
                "contains {c:?}, which is not allowed (only letters, digits, '_', '(', ')', '-' and '.'): remove it or use '-'"
            ),
        );
    }
    if name.ends_with('.') {
        return fail(
            W,
            name,
            "ends with '.', which is not allowed (a resource group name cannot end with a period): remove it",
        );
    }
    Ok(())
}

/// A GUID in its 8-4-4-4-12 hex form (subscription ids, principal ids, role-assignment names).
/// The message says which id to give for the known kinds (`"subscription id"`, `"principal id"`,
/// `"role assignment name"`, `"role definition"`).
///
/// ```
/// use identity_core::naming::validate_guid;
/// assert!(validate_guid("role assignment name", "b24988ac-6180-42a0-ab88-20f7382dd24c").is_ok());
/// let e = validate_guid("principal id", "p").unwrap_err();
/// assert!(e.to_string().starts_with("principal id \"p\" is not a GUID: give the identity's object (principal) id"));
/// ```
pub fn validate_guid(what: &'static str, s: &str) -> Result<(), NameError> {
    let groups: Vec<&str> = s.split('-').collect();
    let lens = [8, 4, 4, 4, 12];
    let ok = groups.len() == 5
        && groups
            .iter()
            .zip(lens)
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()));
    if ok {
        return Ok(());
    }
    let give = match what {
        "subscription id" => "give the subscription's id (az account show --query id)",
        "principal id" => "give the identity's object (principal) id",
        "role assignment name" => "give a new GUID (New-Guid in PowerShell, uuidgen in bash)",
        "role definition" => {
            "give the role definition's GUID (Reader is acdd72a7-3385-48ef-bd42-f606fba81ae7)"
        }
        _ => "give a GUID",
    };
    fail(
        what,
        s,
        format!(
            "is not a GUID: {give}, 32 hex digits as 8-4-4-4-12 like 00000000-0000-0000-0000-000000000000"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compute_names() {
        let ok = ["a", "vmss1", "Web-01", &"x".repeat(64)];
        for n in ok {
            assert!(validate_scale_set_name(n, OsType::Linux).is_ok(), "{n}");
        }
        assert!(validate_scale_set_name("a.b_c", OsType::Linux).is_ok());
        for (n, rule) in [
            ("", "is empty: give 1-64 characters for Linux"),
            (
                &"x".repeat(65) as &str,
                "too long: shorten it to 1-64 characters",
            ),
            ("a b", "spaces"),
            ("a$b", "'$'"),
            ("_ab", "underscore"),
            ("ab.", "period"),
            ("ab-", "hyphen"),
        ] {
            let e = validate_scale_set_name(n, OsType::Linux).unwrap_err();
            assert!(e.rule.contains(rule), "{n:?}: {}", e.rule);
            assert!(e.to_string().contains("scale set"));
        }
        assert!(validate_vm_name("x".repeat(16).as_str(), OsType::Windows).is_err());
        assert!(validate_vm_name("web_1", OsType::Windows).is_err());
        assert!(validate_vm_name("12345", OsType::Windows).is_err());
        assert!(validate_vm_name("web1", OsType::Windows).is_ok());
    }

    #[test]
    fn identity_and_group_names() {
        assert!(validate_user_assigned_identity_name("ab").is_err());
        assert!(validate_user_assigned_identity_name(&"a".repeat(128)).is_ok());
        assert!(validate_user_assigned_identity_name(&"a".repeat(129)).is_err());
        assert!(validate_user_assigned_identity_name("a.b.c").is_err());
        assert!(validate_resource_group_name("grüppe").is_ok());
        assert!(validate_resource_group_name("a/b").is_err());
        assert!(validate_resource_group_name(&"g".repeat(91)).is_err());
    }

    /// Every message is one sentence about the value — what it is, what is wrong (the rule) and,
    /// after a colon, what to do — not "invalid … name".
    #[test]
    fn messages_read_naturally_and_say_what_to_do() {
        let errs = [
            validate_scale_set_name("", OsType::Linux),
            validate_scale_set_name("web vmss", OsType::Linux),
            validate_scale_set_name("web$", OsType::Linux),
            validate_scale_set_name("web_1", OsType::Windows),
            validate_scale_set_name("123", OsType::Windows),
            validate_scale_set_name("_web", OsType::Linux),
            validate_scale_set_name("web.", OsType::Linux),
            validate_vm_name(&"v".repeat(16), OsType::Windows),
            validate_user_assigned_identity_name("ab"),
            validate_user_assigned_identity_name("a.b.c"),
            validate_user_assigned_identity_name("-abc"),
            validate_resource_group_name("a/b"),
            validate_resource_group_name("rg."),
            validate_guid("principal id", "p"),
            validate_guid("subscription id", "sub"),
            validate_guid("role assignment name", "x"),
        ];
        let verbs = [
            "give", "remove", "use", "start", "shorten", "add", "choose", "paste",
        ];
        for e in errs {
            let e = e.unwrap_err();
            let m = e.to_string();
            assert!(m.starts_with(e.what), "{m}");
            assert!(!m.contains("invalid"), "{m}");
            assert!(m.contains(&e.rule), "the rule is named: {m}");
            let todo = m.rsplit(": ").next().unwrap();
            assert!(
                verbs.iter().any(|v| todo.starts_with(v)),
                "says what to do after the colon: {m}"
            );
        }
        assert_eq!(
            validate_guid("principal id", "p").unwrap_err().to_string(),
            "principal id \"p\" is not a GUID: give the identity's object (principal) id, 32 hex digits as 8-4-4-4-12 like 00000000-0000-0000-0000-000000000000"
        );
        assert_eq!(
            validate_user_assigned_identity_name("ab")
                .unwrap_err()
                .to_string(),
            "user-assigned identity name \"ab\" is 2 character(s) long, too short: give 3-128 characters"
        );
    }
}
