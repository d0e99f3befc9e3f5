//! Paging, written once for every list the store keeps in key order: the name indexes,
//! a group's members and the audit trail.

use std::ops::Bound;

use uuid::Uuid;

use super::kv::TableRef;
use super::tables::{KnownTable, NameKey};
use crate::domain::{Page, PageRequest, Scope};
use crate::error::Error;

/// An optional filter of a list.
pub(super) type Filter<'a, T> = Option<&'a dyn Fn(&T) -> bool>;

/// One page of a list kept in key order. `entries(after)` walks it lazily, as (key,
/// entry), from just after the key `after` or from its start; `load` turns an entry
/// into an item. Without a filter (`matches` is `None`) the page costs its own size: it
/// starts at its key (or skips to its offset before loading) and `total` is the list's
/// length, known without a walk. With one, every item is loaded to count the total.
pub(super) fn page<R, T, I>(
    request: &PageRequest,
    entries: impl Fn(Option<&str>) -> Result<I, Error>,
    mut load: impl FnMut(R) -> Result<T, Error>,
    total: impl FnOnce() -> Result<u64, Error>,
    matches: Filter<'_, T>,
) -> Result<Page<T>, Error>
where
    I: Iterator<Item = Result<(String, R), Error>>,
{
    let load_keyed = |entry: Result<(String, R), Error>| {
        let (key, raw) = entry?;
        Ok::<_, Error>((key, load(raw)?))
    };
    match matches {
        None => {
            let skip = match request.after {
                Some(_) => 0,
                None => request.offset(),
            };
            let window = entries(request.after.as_deref())?
                .skip(skip)
                .take(request.per_page as usize + 1)
                .map(load_keyed)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(request.from_window(window, total()?))
        }
        Some(matches) => {
            let matching = entries(None)?
                .map(load_keyed)
                .filter(|entry| entry.as_ref().map_or(true, |(_, item)| matches(item)));
            request.cut(matching)
        }
    }
}

/// Names and ids of the objects of `scope` in a `(scope, name) → id` index, in name
/// order, from just after `after` or from the first.
pub(super) fn in_name_order<'t, T: KnownTable<K = NameKey, V = u128>>(
    names: &TableRef<'t, T>,
    scope: &Scope,
    after: Option<&str>,
) -> Result<impl Iterator<Item = Result<(String, Uuid), Error>> + use<'t, T>, Error> {
    with_prefix(names, scope, "", after)
}

/// [`in_name_order`] for the names that start with `prefix`.
pub(super) fn with_prefix<'t, T: KnownTable<K = NameKey, V = u128>>(
    names: &TableRef<'t, T>,
    scope: &Scope,
    prefix: &str,
    after: Option<&str>,
) -> Result<impl Iterator<Item = Result<(String, Uuid), Error>> + use<'t, T>, Error> {
    with_prefix_from(
        names,
        scope,
        prefix,
        after.map_or(Bound::Unbounded, Bound::Excluded),
    )
}

/// [`with_prefix`] from the bound `start` on (a name, or the first).
pub(super) fn with_prefix_from<'t, T: KnownTable<K = NameKey, V = u128>>(
    names: &TableRef<'t, T>,
    scope: &Scope,
    prefix: &str,
    start: Bound<&str>,
) -> Result<impl Iterator<Item = Result<(String, Uuid), Error>> + use<'t, T>, Error> {
    let key = scope.key();
    let start = match start {
        Bound::Excluded(name) if name >= prefix => Bound::Excluded((key, name)),
        Bound::Included(name) if name >= prefix => Bound::Included((key, name)),
        _ => Bound::Included((key, prefix)),
    };
    let (key, prefix) = (key.to_owned(), prefix.to_owned());
    Ok(names
        .range((start, Bound::Unbounded))?
        .map(move |entry| {
            let (k, id) = entry?;
            let (found, name) = k.value();
            Ok((found == key && name.starts_with(&prefix))
                .then(|| (name.to_owned(), Uuid::from_u128(id.value()))))
        })
        .map_while(|entry: Result<Option<_>, Error>| entry.transpose()))
}

/// An entry of a list across scopes: its key, and the scope and id of its object.
type ScopedEntry = Result<(String, (Scope, Uuid)), Error>;

/// Every entry of a `(scope, name) → id` index in key order, from just after `after`
/// (a key this walk made) or from the first: the root's objects first, then each
/// project's by project name, each scope's by name. Keys are `scope/name`; neither part
/// holds a `/`.
pub(super) fn in_key_order<'t, T: KnownTable<K = NameKey, V = u128>>(
    names: &TableRef<'t, T>,
    after: Option<&str>,
) -> Result<impl Iterator<Item = ScopedEntry> + use<'t, T>, Error> {
    let start = match after.map(|after| after.split_once('/')) {
        None => Bound::Unbounded,
        Some(Some(key)) => Bound::Excluded(key),
        Some(None) => {
            return Err(Error::invalid(
                "page_token",
                "is not a token this server issued",
            ));
        }
    };
    Ok(names.range((start, Bound::Unbounded))?.map(|entry| {
        let (key, id) = entry?;
        let (scope, name) = key.value();
        Ok((
            format!("{scope}/{name}"),
            (Scope::from_key(scope)?, Uuid::from_u128(id.value())),
        ))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(n: usize) -> Vec<(String, usize)> {
        (0..n).map(|i| (format!("k{i:03}"), i)).collect()
    }

    /// Pages of `items`, walked as the store walks a table.
    fn page_of(
        items: &[(String, usize)],
        request: &PageRequest,
        matches: Filter<'_, usize>,
        loads: &mut usize,
    ) -> Page<usize> {
        let entries = |after: Option<&str>| {
            let after = after.map(str::to_owned);
            Ok(items
                .iter()
                .filter(move |(k, _)| after.as_deref().is_none_or(|a| k.as_str() > a))
                .map(|(k, v)| Ok((k.clone(), *v))))
        };
        let load = |v: usize| {
            *loads += 1;
            Ok(v)
        };
        page(request, entries, load, || Ok(items.len() as u64), matches).unwrap()
    }

    #[test]
    fn an_unfiltered_page_loads_only_its_items_and_tokens_agree_with_numbers() {
        let items = list(25);
        let mut loads = 0;
        let second = PageRequest::parse(Some("2"), Some("10"), None).unwrap();
        let by_number = page_of(&items, &second, None, &mut loads);
        assert_eq!(by_number.items, (10..20).collect::<Vec<_>>());
        assert_eq!(by_number.total_count, 25);
        assert_eq!(loads, 11, "its 10 items and one to see that more follow");
        let first = PageRequest::parse(None, Some("10"), None).unwrap();
        let token = page_of(&items, &first, None, &mut loads).next_page_token;
        let by_token = PageRequest::parse(None, Some("10"), token.as_deref()).unwrap();
        assert_eq!(
            page_of(&items, &by_token, None, &mut loads).items,
            by_number.items
        );
    }

    #[test]
    fn a_filtered_page_counts_only_matching_items() {
        let items = list(25);
        let even = |v: &usize| v.is_multiple_of(2);
        let request = PageRequest::parse(None, Some("5"), None).unwrap();
        let page = page_of(&items, &request, Some(&even), &mut 0);
        assert_eq!(page.items, vec![0, 2, 4, 6, 8]);
        assert_eq!(page.total_count, 13);
        assert!(page.next_page_token.is_some());
    }
}
