//! Why an authentication failed: the 401 message, and the label `/metrics` counts it by.

/// A refused credential, token or account. Neither form ever holds the credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    Missing,
    Malformed,
    Unknown,
    CredentialExpired,
    AccountDisabled,
    AccountExpired,
    AccountGone,
    TokenInvalid,
    TokenExpired,
    TokenRevoked,
    /// Issued before the account was disabled: such tokens never come back.
    TokenPredatesDisable,
}

impl AuthFailure {
    /// The `outcome` label of `keyhouse_auth_attempts_total`.
    pub fn label(self) -> &'static str {
        match self {
            AuthFailure::Missing => "missing",
            AuthFailure::Malformed => "malformed",
            AuthFailure::Unknown => "unknown",
            AuthFailure::CredentialExpired => "credential_expired",
            AuthFailure::AccountDisabled => "account_disabled",
            AuthFailure::AccountExpired => "account_expired",
            AuthFailure::AccountGone => "account_gone",
            AuthFailure::TokenInvalid => "token_invalid",
            AuthFailure::TokenExpired => "token_expired",
            AuthFailure::TokenRevoked => "token_revoked",
            AuthFailure::TokenPredatesDisable => "token_predates_disable",
        }
    }
}

impl std::fmt::Display for AuthFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AuthFailure::Missing => "no bearer token",
            AuthFailure::Malformed => "the credential is malformed",
            AuthFailure::Unknown => "the credential is not known",
            AuthFailure::CredentialExpired => "the credential has expired",
            AuthFailure::AccountDisabled => "the account is disabled",
            AuthFailure::AccountExpired => "the account has expired",
            AuthFailure::AccountGone => "the token's account no longer exists",
            AuthFailure::TokenInvalid => "the access token is not valid",
            AuthFailure::TokenExpired => "the access token has expired",
            AuthFailure::TokenRevoked => "the access token has been revoked",
            AuthFailure::TokenPredatesDisable => {
                "the token was issued before the account was disabled"
            }
        })
    }
}
