//! Account rules: usernames, the password policy (等保 2.0 complexity) and role bindings.

use super::role::Role;
use super::validate::Errors;

pub const PASSWORD_MIN_CHARS: usize = 10;
pub const PASSWORD_MAX_CHARS: usize = 128;

/// Lower-cased; 3–64 characters of `a-z 0-9 . _ -`.
pub fn normalise_username(errors: &mut Errors, raw: &str) -> String {
    let u = raw.trim().to_lowercase();
    let ok = (3..=64).contains(&u.len())
        && u.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if !ok {
        errors.add(
            "/username",
            "must be 3–64 characters of letters, digits, '.', '_' or '-'",
        );
    }
    u
}

/// At least 10 characters, at most 128, three of four character classes, not containing the
/// username.
pub fn check_password(errors: &mut Errors, password: &str, username: &str) {
    let n = password.chars().count();
    let classes = [
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ]
    .iter()
    .filter(|&&b| b)
    .count();
    let message = if n < PASSWORD_MIN_CHARS {
        format!("must be at least {PASSWORD_MIN_CHARS} characters")
    } else if n > PASSWORD_MAX_CHARS {
        format!("must be at most {PASSWORD_MAX_CHARS} characters")
    } else if classes < 3 {
        "must mix at least three of: lower case, upper case, digits, symbols".to_string()
    } else if !username.is_empty() && password.to_lowercase().contains(&username.to_lowercase()) {
        "must not contain the username".to_string()
    } else {
        return;
    };
    errors.add("/password", message);
}

/// What a binding refers to, as looked up in the database.
pub struct BindingFacts<'a> {
    pub role: Role,
    /// The level of `jurisdiction_code`, if one was given and exists.
    pub jurisdiction_level: Option<crate::domain::jurisdiction::JurisdictionLevel>,
    pub jurisdiction_given: bool,
    /// The jurisdiction of `department_id`, if one was given and exists.
    pub department_jurisdiction: Option<&'a str>,
    pub department_given: bool,
    pub jurisdiction_code: Option<&'a str>,
    pub enterprise_given: bool,
}

/// An account is bound to exactly one jurisdiction of its role's level (regulators, auditors)
/// or to one enterprise; a department binding is for officers, in their own jurisdiction.
pub fn check_binding(errors: &mut Errors, f: &BindingFacts<'_>) {
    if f.role == Role::Enterprise {
        if !f.enterprise_given {
            errors.add("/enterprise_id", "required for the enterprise role");
        }
        if f.jurisdiction_given {
            errors.add(
                "/jurisdiction_code",
                "must be absent for the enterprise role",
            );
        }
        if f.department_given {
            errors.add("/department_id", "must be absent for the enterprise role");
        }
        return;
    }
    if f.enterprise_given {
        errors.add(
            "/enterprise_id",
            "only enterprise accounts are bound to an enterprise",
        );
    }
    match (f.jurisdiction_given, f.jurisdiction_level) {
        (false, _) => errors.add("/jurisdiction_code", "required for this role"),
        (true, None) => errors.add("/jurisdiction_code", "unknown jurisdiction"),
        (true, Some(level)) if !f.role.may_bind_to(level) => errors.add(
            "/jurisdiction_code",
            format!(
                "a {} is bound to a jurisdiction of level {}",
                f.role,
                f.role.jurisdiction_levels().join(" or ")
            ),
        ),
        _ => {}
    }
    if f.department_given {
        if !f.role.is_officer() {
            errors.add("/department_id", "only officers are bound to a department");
        } else if f.department_jurisdiction.is_none() {
            errors.add("/department_id", "unknown department");
        } else if f.department_jurisdiction != f.jurisdiction_code {
            errors.add(
                "/department_id",
                "the department belongs to another jurisdiction",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(p: &str) -> bool {
        let mut e = Errors::default();
        check_password(&mut e, p, "alice");
        e.is_empty()
    }

    #[test]
    fn password_policy() {
        assert!(pw("Correct-Horse-7"));
        assert!(!pw("Short-1a"));
        assert!(!pw("alllowercaseletters"));
        assert!(!pw("Alice-Password-1"));
        assert!(pw("长城安全-Guard-2026"));
    }

    #[test]
    fn usernames() {
        let mut e = Errors::default();
        assert_eq!(normalise_username(&mut e, " Zhang.San "), "zhang.san");
        assert!(e.is_empty());
        normalise_username(&mut e, "a b");
        assert!(!e.is_empty());
    }
}
