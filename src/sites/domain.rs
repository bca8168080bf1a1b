//! Site domains: what a user may type, and the one form Pulse stores.

/// Longest host name DNS allows.
const MAX_DOMAIN_LEN: usize = 253;
/// Longest label DNS allows.
const MAX_LABEL_LEN: usize = 63;

/// Why a typed domain was refused; the message is shown on the form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("Enter the site's domain, such as example.com.")]
    Empty,
    #[error("Enter only the domain, such as example.com, without a path, port or query.")]
    NotJustAHost,
    #[error(
        "Write an international domain in its xn-- form (punycode), such as xn--bcher-kva.example."
    )]
    NotAscii,
    #[error("A domain has at least two parts separated by dots, such as example.com.")]
    SingleLabel,
    #[error(
        "A domain uses letters, digits and hyphens between dots, and is at most 253 characters."
    )]
    BadCharacters,
    #[error("Enter a domain name rather than an IP address.")]
    IpAddress,
}

/// Turns what a user typed into the stored form: lower-case, no scheme, no trailing
/// slash or dot. `https://Example.com/` becomes `example.com`.
pub fn normalise(typed: &str) -> Result<String, DomainError> {
    let text = typed.trim();
    let text = strip_scheme(text);
    let text = text.strip_suffix('/').unwrap_or(text);
    if text.is_empty() {
        return Err(DomainError::Empty);
    }
    if text.contains(['/', ':', '?', '#', '@', '\\']) || text.contains(char::is_whitespace) {
        return Err(DomainError::NotJustAHost);
    }
    if !text.is_ascii() {
        return Err(DomainError::NotAscii);
    }
    let host = text.to_ascii_lowercase();
    let host = host.strip_suffix('.').unwrap_or(&host).to_owned();
    check_labels(&host)?;
    Ok(host)
}

fn strip_scheme(text: &str) -> &str {
    for scheme in ["https://", "http://"] {
        if text.len() >= scheme.len() && text[..scheme.len()].eq_ignore_ascii_case(scheme) {
            return &text[scheme.len()..];
        }
    }
    text
}

fn check_labels(host: &str) -> Result<(), DomainError> {
    if host.len() > MAX_DOMAIN_LEN {
        return Err(DomainError::BadCharacters);
    }
    let labels: Vec<&str> = host.split('.').collect();
    if labels.len() < 2 {
        return Err(DomainError::SingleLabel);
    }
    if !labels.iter().all(|label| is_label(label)) {
        return Err(DomainError::BadCharacters);
    }
    // A numeric last label is an IPv4 address, never a top-level domain.
    let last = labels.last().copied().unwrap_or_default();
    if last.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DomainError::IpAddress);
    }
    Ok(())
}

fn is_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= MAX_LABEL_LEN
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Whether `host` is `domain` itself or one of its subdomains.
pub fn belongs_to(host: &str, domain: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    host.eq_ignore_ascii_case(domain)
        || (host.len() > domain.len()
            && host.is_char_boundary(host.len() - domain.len() - 1)
            && host[host.len() - domain.len()..].eq_ignore_ascii_case(domain)
            && host.as_bytes()[host.len() - domain.len() - 1] == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pasted_address_becomes_the_bare_lower_case_domain() {
        assert_eq!(normalise("https://Example.com/").unwrap(), "example.com");
        assert_eq!(
            normalise("  http://WWW.Shop.example.org  ").unwrap(),
            "www.shop.example.org"
        );
        assert_eq!(normalise("example.com.").unwrap(), "example.com");
        assert_eq!(
            normalise("xn--bcher-kva.example").unwrap(),
            "xn--bcher-kva.example"
        );
    }

    #[test]
    fn garbage_is_refused_with_a_reason() {
        let cases = [
            ("", DomainError::Empty),
            ("https://", DomainError::Empty),
            ("example.com/blog", DomainError::NotJustAHost),
            ("example.com:8080", DomainError::NotJustAHost),
            ("ftp://example.com", DomainError::NotJustAHost),
            ("exa mple.com", DomainError::NotJustAHost),
            ("bücher.example", DomainError::NotAscii),
            ("localhost", DomainError::SingleLabel),
            ("exa_mple.com", DomainError::BadCharacters),
            ("-example.com", DomainError::BadCharacters),
            ("example..com", DomainError::BadCharacters),
            ("10.0.0.1", DomainError::IpAddress),
            ("<script>.com", DomainError::BadCharacters),
        ];
        for (typed, expected) in cases {
            assert_eq!(normalise(typed), Err(expected), "{typed:?}");
        }
        assert!(normalise(&format!("{}.com", "a".repeat(64))).is_err());
    }

    #[test]
    fn subdomains_belong_to_their_site_and_look_alikes_do_not() {
        assert!(belongs_to("example.com", "example.com"));
        assert!(belongs_to("blog.Example.com", "example.com"));
        assert!(belongs_to("example.com.", "example.com"));
        assert!(!belongs_to("badexample.com", "example.com"));
        assert!(!belongs_to("example.com.evil.test", "example.com"));
        assert!(!belongs_to("com", "example.com"));
    }
}
