//! A filtered page of one scope's accounts, read from the indexes rather than from
//! every account. A page walks a lead in name order: the posting list of the rarest
//! condition (`rows::postings`), or with no condition the scope's names (those that
//! start with a short query). Each candidate is checked against the other conditions by
//! a `Cursor` on each of their lists (`cursor`), which walks on or enters the list
//! afresh as the candidates are close together in it or far apart. The name decides
//! the query at no cost; a candidate whose name does not hold it can match only by a
//! display name of its own, which the query's sets settle (by its number), and only
//! when some match that way. An unfiltered page is no concern of this module (the name
//! index serves it).
//!
//! Any other filter than one condition (several conditions, a query) is first answered
//! as sets of account numbers (`matching`). That gives `total_count`; when a long lead
//! holds few of the matches, the page looks them up by number instead of walking the
//! lead; and the walk steps over runs of the lead where no match can be (`skip`).
//!
//! Cost: a page walks the lead until it is full (stepping over the runs without
//! matches), or looks its matches up. `total_count` is the lead's kept count when the
//! filter is one condition, and the size of the intersection of the sets otherwise: it
//! costs the blocks of the rarest condition and of the query's trigram with the fewest
//! blocks, never the number of matches. A query's sets are read only up to
//! `COUNT_READS` blocks; past that the count is a lower bound, marked so, and the page
//! is walked without steps over runs (which need every match).

mod cursor;
mod matching;
mod skip;
#[cfg(test)]
mod tests;

use std::ops::Bound;

use crate::store::kv::ReadTx;
use uuid::Uuid;

use crate::domain::{AccountFilter, Etag, Page, PageRequest, Scope, ServiceAccount};
use crate::error::Error;
use crate::store::paging;
use crate::store::reader::Reader;
use crate::store::rows::counts::{self, Index};
use crate::store::rows::{accounts, condition_sets, groups, postings};
use crate::store::tables;
use cursor::cursors;
use matching::{ByDisplay, COUNT_READS, Choice, by_number, matching, rarest_first};
use skip::{Skipping, Starts};

type Candidates<'t> = Box<dyn Iterator<Item = Result<(String, Uuid), Error>> + 't>;

/// One page of the accounts of `scope` that match `filter` (which is not empty), in
/// name order, with the number of matches: exact, or a lower bound marked so when a
/// query's sets would cost more than `COUNT_READS` blocks to count.
pub(super) fn page(
    tx: &ReadTx,
    scope: &Scope,
    filter: &AccountFilter,
    request: &PageRequest,
) -> Result<Page<(ServiceAccount, Etag)>, Error> {
    page_by(tx, scope, filter, request, by_number, COUNT_READS)
}

/// `page`, with the choice between the walk and the lookups made by `by_number` and the
/// query's sets read up to `reads` blocks (the tests force each).
fn page_by(
    tx: &ReadTx,
    scope: &Scope,
    filter: &AccountFilter,
    request: &PageRequest,
    by_number: Choice,
    reads: usize,
) -> Result<Page<(ServiceAccount, Etag)>, Error> {
    let group = match &filter.group {
        Some(name) => groups::find_by_name(tx, scope, name)?.map(|d| d.group.id),
        None => None,
    };
    let Some(terms) = filter.required_terms(group) else {
        return Ok(request.from_window(Vec::new(), 0));
    };
    let counted = rarest_first(tx, scope, terms)?;
    let conditions: Vec<&str> = counted.iter().map(|(_, term)| term.as_str()).collect();
    // One condition alone: its list is the page and its kept count the total. Anything
    // else: the sets say which accounts match.
    let matching = match (conditions.len(), &filter.query) {
        (1, None) => None,
        _ => Some(matching(tx, scope, filter, &conditions, reads)?),
    };
    // Every match is known: the page may look them up, and step over runs without any.
    let complete = matching.as_ref().filter(|matching| matching.complete);
    // The walk's lead: the rarest condition's list, or else the scope's names (those
    // that start with a short query, which all match).
    let lead_length = match (counted.first(), complete, filter.name_prefix()) {
        (Some((count, _)), _, _) => *count,
        (None, Some(matching), Some(_)) => matching.numbers.len(),
        (None, _, _) => counts::of(tx, Index::Accounts, scope)?,
    };
    let listed = match complete {
        Some(matching) if by_number(matching.numbers.len(), lead_length, request) => {
            Some(condition_sets::numbered(tx, &matching.numbers)?)
        }
        _ => None,
    };
    let others: Vec<&String> = counted.iter().skip(1).map(|(_, term)| term).collect();
    let by_display = matching
        .as_ref()
        .map_or(ByDisplay::Never, |matching| matching.by_display);
    let posting_table = tx.table(tables::ACCOUNT_POSTINGS)?;
    let names = tx.table(tables::ACCOUNT_NAMES)?;
    let numbers = tx.table(tables::ACCOUNT_NUMBERS)?;

    let entries = |after: Option<&str>| -> Result<Candidates<'_>, Error> {
        if let Some(listed) = &listed {
            let from = after.map_or(0, |after| {
                listed.partition_point(|(name, _)| name.as_str() <= after)
            });
            return Ok(Box::new(listed[from..].iter().cloned().map(Ok)));
        }
        let lead = counted.first().map(|(_, term)| term.as_str());
        let (posting_table, names) = (&posting_table, &names);
        let enter = move |start: Bound<&str>| -> Result<Candidates<'_>, Error> {
            Ok(match lead {
                Some(term) => Box::new(postings::walk(posting_table, scope, term, start)?),
                None => Box::new(paging::with_prefix_from(
                    names,
                    scope,
                    filter.name_prefix().unwrap_or(""),
                    start,
                )?),
            })
        };
        let mut conditions = cursors(posting_table, scope, &others);
        let numbers = &numbers;
        let matching = &matching;
        let keep = move |name: &str, id: Uuid| -> Result<bool, Error> {
            // A name decides the query at no cost. One without it can only match by a
            // display name of its own, and the sets say whether it does, its conditions
            // included, or else its record.
            if !filter.matches_name(name) {
                match (by_display, matching) {
                    (ByDisplay::InNumbers, Some(matching)) => {
                        let number = numbers.get(id.as_u128())?.ok_or_else(|| {
                            Error::internal(format!("account {id} has no number"))
                        })?;
                        return Ok(matching.numbers.contains(number.value()));
                    }
                    (ByDisplay::Unknown, _) => {
                        let account = accounts::record_listed(tx, id, "a name of no account")?;
                        if !filter.matches_query(name, || account.display_name) {
                            return Ok(false);
                        }
                    }
                    _ => return Ok(false),
                }
            }
            for cursor in &mut conditions {
                if !cursor.holds(name)? {
                    return Ok(false);
                }
            }
            Ok(true)
        };
        let starts = match complete {
            Some(matching) => Some(Starts::new(
                tx.table(tables::CONDITION_SETS)?,
                scope,
                &matching.numbers,
            )),
            None => None,
        };
        let start = after.map_or(Bound::Unbounded, Bound::Excluded);
        Ok(Box::new(Skipping::new(enter, start, keep, starts)?))
    };
    let total = || match (&matching, counted.first()) {
        (Some(matching), _) => Ok(matching.numbers.len()),
        (None, Some((count, _))) => Ok(*count),
        (None, None) => Err(Error::internal("a filter of no terms")),
    };
    let ids = paging::page(request, entries, Ok, total, None)?;
    let page = accounts::listed(tx, ids, "a posting names a missing account")?;
    Ok(match &matching {
        Some(matching) if !matching.complete => request.at_least(page),
        _ => page,
    })
}
