//! What a valid email address and password are.

pub const PASSWORD_MIN_CHARS: usize = 12;
pub const PASSWORD_MAX_CHARS: usize = 128;
pub const EMAIL_MAX_BYTES: usize = 254;

/// Trims and lower-cases an address, and checks that it is plausible: one `@`, a local
/// part, a domain of dot-separated labels, no spaces or control characters.
pub fn normalize_email(raw: &str) -> Result<String, &'static str> {
    let email = raw.trim().to_lowercase();
    if email.is_empty() {
        return Err("Enter your email address.");
    }
    if email.len() > EMAIL_MAX_BYTES {
        return Err("That email address is too long (at most 254 characters).");
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err("That does not look like an email address (it has no @).");
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || "._%+-'!#$&*/=?^`{|}~".contains(c));
    let domain_ok = domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    if local_ok && domain_ok {
        Ok(email)
    } else {
        Err("That does not look like an email address.")
    }
}

/// 12 to 128 characters, no control characters, no other rules.
pub fn check_password(password: &str) -> Result<(), &'static str> {
    let chars = password.chars().count();
    if chars < PASSWORD_MIN_CHARS {
        return Err("Choose a password of at least 12 characters.");
    }
    if chars > PASSWORD_MAX_CHARS {
        return Err("Choose a password of at most 128 characters.");
    }
    if password.chars().any(char::is_control) {
        return Err("A password can not contain control characters.");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        assert_eq!(
            normalize_email("  Ada@Example.COM "),
            Ok("ada@example.com".into())
        );
    }

    #[test]
    fn implausible_emails_are_refused() {
        let too_long = format!("{}@example.com", "a".repeat(250));
        for bad in [
            "",
            "   ",
            "ada",
            "@example.com",
            "ada@",
            "ada@localhost",
            "ada@@x.test",
            "a da@x.test",
            "ada@x..test",
            "ada\0@x.test",
            "<b>@x.test",
            "ada@-x.test",
            too_long.as_str(),
        ] {
            assert!(normalize_email(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn passwords_are_measured_in_characters() {
        assert!(check_password("ééééééééééé").is_err());
        assert!(check_password("éééééééééééé").is_ok());
        assert!(check_password(&"x".repeat(128)).is_ok());
        assert!(check_password(&"x".repeat(129)).is_err());
        assert!(check_password("twelve chars\u{7}").is_err());
    }
}
