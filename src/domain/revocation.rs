//! What a revocation decided. RFC 7009 answers every well-formed revocation alike, so
//! the decision is the store's, made in its transaction, and the endpoint only maps it
//! to that answer.

/// The outcome of revoking a secret or an access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revocation {
    /// It stops working now (an access token already denied stays denied).
    Revoked,
    /// Nothing the caller may see: no such token, or one beyond its reach.
    Unknown,
    /// A token of an account holding permissions the caller lacks: not the caller's to
    /// revoke, so nothing changes, and it is answered as one the caller cannot see.
    NotYours,
}
