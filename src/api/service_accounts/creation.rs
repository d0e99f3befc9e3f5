//! The body of a service account's creation, with its first secret, and the answer.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};
use utoipa::ToSchema;

use crate::api::credentials::SecretRequest;
use crate::api::views::{NewSecretView, ServiceAccountView};
use crate::auth::secret::Secret;
use crate::domain::{
    self, AccountDetails, Credential, CredentialDetails, CredentialLimits, CredentialRequest, Name,
    NewAccount, RequestedExpiry,
};
use crate::error::Error;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "ci-bot", "display_name": "CI bot", "roles": ["viewer"],
    "days_valid": 90, "initial_secret": {"name": "deploy"}}))]
pub struct CreateServiceAccount {
    /// 1 to 63 characters of `a-z`, `0-9` and `-`, not starting or ending with `-`.
    #[schema(
        pattern = "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$",
        min_length = 1,
        max_length = 63,
        example = "ci-bot"
    )]
    pub name: String,
    /// 1 to 255 characters; defaults to `name`.
    #[schema(min_length = 1, max_length = 255)]
    pub display_name: Option<String>,
    /// At most 1024 characters.
    #[schema(max_length = 1024)]
    pub description: Option<String>,
    /// At most 64 keys of 1 to 63 characters; values of at most 1024.
    pub metadata: Option<BTreeMap<String, String>>,
    /// Role names to bind; the caller must hold each one.
    pub roles: Option<Vec<String>>,
    /// Groups to join; the caller must hold each group's roles.
    pub groups: Option<Vec<String>>,
    /// When the account stops working; in the future. Not with `days_valid`.
    pub expires_at: Option<DateTime<Utc>>,
    /// Days until the account stops working, 1 to 730. Not with `expires_at`.
    #[schema(minimum = 1, maximum = 730)]
    pub days_valid: Option<i64>,
    /// An identifier in another system, 1 to 255 characters.
    #[schema(min_length = 1, max_length = 255)]
    pub external_id: Option<String>,
    /// The first secret, returned once in the answer: absent, `true` or an object for
    /// one (the object sets its `name` and `expires_at`), `false` for none.
    #[serde(default)]
    pub initial_secret: InitialSecret,
    /// The first secret's expiry (the seed wire format's name for
    /// `initial_secret.expires_at`; both given must agree).
    pub token_expires_at: Option<DateTime<Utc>>,
}

/// `initial_secret` of a create: `false` for no secret; `true` or an object for one.
#[derive(Debug, ToSchema)]
#[serde(untagged)]
pub enum InitialSecret {
    Flag(bool),
    Request(SecretRequest),
}

impl Default for InitialSecret {
    /// Absent: a first secret with defaults, as the seed API's clients expect.
    fn default() -> Self {
        InitialSecret::Flag(true)
    }
}

/// Read by hand rather than `untagged`, so that a bad field inside the object is named
/// (`untagged` would only say that no variant matched).
impl<'de> Deserialize<'de> for InitialSecret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::Bool(flag) => Ok(InitialSecret::Flag(flag)),
            serde_json::Value::Null => Ok(InitialSecret::default()),
            object @ serde_json::Value::Object(_) => serde_json::from_value(object)
                .map(InitialSecret::Request)
                .map_err(|e| D::Error::custom(format!("initial_secret: {e}"))),
            _ => Err(D::Error::custom(
                "initial_secret must be an object, true or false",
            )),
        }
    }
}

impl InitialSecret {
    /// The secret asked for, if any, with `token_expires_at` as its expiry: an expiry
    /// given both ways must be the same, and needs a secret to apply to.
    fn with_expiry(
        self,
        token_expires_at: Option<DateTime<Utc>>,
    ) -> Result<Option<SecretRequest>, Error> {
        let mut request = match self {
            InitialSecret::Flag(false) if token_expires_at.is_some() => {
                return Err(Error::invalid(
                    "token_expires_at",
                    "needs a first secret; initial_secret is false",
                ));
            }
            InitialSecret::Flag(false) => return Ok(None),
            InitialSecret::Flag(true) => SecretRequest {
                name: None,
                expires_at: None,
            },
            InitialSecret::Request(request) => request,
        };
        match (request.expires_at, token_expires_at) {
            (Some(a), Some(b)) if a != b => Err(Error::invalid(
                "token_expires_at",
                "differs from initial_secret.expires_at; give one of them",
            )),
            (_, Some(at)) => {
                request.expires_at = Some(at);
                Ok(Some(request))
            }
            _ => Ok(Some(request)),
        }
    }
}

impl CreateServiceAccount {
    /// The account and its first secret, if any, held to `server` (`credentials.*`) as
    /// the scope's policy narrows it in the store.
    pub(super) fn parse(
        self,
        server: CredentialLimits,
        now: DateTime<Utc>,
    ) -> Result<(NewAccount, Option<(Secret, CredentialRequest)>), Error> {
        let account = NewAccount {
            name: Name::parse("name", &self.name)?,
            display_name: self.display_name.map(domain::display_name).transpose()?,
            description: domain::description(self.description.unwrap_or_default())?,
            metadata: domain::metadata(self.metadata.unwrap_or_default())?,
            roles: Name::parse_set("roles", &self.roles.unwrap_or_default())?,
            groups: Name::parse_set("groups", &self.groups.unwrap_or_default())?,
            expires_at: domain::account_expiry(self.expires_at, self.days_valid, now)?,
            external_id: self.external_id.map(domain::external_id).transpose()?,
        };
        // A bad `token_expires_at` is named as the client sent it.
        let token_expiry = self
            .token_expires_at
            .map(|at| RequestedExpiry::new("token_expires_at", Some(at), now))
            .transpose()?;
        let secret = self
            .initial_secret
            .with_expiry(self.token_expires_at)?
            .map(|s| s.into_secret("initial_secret.", server, now))
            .transpose()?
            .map(|(secret, mut request)| {
                if let Some(expiry) = token_expiry {
                    request.expiry = expiry;
                }
                (secret, request)
            });
        Ok((account, secret))
    }
}

/// The answer to a creation (and to `renew-token`): the account, and its new secret
/// unless the create said `"initial_secret": false`, shown this once.
#[derive(serde::Serialize, ToSchema)]
pub struct CreatedServiceAccountView<'a> {
    #[serde(flatten)]
    pub account: ServiceAccountView<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<NewSecretView>,
    /// The new secret's text, as `secret.secret` (the seed wire format's name for it).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "kh_4fT9qZ0b3M1xR7kP2nW8cV5yL6aD0eG3hJ9sQ1uBt0aZ9X")]
    pub token: Option<String>,
}

impl<'a> CreatedServiceAccountView<'a> {
    pub fn new(
        details: &'a AccountDetails,
        issued: Option<(Credential, &Secret)>,
        now: DateTime<Utc>,
    ) -> Self {
        let (secret, token) = issued
            .map(|(credential, secret)| {
                let details = CredentialDetails {
                    credential,
                    last_used_at: None,
                };
                let view = NewSecretView::new(&details, secret, now);
                (view, secret.expose().to_owned())
            })
            .unzip();
        CreatedServiceAccountView {
            account: ServiceAccountView::new(details, now),
            secret,
            token,
        }
    }
}
