//! The credential limits in force in a scope: the server's settings (`credentials.*`),
//! narrowed in a project by its `credential_policy`. The store decides them in the
//! transaction that writes the credential, from the policy as that transaction reads
//! it, so a policy tightened while a request is on its way is never missed.

use super::expiry::{future, lifetime_end};
use super::{CredentialKind, CredentialPolicy, Name, NewCredential, Timestamp};
use crate::error::Error;

/// Limits on an account's credentials: the server's settings, or those in force in a
/// project. 0 days means "never expires" for the default and "no maximum" for the
/// maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialLimits {
    /// Unexpired credentials allowed per account.
    pub max_active: u32,
    /// Lifetime of a credential created without `expires_at`; 0: it never expires.
    pub default_lifetime_days: u32,
    /// The furthest `expires_at` a credential may have; 0: no maximum.
    pub max_lifetime_days: u32,
}

impl CredentialLimits {
    /// The limits in force under a project's `policy`: never looser than the server's.
    /// A policy is checked, when it is written, to be no looser than the server's
    /// settings ([`CredentialPolicy::check`]), but the server's may be lowered after, so
    /// each maximum is the tighter of the two (0 days: no maximum) and the default
    /// lifetime, the policy's if it sets one, is cut to the maximum in force. A limit
    /// the policy leaves out is the server's. The root's policy sets nothing.
    pub fn narrowed_by(self, policy: &CredentialPolicy) -> CredentialLimits {
        let max_lifetime_days = policy
            .max_lifetime_days
            .map_or(self.max_lifetime_days, |days| {
                tighter_lifetime(days, self.max_lifetime_days)
            });
        let default_lifetime_days = policy
            .default_lifetime_days
            .unwrap_or(self.default_lifetime_days);
        CredentialLimits {
            max_active: policy
                .max_active
                .map_or(self.max_active, |most| most.min(self.max_active)),
            default_lifetime_days: if max_lifetime_days == 0 {
                default_lifetime_days
            } else {
                tighter_lifetime(default_lifetime_days, max_lifetime_days)
            },
            max_lifetime_days,
        }
    }

    /// A credential's expiry: the requested one, or now plus the default lifetime (none
    /// when that is 0); never past the maximum lifetime (none when that is 0), else 400
    /// naming the request's field. `None` never expires.
    pub fn expiry(
        &self,
        requested: &RequestedExpiry,
        now: Timestamp,
    ) -> Result<Option<Timestamp>, Error> {
        let at = requested
            .at
            .or_else(|| lifetime_end(now, self.default_lifetime_days));
        if let Some(latest) = lifetime_end(now, self.max_lifetime_days)
            && at.is_none_or(|at| at > latest)
        {
            return Err(Error::invalid(
                &requested.field,
                format!("may be at most {} days ahead", self.max_lifetime_days),
            ));
        }
        Ok(at)
    }

    /// Refuses one more credential for the account `account`, which holds `active`
    /// unexpired ones, once that is `max_active` (409 `LIMIT_EXCEEDED`).
    pub fn require_room(&self, account: &Name, active: u32) -> Result<(), Error> {
        if active < self.max_active {
            return Ok(());
        }
        Err(Error::LimitExceeded(format!(
            "service account '{account}' already has {active} active credentials, \
             the most allowed (credentials.max_active)"
        )))
    }
}

/// The shorter of two lifetimes in days, where 0 is none (no end).
fn tighter_lifetime(a: u32, b: u32) -> u32 {
    match (a, b) {
        (0, days) | (days, 0) => days,
        (a, b) => a.min(b),
    }
}

/// The expiry a request asked for, in the future to the second (`None`: the default
/// lifetime), with the name the request gave it for an error. Whether it is within the
/// maximum lifetime is decided with the limits in force ([`CredentialLimits::expiry`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedExpiry {
    field: String,
    at: Option<Timestamp>,
}

impl RequestedExpiry {
    /// `at` as requested in `field`: 400 naming it unless it is in the future.
    pub fn new(
        field: impl Into<String>,
        at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<RequestedExpiry, Error> {
        let field = field.into();
        let at = at.map(|at| future(&field, at, now)).transpose()?;
        Ok(RequestedExpiry { field, at })
    }
}

/// A credential asked for, before the limits in force decide its expiry: its name
/// (checked), what it is, the expiry requested, and the server's limits, which the
/// policy of the scope it is written in narrows. Only [`CredentialRequest::resolve`]
/// makes it a credential to store, so none is stored without its limits applied.
#[derive(Debug, Clone)]
pub struct CredentialRequest {
    pub name: String,
    pub kind: CredentialKind,
    pub expiry: RequestedExpiry,
    /// The server's settings (`credentials.*`).
    pub server: CredentialLimits,
}

impl CredentialRequest {
    /// The credential to store under the scope's `policy` (as the writing transaction
    /// reads it), its expiry decided, and the limits in force there.
    pub fn resolve(
        self,
        policy: &CredentialPolicy,
        now: Timestamp,
    ) -> Result<(NewCredential, CredentialLimits), Error> {
        let limits = self.server.narrowed_by(policy);
        let expires_at = limits.expiry(&self.expiry, now)?;
        let new = NewCredential {
            name: self.name,
            expires_at,
            kind: self.kind,
        };
        Ok((new, limits))
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    const SERVER: CredentialLimits = CredentialLimits {
        max_active: 5,
        default_lifetime_days: 365,
        max_lifetime_days: 730,
    };

    fn t0() -> Timestamp {
        chrono::DateTime::UNIX_EPOCH + Duration::days(20_000)
    }

    fn limits(max_active: u32, default: u32, max: u32) -> CredentialLimits {
        CredentialLimits {
            max_active,
            default_lifetime_days: default,
            max_lifetime_days: max,
        }
    }

    fn requested(at: Option<Timestamp>) -> RequestedExpiry {
        RequestedExpiry::new("expires_at", at, t0()).unwrap()
    }

    /// A policy written under a server's settings stays no looser than them when the
    /// server's are lowered after.
    #[test]
    fn a_policy_never_loosens_a_server_lowered_after_it() {
        let lowered = limits(3, 30, 60);
        let written_before = CredentialPolicy {
            max_active: Some(4),
            default_lifetime_days: Some(90),
            max_lifetime_days: Some(400),
        };
        assert_eq!(lowered.narrowed_by(&written_before), limits(3, 60, 60));
        let default_only = CredentialPolicy {
            max_active: None,
            default_lifetime_days: Some(90),
            max_lifetime_days: None,
        };
        assert_eq!(
            lowered.narrowed_by(&default_only),
            limits(3, 60, 60),
            "a default written under a server without a maximum, cut to the one set since"
        );
        assert_eq!(tighter_lifetime(0, 0), 0);
        assert_eq!(tighter_lifetime(0, 9), 9);
        assert_eq!(tighter_lifetime(12, 9), 9);
    }

    #[test]
    fn a_policy_replaces_the_limits_it_sets_and_leaves_the_others_to_the_server() {
        assert_eq!(SERVER.narrowed_by(&CredentialPolicy::default()), SERVER);
        let policy = CredentialPolicy {
            max_active: Some(2),
            default_lifetime_days: None,
            max_lifetime_days: Some(400),
        };
        assert_eq!(SERVER.narrowed_by(&policy), limits(2, 365, 400));
        let policy = CredentialPolicy {
            max_active: None,
            default_lifetime_days: Some(30),
            max_lifetime_days: None,
        };
        assert_eq!(SERVER.narrowed_by(&policy), limits(5, 30, 730));
        let never = limits(5, 0, 0).narrowed_by(&CredentialPolicy {
            max_active: None,
            default_lifetime_days: Some(90),
            max_lifetime_days: Some(180),
        });
        assert_eq!(
            never,
            limits(5, 90, 180),
            "a policy may bound a server without"
        );
    }

    #[test]
    fn an_expiry_defaults_to_the_default_lifetime_and_stays_within_the_maximum() {
        let now = t0();
        let default = SERVER.expiry(&requested(None), now).unwrap();
        assert_eq!(default, Some(now + Duration::days(365)));
        let max = now + Duration::days(730);
        assert_eq!(
            SERVER.expiry(&requested(Some(max)), now).unwrap(),
            Some(max)
        );
        let past_max = requested(Some(max + Duration::seconds(1)));
        let err = SERVER.expiry(&past_max, now).unwrap_err();
        assert!(err.to_string().contains("expires_at"), "{err}");
        assert!(err.to_string().contains("at most 730 days"), "{err}");
    }

    #[test]
    fn a_lifetime_of_zero_is_never_and_no_maximum() {
        let now = t0();
        assert_eq!(limits(5, 0, 0).expiry(&requested(None), now).unwrap(), None);
        let far = now + Duration::days(100_000);
        let at = limits(5, 0, 0).expiry(&requested(Some(far)), now).unwrap();
        assert_eq!(at, Some(far));
        let at = limits(5, 30, 0).expiry(&requested(None), now).unwrap();
        assert_eq!(at, Some(now + Duration::days(30)));
        let err = limits(5, 0, 730).expiry(&requested(None), now).unwrap_err();
        assert!(
            err.to_string().contains("730"),
            "never is past a maximum: {err}"
        );
    }

    #[test]
    fn a_requested_expiry_is_in_the_future_to_the_second() {
        let now = t0();
        for bad in [
            now,
            now - Duration::days(1),
            now + Duration::milliseconds(500),
        ] {
            let err = RequestedExpiry::new("token_expires_at", Some(bad), now).unwrap_err();
            assert!(err.to_string().contains("token_expires_at"), "{err}");
        }
        let later = now + Duration::milliseconds(1500);
        let at = SERVER.expiry(&requested(Some(later)), now).unwrap();
        assert_eq!(at, Some(now + Duration::seconds(1)));
    }

    #[test]
    fn room_is_refused_at_the_most_active_credentials() {
        let account = Name::parse("name", "ci").unwrap();
        assert!(limits(2, 1, 1).require_room(&account, 1).is_ok());
        for active in [2, 3] {
            let err = limits(2, 1, 1).require_room(&account, active).unwrap_err();
            assert!(matches!(err, Error::LimitExceeded(_)), "{err}");
        }
    }

    #[test]
    fn a_request_resolves_under_the_policy_it_is_given() {
        let request = CredentialRequest {
            name: "deploy".to_owned(),
            kind: CredentialKind::Secret {
                prefix: "kh_abcde".to_owned(),
                hash: [1; 32],
            },
            expiry: requested(Some(t0() + Duration::days(100))),
            server: SERVER,
        };
        let (new, in_force) = request
            .clone()
            .resolve(&CredentialPolicy::default(), t0())
            .unwrap();
        assert_eq!(new.expires_at, Some(t0() + Duration::days(100)));
        assert_eq!((new.name.as_str(), in_force), ("deploy", SERVER));
        let tight = CredentialPolicy {
            max_active: Some(1),
            default_lifetime_days: Some(30),
            max_lifetime_days: Some(90),
        };
        let err = request.resolve(&tight, t0()).unwrap_err();
        assert!(err.to_string().contains("at most 90 days"), "{err}");
    }
}
