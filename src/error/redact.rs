//! The one rule that keeps `kh_` secrets out of logs and error messages: whatever a
//! client sends (a path, a query, a name, a JSON key) may be one.

/// Replaces each `kh_` (or `kh%5F`, any case) followed by letters and digits with
/// `kh_[redacted]`. One pass over the text.
pub fn redact(text: &str) -> String {
    // ASCII lowercasing keeps every byte where it was, so positions agree.
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    let mut at = 0;
    while let Some(found) = lower[at..].find("kh") {
        let start = at + found;
        let prefix = ["kh_", "kh%5f"]
            .into_iter()
            .find(|p| lower[start..].starts_with(p))
            .map_or(0, str::len);
        let after = start + prefix;
        let run = lower[after..]
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(lower.len() - after);
        if prefix > 0 && run > 0 {
            out.push_str(&text[done..start]);
            out.push_str("kh_[redacted]");
            done = after + run;
            at = done;
        } else {
            at = start + 2;
        }
    }
    out.push_str(&text[done..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "kh_3fQ9zLr8TqYb2WcN5vXe7HsKd1MpA0uJgRtZyBo4iC6lEnD8aFw";

    #[test]
    fn every_secret_run_is_redacted() {
        let path = format!("/api/v1/service-accounts/{SECRET}/credentials?token={SECRET}&x=1");
        assert_eq!(
            redact(&path),
            "/api/v1/service-accounts/kh_[redacted]/credentials?token=kh_[redacted]&x=1"
        );
        let encoded = format!("/x?t=KH%5F{}", &SECRET[3..]);
        assert_eq!(redact(&encoded), "/x?t=kh_[redacted]");
        assert_eq!(redact("/kh_/x?a=kh_"), "/kh_/x?a=kh_");
        assert_eq!(redact("/api/v1/me"), "/api/v1/me");
        assert_eq!(redact("/é/kh_ab-c"), "/é/kh_[redacted]-c");
    }
}
