//! OAuth scopes: what a token may carry when issued, and what it allows when used.

use super::permission::permissions::ALL;
use super::{Permission, PermissionSet};

/// The scope of a new token: the requested permissions (space-separated), each of which
/// the account must hold; or, with none requested, all it holds (`*` if it holds `*`).
/// Sorted and without repeats. An error lists what the account lacks.
pub fn grant_scope(
    held: &PermissionSet,
    requested: Option<&str>,
) -> Result<Vec<String>, Vec<String>> {
    let requested: Vec<&str> = requested
        .map(|r| r.split_whitespace().collect())
        .unwrap_or_default();
    if requested.is_empty() {
        return Ok(if held.holds_all() {
            vec![ALL.to_owned()]
        } else {
            held.to_sorted_vec()
        });
    }
    let missing: Vec<String> = requested
        .iter()
        .filter(|p| !held.allows(p) || Permission::parse("scope", p).is_err())
        .map(|p| (*p).to_owned())
        .collect();
    if !missing.is_empty() {
        return Err(missing);
    }
    let mut scope: Vec<String> = requested.into_iter().map(str::to_owned).collect();
    scope.sort();
    scope.dedup();
    Ok(scope)
}

/// What a token allows now: its scope, limited to what the account holds at the time
/// of the request.
pub fn narrow(current: &PermissionSet, scope: &[String]) -> PermissionSet {
    if scope.iter().any(|p| p == ALL) {
        return current.clone();
    }
    PermissionSet::new(scope.iter().filter(|p| current.allows(p)).cloned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> PermissionSet {
        PermissionSet::new(items.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn no_request_grants_everything_held() {
        assert_eq!(grant_scope(&set(&["b", "a"]), None).unwrap(), ["a", "b"]);
        assert_eq!(grant_scope(&set(&["*"]), Some("  ")).unwrap(), ["*"]);
    }

    #[test]
    fn a_request_must_be_held() {
        assert_eq!(
            grant_scope(&set(&["a", "b"]), Some("b a b")).unwrap(),
            ["a", "b"]
        );
        assert_eq!(
            grant_scope(&set(&["a"]), Some("a c d")).unwrap_err(),
            ["c", "d"]
        );
        assert_eq!(
            grant_scope(&set(&["*"]), Some("anything")).unwrap(),
            ["anything"]
        );
        assert_eq!(
            grant_scope(&set(&["*"]), Some("Not!Valid")).unwrap_err(),
            ["Not!Valid"]
        );
    }

    #[test]
    fn narrowing_follows_current_permissions() {
        let scope = vec!["a".to_owned(), "b".to_owned()];
        assert_eq!(narrow(&set(&["a"]), &scope), set(&["a"]));
        assert_eq!(narrow(&set(&["*"]), &scope), set(&["a", "b"]));
        assert_eq!(
            narrow(&set(&["a", "c"]), &["*".to_owned()]),
            set(&["a", "c"])
        );
        assert_eq!(narrow(&set(&[]), &scope), set(&[]));
    }
}
