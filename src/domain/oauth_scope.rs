//! OAuth scopes: what a token may carry when issued, and what it allows when used.

use super::permission::permissions::ALL;
use super::{Permission, PermissionSet};

/// Why a requested scope is refused (`invalid_scope`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeRefusal {
    /// `scope` was sent but names nothing: refused rather than read as "everything"
    /// (RFC 6749 3.3).
    Empty,
    /// Permissions the account does not hold, or that are not permission strings.
    NotHeld(Vec<String>),
}

/// The scope of a new token: the requested permissions (space-separated), each of which
/// the account must hold; or, with no `scope` at all, all it holds (`*` if it holds
/// `*`). Sorted and without repeats.
pub fn grant_scope(
    held: &PermissionSet,
    requested: Option<&str>,
) -> Result<Vec<String>, ScopeRefusal> {
    let Some(requested) = requested else {
        return Ok(if held.holds_all() {
            vec![ALL.to_owned()]
        } else {
            held.to_sorted_vec()
        });
    };
    let requested: Vec<&str> = requested.split_whitespace().collect();
    if requested.is_empty() {
        return Err(ScopeRefusal::Empty);
    }
    let missing: Vec<String> = requested
        .iter()
        .filter(|p| !held.allows(p) || Permission::parse("scope", p).is_err())
        .map(|p| (*p).to_owned())
        .collect();
    if !missing.is_empty() {
        return Err(ScopeRefusal::NotHeld(missing));
    }
    let mut scope: Vec<String> = requested.into_iter().map(str::to_owned).collect();
    scope.sort();
    scope.dedup();
    Ok(scope)
}

/// What a token allows now: its scope, limited to what the account holds at the time
/// of the request. A scope of all it holds (a token granted without `scope`, the roles
/// unchanged since) shares the account's set instead of building a copy per request.
pub fn narrow<'s, I>(current: &PermissionSet, scope: I) -> PermissionSet
where
    I: IntoIterator<Item = &'s str>,
    I::IntoIter: Clone,
{
    let scope = scope.into_iter();
    if current.iter().eq(scope.clone()) || scope.clone().any(|p| p == ALL) {
        return current.clone();
    }
    PermissionSet::new(scope.filter(|p| current.allows(p)).map(str::to_owned))
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
        assert_eq!(grant_scope(&set(&["*"]), None).unwrap(), ["*"]);
    }

    #[test]
    fn an_empty_or_blank_scope_is_refused() {
        for blank in ["", "  ", "\t"] {
            assert_eq!(
                grant_scope(&set(&["*"]), Some(blank)).unwrap_err(),
                ScopeRefusal::Empty
            );
        }
    }

    #[test]
    fn a_request_must_be_held() {
        assert_eq!(
            grant_scope(&set(&["a", "b"]), Some("b a b")).unwrap(),
            ["a", "b"]
        );
        assert_eq!(
            grant_scope(&set(&["a"]), Some("a c d")).unwrap_err(),
            ScopeRefusal::NotHeld(vec!["c".to_owned(), "d".to_owned()])
        );
        assert_eq!(
            grant_scope(&set(&["*"]), Some("anything")).unwrap(),
            ["anything"]
        );
        assert_eq!(
            grant_scope(&set(&["*"]), Some("Not!Valid")).unwrap_err(),
            ScopeRefusal::NotHeld(vec!["Not!Valid".to_owned()])
        );
    }

    #[test]
    fn narrowing_follows_current_permissions() {
        let scope = ["a", "b"];
        assert_eq!(narrow(&set(&["a"]), scope), set(&["a"]));
        assert_eq!(narrow(&set(&["*"]), scope), set(&["a", "b"]));
        assert_eq!(narrow(&set(&["a", "c"]), ["*"]), set(&["a", "c"]));
        assert_eq!(narrow(&set(&[]), scope), set(&[]));
        assert_eq!(narrow(&set(&["a", "b"]), scope), set(&["a", "b"]));
        assert_eq!(narrow(&set(&["a", "b", "c"]), scope), set(&["a", "b"]));
    }
}
