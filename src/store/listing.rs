//! Paging over the `(scope, name) → id` indexes, in name order, shared by every kind
//! of object listed by name.

use std::ops::Bound;

use redb::ReadableTable;
use uuid::Uuid;

use super::tables::{NameKey, ROOT};
use crate::domain::{Page, PageRequest};
use crate::error::Error;

/// Names and ids of the root scope's objects in name order, from `start` on, read
/// lazily so a page touches only its own entries.
fn ids_in_name_order<'t>(
    names: &'t impl ReadableTable<NameKey, u128>,
    start: Bound<(&str, &str)>,
) -> Result<impl Iterator<Item = Result<(String, Uuid), Error>> + 't, Error> {
    Ok(names
        .range((start, Bound::Unbounded))?
        .map(|entry| {
            let (key, id) = entry?;
            let (scope, name) = key.value();
            Ok((scope == ROOT).then(|| (name.to_owned(), Uuid::from_u128(id.value()))))
        })
        .map_while(|entry: Result<Option<_>, Error>| entry.transpose()))
}

/// An optional filter of a list.
pub(super) type Filter<'a, T> = Option<&'a dyn Fn(&T) -> bool>;

/// One page of the objects of `names`. Without a filter (`matches` is `None`) the page
/// costs its own size: it starts at its key (or offset) and the total is the index's
/// length. With one, every object is loaded to count the total exactly.
pub(super) fn page_by_name<T>(
    names: &impl ReadableTable<NameKey, u128>,
    request: &PageRequest,
    mut load: impl FnMut(Uuid) -> Result<T, Error>,
    matches: Filter<'_, T>,
) -> Result<Page<T>, Error> {
    let load_named = |entry: Result<(String, Uuid), Error>| {
        let (name, id) = entry?;
        Ok::<_, Error>((name, load(id)?))
    };
    match matches {
        None => {
            let (start, skip) = match &request.after {
                Some(after) => (Bound::Excluded((ROOT, after.as_str())), 0),
                None => (Bound::Included((ROOT, "")), request.offset()),
            };
            let window = ids_in_name_order(names, start)?
                .skip(skip)
                .take(request.per_page as usize + 1)
                .map(load_named)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(request.from_window(window, names.len()?))
        }
        Some(matches) => {
            let matching = ids_in_name_order(names, Bound::Included((ROOT, "")))?
                .map(load_named)
                .filter(|entry| entry.as_ref().map_or(true, |(_, item)| matches(item)));
            request.cut(matching)
        }
    }
}
