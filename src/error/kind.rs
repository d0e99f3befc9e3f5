//! The kinds of object keyhouse keeps, as error messages and audit targets name them.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    ServiceAccount,
    Group,
    Role,
    Credential,
    SigningKey,
    Project,
}

impl Kind {
    /// Every kind, once.
    pub const ALL: [Kind; 6] = [
        Kind::ServiceAccount,
        Kind::Group,
        Kind::Role,
        Kind::Credential,
        Kind::SigningKey,
        Kind::Project,
    ];

    /// The name used in audit targets, e.g. `service_account`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ServiceAccount => "service_account",
            Kind::Group => "group",
            Kind::Role => "role",
            Kind::Credential => "credential",
            Kind::SigningKey => "signing_key",
            Kind::Project => "project",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kind::ServiceAccount => "service account",
            Kind::Group => "group",
            Kind::Role => "role",
            Kind::Credential => "credential",
            Kind::SigningKey => "signing key",
            Kind::Project => "project",
        })
    }
}
