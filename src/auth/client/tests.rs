//! The rules of OAuth client authentication: which method a request offers, how each
//! is read, and what is refused.

use actix_web::test::TestRequest;
use chrono::Duration;

use super::*;
use crate::error::AuthFailure;
use crate::store::Blocking;

fn is_oauth(result: &Result<impl std::fmt::Debug, Error>, expected: OAuthError) -> bool {
    match result {
        Err(Error::OAuth { error, .. }) => {
            std::mem::discriminant(error) == std::mem::discriminant(&expected)
        }
        _ => false,
    }
}

fn assert_invalid_client<T: std::fmt::Debug>(result: Result<T, Error>) {
    assert!(is_oauth(&result, OAuthError::InvalidClient), "{result:?}");
}

fn assert_invalid_request<T: std::fmt::Debug>(result: Result<T, Error>) {
    assert!(is_oauth(&result, OAuthError::InvalidRequest), "{result:?}");
}

fn with_authorization(value: &str) -> HttpRequest {
    TestRequest::default()
        .insert_header(("Authorization", value))
        .to_http_request()
}

fn basic_of(id: &str, secret: &str) -> HttpRequest {
    with_authorization(&format!(
        "Basic {}",
        STANDARD.encode(format!("{id}:{secret}"))
    ))
}

fn form(client_id: Option<&str>, secret: Option<&str>) -> ClientAuthForm {
    ClientAuthForm {
        client_id: client_id.map(str::to_owned),
        client_secret: secret.map(str::to_owned),
        ..ClientAuthForm::default()
    }
}

#[test]
fn form_text_decodes_plus_as_space_and_percent_escapes() {
    assert!(decodes_to_itself(b"ci-bot@payments"));
    assert!(!decodes_to_itself(b"a+b") && !decodes_to_itself(b"a%20b"));
    assert_eq!(form_decode("a+b%2Bc%40d").as_deref(), Some("a b+c@d"));
    assert_eq!(form_decode("%FF"), None, "not UTF-8");
}

#[test]
fn basic_credentials_are_read_form_decoded_and_malformed_ones_refused() {
    let none = TestRequest::default().to_http_request();
    assert_eq!(basic(&none).unwrap(), None);
    assert_eq!(basic(&with_authorization("Bearer kh_x")).unwrap(), None);
    let read = basic(&basic_of("ci%40payments", "kh+x")).unwrap();
    assert_eq!(read, Some(("ci@payments".to_owned(), "kh x".to_owned())));
    let lower = with_authorization(&format!("basic {}", STANDARD.encode("a:b")));
    assert_eq!(
        basic(&lower).unwrap(),
        Some(("a".to_owned(), "b".to_owned()))
    );
    for bad in [
        "Basic !!!".to_owned(),
        format!("Basic {}", STANDARD.encode("no-colon")),
        format!("Basic {}", STANDARD.encode([0xff, b':', b'x'])),
        format!("Basic {}", STANDARD.encode("%FF:x")),
    ] {
        assert_invalid_client(basic(&with_authorization(&bad)));
    }
}

#[test]
fn exactly_one_method_is_offered_and_each_is_complete() {
    let none = TestRequest::default().to_http_request();
    assert!(
        offered(&none, &ClientAuthForm::default())
            .unwrap()
            .is_none()
    );
    let post = offered(&none, &form(Some("ci"), Some("kh_x"))).unwrap();
    assert!(matches!(post, Some(Offered::Secret { client_id, .. }) if client_id == "ci"));
    assert_invalid_request(offered(&none, &form(None, Some("kh_x"))).map(|o| o.is_some()));
    let both = offered(&basic_of("ci", "kh_x"), &form(Some("ci"), Some("kh_x")));
    assert_invalid_request(both.map(|o| o.is_some()));

    let assertion = |kind: Option<&str>, assertion: Option<&str>| ClientAuthForm {
        client_assertion_type: kind.map(str::to_owned),
        client_assertion: assertion.map(str::to_owned),
        ..ClientAuthForm::default()
    };
    let jwt = offered(&none, &assertion(Some(ASSERTION_TYPE), Some("a.b.c"))).unwrap();
    assert!(matches!(
        jwt,
        Some(Offered::Assertion {
            client_id: None,
            ..
        })
    ));
    for bad in [
        assertion(Some("urn:other"), Some("a.b.c")),
        assertion(None, Some("a.b.c")),
        assertion(Some(ASSERTION_TYPE), None),
    ] {
        assert_invalid_request(offered(&none, &bad).map(|o| o.is_some()));
    }
    let also_basic = offered(
        &basic_of("ci", "kh_x"),
        &assertion(Some(ASSERTION_TYPE), Some("a.b.c")),
    );
    assert_invalid_request(also_basic.map(|o| o.is_some()));
}

/// A refusal to authenticate is `invalid_client`; a fault stays a fault.
#[test]
fn only_a_refusal_becomes_invalid_client() {
    let refused = refused_as("no");
    assert_invalid_client::<()>(Err(refused(Error::Unauthenticated(AuthFailure::Unknown))));
    assert!(matches!(
        refused(Error::internal("disk")),
        Error::Internal(_)
    ));
}

/// A secret authenticates the client id of its own account, and nothing else.
#[test]
fn a_secret_authenticates_only_its_own_client_id() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("k.redb")).unwrap();
    let now = crate::clock::now();
    let secret = Secret::generate().unwrap();
    let admin = secret.to_credential("admin".to_owned(), None);
    store.initialize(now, admin).wait().unwrap();
    let settings = OAuthSettings {
        issuer: "https://keyhouse.test".to_owned(),
        audience: "api".to_owned(),
        ttl: Duration::hours(1),
        token_typ: crate::auth::jwt::ACCESS_TOKEN_TYPE,
    };
    let assertions = ClientAssertions::new(5).unwrap();
    let none = TestRequest::default().to_http_request();
    let authenticate = |req: &HttpRequest, form: &ClientAuthForm| {
        authenticate_client(req, form, &store, &settings, &assertions, now).block()
    };

    let (principal, _) = authenticate(&basic_of("admin", secret.expose()), &form(None, None))
        .unwrap()
        .unwrap();
    assert_eq!(principal.account.name.as_str(), "admin");
    let posted = authenticate(&none, &form(Some("admin"), Some(secret.expose())));
    assert!(posted.unwrap().is_some());
    assert!(authenticate(&none, &form(None, None)).unwrap().is_none());

    let other = Secret::generate().unwrap();
    for (id, text) in [
        ("admin@payments", secret.expose()),
        ("other", secret.expose()),
        ("admin", other.expose()),
        ("admin", "kh_not-a-secret"),
    ] {
        assert_invalid_client(authenticate(&basic_of(id, text), &form(None, None)));
    }
}
