//! The `Authorization` header as text.

use actix_web::HttpRequest;
use actix_web::http::header;

/// The request's `Authorization` header: `None` when it has none, `Some(None)` when its
/// value is not text (a byte that is neither visible ASCII nor a tab), as
/// `HeaderValue::to_str` decides. That checks a byte at a time, stopping at the first
/// bad one, some five instructions a byte, and an access token is 600 bytes or more;
/// this check has no early exit, so the compiler tests many bytes at once.
pub fn authorization(req: &HttpRequest) -> Option<Option<&str>> {
    let bytes = req.headers().get(header::AUTHORIZATION)?.as_bytes();
    let visible = bytes.iter().fold(true, |all, &b| {
        all & (b == b'\t' || (b' '..=b'~').contains(&b))
    });
    Some(visible.then(|| std::str::from_utf8(bytes).ok()).flatten())
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::HeaderValue;
    use actix_web::test::TestRequest;

    use super::*;

    fn with_value(value: HeaderValue) -> Option<String> {
        let req = TestRequest::default()
            .insert_header((header::AUTHORIZATION, value))
            .to_http_request();
        authorization(&req).flatten().map(str::to_owned)
    }

    #[test]
    fn reads_text_where_to_str_does() {
        for byte in 0..=u8::MAX {
            let mut bytes = b"Bearer abc".to_vec();
            bytes.insert(7, byte);
            bytes.extend(std::iter::repeat_n(b'x', 40));
            let Ok(value) = HeaderValue::from_bytes(&bytes) else {
                continue;
            };
            let expected = value.to_str().ok().map(str::to_owned);
            assert_eq!(with_value(value), expected, "byte {byte}");
        }
    }

    #[test]
    fn no_header_is_none() {
        assert_eq!(
            authorization(&TestRequest::default().to_http_request()),
            None
        );
    }
}
