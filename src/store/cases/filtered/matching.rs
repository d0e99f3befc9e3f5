//! The accounts a filter matches, as a set of account numbers, and what it costs to
//! page them: the conditions' sets (`rows::condition_sets`) and the query's positioned
//! trigrams (`rows::text_sets`) or the set of the names' start, intersected.

use roaring::RoaringBitmap;

use super::cursor::STEPS;
use crate::domain::{AccountFilter, PageRequest, Scope, Text};
use crate::error::Error;
use crate::store::kv::ReadTx;
use crate::store::rows::{condition_sets, postings, text_sets};

/// The blocks of sets a query's count may read (`rows::text_sets`): about 3 ms at
/// 1,000,000 accounts. Past it the count is a lower bound. Every query of the bench
/// reads at most about 500 there (`query=sa-0`: two trigrams in 245 blocks each).
pub(super) const COUNT_READS: usize = 1024;

/// The accounts a filter matches, by number.
pub(super) struct Matching {
    /// All of them, or, when `complete` is false, those found within `COUNT_READS`.
    pub(super) numbers: RoaringBitmap,
    pub(super) complete: bool,
    /// What `numbers` says of a candidate whose name does not hold the query.
    pub(super) by_display: ByDisplay,
}

/// Whether an account whose name does not hold the query matches by a display name of
/// its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ByDisplay {
    /// None does: such an account does not match.
    Never,
    /// It does just when `numbers` holds it (its conditions included).
    InNumbers,
    /// The sets of display names were not all read: its record says.
    Unknown,
}

/// `terms` with how many accounts of `scope` hold each, the rarest first.
pub(super) fn rarest_first(
    tx: &ReadTx,
    scope: &Scope,
    terms: Vec<String>,
) -> Result<Vec<(u64, String)>, Error> {
    let mut counted = Vec::with_capacity(terms.len());
    for term in terms {
        counted.push((postings::count(tx, scope, &term)?, term));
    }
    counted.sort();
    Ok(counted)
}

/// Whether a page of several terms looks up each account of the intersection of their
/// sets by its number (`rows::condition_sets`), given how many match and how long the
/// lead's list is, rather than walk the lead.
pub(super) type Choice = fn(u64, u64, &PageRequest) -> bool;

/// Whether looking up each of `matches` accounts (about `STEPS` steps each) costs less
/// than the steps a page is expected to walk in a lead list of `lead` accounts: the
/// page needs `wanted` matches, about one in `lead / matches` of the list. The walk
/// wins when matches are many, the lookups when a long lead holds few of them.
pub(super) fn by_number(matches: u64, lead: u64, request: &PageRequest) -> bool {
    let wanted = request.offset() as u64 + u64::from(request.per_page) + 1;
    let walk = lead.min(wanted.saturating_mul(lead) / matches.max(1));
    matches.saturating_mul(STEPS as u64) < walk
}

/// The accounts of `scope` that match `filter`, whose conditions' terms are
/// `conditions` (the rarest first, since only its blocks are visited): the sets of its
/// query in names and display names of their own, or of the start of the names for a
/// short query, intersected with those of its conditions. The query's sets are read
/// only up to `reads` blocks (display names first, as they are few).
pub(super) fn matching(
    tx: &ReadTx,
    scope: &Scope,
    filter: &AccountFilter,
    conditions: &[&str],
    mut reads: usize,
) -> Result<Matching, Error> {
    let trigrams = filter.query_trigrams();
    if trigrams.is_empty() {
        let start = filter.start_term();
        let terms: Vec<&str> = conditions.iter().copied().chain(start.as_deref()).collect();
        let numbers = condition_sets::holding_all(tx, scope, &terms)?;
        return Ok(Matching {
            numbers,
            complete: true,
            by_display: ByDisplay::Never,
        });
    }
    let (display, display_complete) =
        text_sets::holding_query(tx, scope, Text::OwnDisplayName, &trigrams, &mut reads)?;
    let (names, names_complete) =
        text_sets::holding_query(tx, scope, Text::Name, &trigrams, &mut reads)?;
    let mut numbers = names | &display;
    if !conditions.is_empty() && !numbers.is_empty() {
        numbers &= condition_sets::holding_all(tx, scope, conditions)?;
    }
    let by_display = match (display_complete, numbers.is_disjoint(&display)) {
        (false, _) => ByDisplay::Unknown,
        (true, true) => ByDisplay::Never,
        (true, false) => ByDisplay::InNumbers,
    };
    Ok(Matching {
        numbers,
        complete: display_complete && names_complete,
        by_display,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_looks_matches_up_by_number_when_a_long_lead_holds_few() {
        let first_page = PageRequest::parse(None, Some("100"), None).unwrap();
        // The bench's role and group at 1,000,000 accounts: a third of the lead matches.
        assert!(!by_number(6_802, 20_000, &first_page));
        // Fifty matches in a million: the walk would read most of the list.
        assert!(by_number(50, 1_000_000, &first_page));
        assert!(
            by_number(0, 1_000, &first_page),
            "nothing matches: no walk at all"
        );
        // Deep pages walk further, so the lookups win sooner.
        let deep = PageRequest::parse(Some("50"), Some("100"), None).unwrap();
        assert!(!by_number(5_000, 100_000, &first_page));
        assert!(by_number(5_000, 100_000, &deep));
    }
}
