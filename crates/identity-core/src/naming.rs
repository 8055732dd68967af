//! Azure naming rules for the names this tool creates or accepts, with errors that name the rule.
//!
//! Rules from Azure's "Naming rules and restrictions for Azure resources" page
//! (Microsoft.Compute, Microsoft.ManagedIdentity, Microsoft.Resources, Microsoft.Authorization).

use serde::{Deserialize, Serialize};
use std::fmt;

/// Which naming rule a name breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameError {
    /// What is being named ("scale set", "user-assigned identity", ...).
    pub what: &'static str,
    /// The offending name.
    pub name: String,
    /// The rule, as a sentence.
    pub rule: String,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid {} name {:?}: {}",
            self.what, self.name, self.rule
        )
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

fn check_len(what: &'static str, name: &str, min: usize, max: usize) -> Result<(), NameError> {
    let n = name.chars().count();
    if n < min || n > max {
        return fail(
            what,
            name,
            format!("length must be {min}-{max} characters (is {n})"),
        );
    }
    Ok(())
}

const COMPUTE_FORBIDDEN: &str = "~!@#$%^&*()=+_[]{}\\|;:.'\",<>/?";

fn compute_name(what: &'static str, name: &str, os: OsType) -> Result<(), NameError> {
    let max = match os {
        OsType::Windows => 15,
        OsType::Linux => 64,
    };
    check_len(what, name, 1, max).map_err(|mut e| {
        e.rule = format!("{} for {os:?}", e.rule);
        e
    })?;
    if let Some(c) = name.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return fail(
            what,
            name,
            format!("spaces and control characters are not allowed (found {c:?})"),
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
                "the character {c:?} is not allowed (none of ~ ! @ # $ % ^ & * ( ) = + [ ] {{ }} \\ | ; : ' \" , < > / ?)"
            ),
        );
    }
    if os == OsType::Windows {
        if let Some(c) = name.chars().find(|c| *c == '.' || *c == '_') {
            return fail(
                what,
                name,
                format!("the character {c:?} is not allowed in a Windows name"),
            );
        }
        if name.chars().all(|c| c.is_ascii_digit()) {
            return fail(what, name, "a Windows name cannot be entirely numeric");
        }
    }
    if name.starts_with('_') {
        return fail(what, name, "cannot start with an underscore");
    }
    if name.ends_with('.') || name.ends_with('-') {
        return fail(what, name, "cannot end with a period or a hyphen");
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
/// assert!(validate_scale_set_name("a-very-long-windows-name", OsType::Windows).is_err());
/// ```
pub fn validate_scale_set_name(name: &str, os: OsType) -> Result<(), NameError> {
    compute_name("scale set", name, os)
}

/// A virtual machine name: the same rules as a scale set.
pub fn validate_vm_name(name: &str, os: OsType) -> Result<(), NameError> {
    compute_name("virtual machine", name, os)
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
    const W: &str = "user-assigned identity";
    check_len(W, name, 3, 128)?;
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return fail(
            W,
            name,
            format!("only letters, digits, '-' and '_' are allowed (found {c:?})"),
        );
    }
    if !name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
    {
        return fail(W, name, "must start with a letter or digit");
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
    const W: &str = "resource group";
    check_len(W, name, 1, 90)?;
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_alphanumeric() || "_()-.".contains(*c)))
    {
        return fail(
            W,
            name,
            format!("only letters, digits, '_', '(', ')', '-' and '.' are allowed (found {c:?})"),
        );
    }
    if name.ends_with('.') {
        return fail(W, name, "cannot end with a period");
    }
    Ok(())
}

/// A GUID in its 8-4-4-4-12 hex form (subscription ids, principal ids, role-assignment names).
///
/// ```
/// use identity_core::naming::validate_guid;
/// assert!(validate_guid("role assignment", "b24988ac-6180-42a0-ab88-20f7382dd24c").is_ok());
/// assert!(validate_guid("role assignment", "not-a-guid").is_err());
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
        Ok(())
    } else {
        fail(
            what,
            s,
            "must be a GUID: 32 hex digits as 8-4-4-4-12 (e.g. 00000000-0000-0000-0000-000000000000)",
        )
    }
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
            ("", "length"),
            (&"x".repeat(65) as &str, "length"),
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
}
