//! `lrn`, a stable resource name: `lrn:keyhouse:<project>:<kind>/<name>`, the project
//! empty at the root (`lrn:keyhouse::service-account/ci-bot`).

/// The kinds of object an `lrn` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LrnKind {
    ServiceAccount,
    Group,
    Role,
    Project,
}

impl LrnKind {
    fn as_str(self) -> &'static str {
        match self {
            LrnKind::ServiceAccount => "service-account",
            LrnKind::Group => "group",
            LrnKind::Role => "role",
            LrnKind::Project => "project",
        }
    }
}

/// The `lrn` of the object `name` of `kind` in `project` (`None`: the root). A project
/// itself lives at the root.
pub fn lrn(project: Option<&str>, kind: LrnKind, name: &str) -> String {
    [
        "lrn:keyhouse:",
        project.unwrap_or_default(),
        ":",
        kind.as_str(),
        "/",
        name,
    ]
    .concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_project_kind_and_name() {
        assert_eq!(
            lrn(None, LrnKind::ServiceAccount, "ci-bot"),
            "lrn:keyhouse::service-account/ci-bot"
        );
        assert_eq!(
            lrn(Some("payments"), LrnKind::Group, "deployers"),
            "lrn:keyhouse:payments:group/deployers"
        );
        assert_eq!(
            lrn(None, LrnKind::Role, "admin"),
            "lrn:keyhouse::role/admin"
        );
        assert_eq!(
            lrn(None, LrnKind::Project, "payments"),
            "lrn:keyhouse::project/payments"
        );
    }
}
