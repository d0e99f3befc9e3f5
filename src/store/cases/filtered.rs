//! A filtered page of one scope's accounts, read from the indexes rather than from
//! every account. A page walks a lead in name order: the posting list of the rarest
//! condition (`rows::postings`), or with no condition the scope's names (those that
//! start with a short query). Each candidate is checked against the other conditions by
//! a `Cursor` on each of their lists, which walks on or enters the list afresh as the
//! candidates are close together in it or far apart. The name decides the query at no
//! cost; a candidate whose name does not hold it can match only by a display name of
//! its own, which the query's sets settle (by its number), and only when some match
//! that way. An unfiltered page is no concern of this module (the name index serves
//! it).
//!
//! Any other filter than one condition (several conditions, a query) is first answered
//! as sets of account numbers: the conditions' sets (`rows::condition_sets`), and the
//! query's positioned trigrams (`rows::text_sets`) or the set of the names' start,
//! intersected. That gives `total_count`, and when a long lead holds few of the
//! matches, the page looks them up by number instead of walking the lead.
//!
//! Cost: a page walks the lead until it is full, or looks its matches up.
//! `total_count` is the lead's kept count when the filter is one condition, and the
//! size of the intersection of the sets otherwise: it costs the blocks of the rarest
//! condition and of the query's trigram with the fewest blocks, never the number of
//! matches.

use std::ops::Bound;

use redb::{ReadOnlyTable, ReadTransaction};
use roaring::RoaringBitmap;
use uuid::Uuid;

use crate::domain::{AccountFilter, Etag, Page, PageRequest, Scope, ServiceAccount, Text};
use crate::error::Error;
use crate::store::paging;
use crate::store::reader::Reader;
use crate::store::rows::counts::{self, Index};
use crate::store::rows::{accounts, condition_sets, groups, postings, text_sets};
use crate::store::tables;

type Candidates<'t> = Box<dyn Iterator<Item = Result<(String, Uuid), Error>> + 't>;

/// Entries a cursor steps over before it enters its list afresh at the candidate: a step
/// reads the next entry of a page already at hand, a fresh entry descends the tree, which
/// costs about as much as this many steps.
const STEPS: usize = 8;

/// A term's posting list, asked about candidates in ascending name order: walked on
/// beside the lead's while the candidates are close together in it (a merge, which
/// reads each page once), and entered afresh at the candidate (one descent of the tree,
/// as a lookup) when the next one is further on.
struct Cursor<'t, F> {
    enter: F,
    walk: Option<std::iter::Peekable<Candidates<'t>>>,
}

impl<'t, F: Fn(&str) -> Result<Candidates<'t>, Error>> Cursor<'t, F> {
    fn new(enter: F) -> Self {
        Cursor { enter, walk: None }
    }

    /// Whether the list holds `name`.
    fn holds(&mut self, name: &str) -> Result<bool, Error> {
        let mut steps = 0;
        loop {
            let walk = match &mut self.walk {
                Some(walk) => walk,
                None => self.walk.insert((self.enter)(name)?.peekable()),
            };
            match walk.peek() {
                None => return Ok(false),
                Some(Ok((found, _))) if found.as_str() >= name => return Ok(found == name),
                Some(Ok(_)) if steps < STEPS => {
                    walk.next();
                    steps += 1;
                }
                Some(Ok(_)) => self.walk = None,
                Some(Err(_)) => return walk.next().map_or(Ok(false), |e| e.map(|_| false)),
            }
        }
    }
}

/// A cursor on the list of each of `terms`.
fn cursors<'t>(
    table: &'t ReadOnlyTable<(&'static str, &'static str, &'static str), u128>,
    scope: &'t Scope,
    terms: &[&'t String],
) -> Vec<Cursor<'t, impl Fn(&str) -> Result<Candidates<'t>, Error> + 't>> {
    terms
        .iter()
        .map(|term| {
            let term = term.as_str();
            Cursor::new(move |from: &str| -> Result<Candidates<'t>, Error> {
                Ok(Box::new(postings::walk(
                    table,
                    scope,
                    term,
                    Bound::Included(from),
                )?))
            })
        })
        .collect()
}

/// `terms` with how many accounts of `scope` hold each, the rarest first.
fn rarest_first(
    tx: &ReadTransaction,
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
type Choice = fn(u64, u64, &PageRequest) -> bool;

/// Whether looking up each of `matches` accounts (about `STEPS` steps each) costs less
/// than the steps a page is expected to walk in a lead list of `lead` accounts: the
/// page needs `wanted` matches, about one in `lead / matches` of the list. The walk
/// wins when matches are many, the lookups when a long lead holds few of them.
fn by_number(matches: u64, lead: u64, request: &PageRequest) -> bool {
    let wanted = request.offset() as u64 + u64::from(request.per_page) + 1;
    let walk = lead.min(wanted.saturating_mul(lead) / matches.max(1));
    matches.saturating_mul(STEPS as u64) < walk
}

/// The accounts a filter matches, by number (`rows::condition_sets`).
struct Matching {
    numbers: RoaringBitmap,
    /// Whether some of them hold the query only in a display name of their own, so that
    /// a name without it does not settle a candidate.
    by_display: bool,
}

/// The accounts of `scope` that match `filter`, whose conditions' terms are
/// `conditions` (the rarest first, since only its blocks are visited): the sets of its
/// query in names and display names of their own, or of the start of the names for a
/// short query, intersected with those of its conditions.
fn matching(
    tx: &ReadTransaction,
    scope: &Scope,
    filter: &AccountFilter,
    conditions: &[&str],
) -> Result<Matching, Error> {
    let trigrams = filter.query_trigrams();
    if trigrams.is_empty() {
        let start = filter.start_term();
        let terms: Vec<&str> = conditions.iter().copied().chain(start.as_deref()).collect();
        let numbers = condition_sets::holding_all(tx, scope, &terms)?;
        return Ok(Matching {
            numbers,
            by_display: false,
        });
    }
    let display = text_sets::holding_query(tx, scope, Text::OwnDisplayName, &trigrams)?;
    let mut numbers = text_sets::holding_query(tx, scope, Text::Name, &trigrams)? | &display;
    if !conditions.is_empty() && !numbers.is_empty() {
        numbers &= condition_sets::holding_all(tx, scope, conditions)?;
    }
    let by_display = !numbers.is_disjoint(&display);
    Ok(Matching {
        numbers,
        by_display,
    })
}

/// One page of the accounts of `scope` that match `filter` (which is not empty), in
/// name order, with the exact number of matches.
pub(super) fn page(
    tx: &ReadTransaction,
    scope: &Scope,
    filter: &AccountFilter,
    request: &PageRequest,
) -> Result<Page<(ServiceAccount, Etag)>, Error> {
    page_by(tx, scope, filter, request, by_number)
}

/// `page`, with the choice between the walk and the lookups made by `by_number` (the
/// tests force each).
fn page_by(
    tx: &ReadTransaction,
    scope: &Scope,
    filter: &AccountFilter,
    request: &PageRequest,
    by_number: Choice,
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
        _ => Some(matching(tx, scope, filter, &conditions)?),
    };
    // The walk's lead: the rarest condition's list, or else the scope's names (those
    // that start with a short query, which all match).
    let lead_length = match (counted.first(), &matching, filter.name_prefix()) {
        (Some((count, _)), _, _) => *count,
        (None, Some(matching), Some(_)) => matching.numbers.len(),
        (None, _, _) => counts::of(tx, Index::Accounts, scope)?,
    };
    let listed = match &matching {
        Some(matching) if by_number(matching.numbers.len(), lead_length, request) => {
            Some(condition_sets::numbered(tx, &matching.numbers)?)
        }
        _ => None,
    };
    let others: Vec<&String> = counted.iter().skip(1).map(|(_, term)| term).collect();
    let by_display = matching.as_ref().filter(|matching| matching.by_display);
    let posting_table = tx.table(tables::ACCOUNT_POSTINGS)?;
    let names = tx.table(tables::ACCOUNT_NAMES)?;
    let numbers = tx.table(tables::ACCOUNT_NUMBERS)?;

    let load = |id: Uuid| accounts::get_listed(tx, id, "a posting names a missing account");
    let entries = |after: Option<&str>| -> Result<Candidates<'_>, Error> {
        if let Some(listed) = &listed {
            let from = after.map_or(0, |after| {
                listed.partition_point(|(name, _)| name.as_str() <= after)
            });
            return Ok(Box::new(listed[from..].iter().cloned().map(Ok)));
        }
        let candidates: Candidates<'_> = match counted.first() {
            Some((_, term)) => {
                let start = after.map_or(Bound::Unbounded, Bound::Excluded);
                Box::new(postings::walk(&posting_table, scope, term, start)?)
            }
            None => Box::new(paging::with_prefix(
                &names,
                scope,
                filter.name_prefix().unwrap_or(""),
                after,
            )?),
        };
        let mut conditions = cursors(&posting_table, scope, &others);
        let numbers = &numbers;
        let mut keep = move |name: &str, id: Uuid| -> Result<bool, Error> {
            // A name decides the query at no cost. One without it can only match by a
            // display name of its own, and the sets say whether it does, its conditions
            // included.
            if !filter.matches_name(name) {
                let Some(matching) = by_display else {
                    return Ok(false);
                };
                let number = numbers
                    .get(id.as_u128())?
                    .ok_or_else(|| Error::internal(format!("account {id} has no number")))?;
                return Ok(matching.numbers.contains(number.value()));
            }
            for cursor in &mut conditions {
                if !cursor.holds(name)? {
                    return Ok(false);
                }
            }
            Ok(true)
        };
        Ok(Box::new(candidates.filter_map(move |entry| match entry {
            Ok((name, id)) => match keep(&name, id) {
                Ok(true) => Some(Ok((name, id))),
                Ok(false) => None,
                Err(e) => Some(Err(e)),
            },
            Err(e) => Some(Err(e)),
        })))
    };
    let total = || match (&matching, counted.first()) {
        (Some(matching), _) => Ok(matching.numbers.len()),
        (None, Some((count, _))) => Ok(*count),
        (None, None) => Err(Error::internal("a filter of no terms")),
    };
    paging::page(request, entries, load, total, None)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::domain::{AccountPatch, Listing, MembershipChange, NewAccount, Status};
    use crate::store::test_objects::{
        initialized_store, name, new_account, new_group, new_project,
    };
    use crate::store::{Store, WriteContext};

    #[test]
    fn a_cursor_answers_as_a_lookup_whether_it_walks_on_or_enters_afresh() {
        let list: Vec<String> = (0..500)
            .filter(|i| i % 3 != 0)
            .map(|i| format!("n{i:04}"))
            .collect();
        let entered = std::cell::Cell::new(0);
        let mut cursor = Cursor::new(|from: &str| -> Result<Candidates<'_>, Error> {
            entered.set(entered.get() + 1);
            let rest: Vec<_> = list
                .iter()
                .filter(|n| n.as_str() >= from)
                .map(|n| Ok((n.clone(), Uuid::nil())))
                .collect();
            Ok(Box::new(rest.into_iter()))
        });
        // Close candidates first (walked on), then far apart ones (entered afresh).
        let asked: Vec<String> = (0..60)
            .chain((100..500).step_by(37))
            .map(|i| format!("n{i:04}"))
            .collect();
        for name in &asked {
            assert_eq!(cursor.holds(name).unwrap(), list.contains(name), "{name}");
        }
        let entered = entered.get();
        assert!(
            entered > 1 && entered < asked.len(),
            "entered {entered} times for {} names",
            asked.len()
        );
    }

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

    /// xorshift: the same run every time.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }

        fn word(&mut self, alphabet: &[&str], max: usize) -> String {
            let len = 1 + self.below(max);
            (0..len)
                .map(|_| alphabet[self.below(alphabet.len())])
                .collect()
        }
    }

    const GROUPS: [&str; 3] = ["g0", "g1", "g2"];

    /// Every filter of the check: queries of one to five characters (some with a single
    /// trigram, some whose trigrams a name can hold apart, and one of a display name's
    /// letters), each status, role and group (one missing), and combinations.
    fn filters() -> Vec<AccountFilter> {
        let mut filters = Vec::new();
        let queries = [
            None,
            Some("a"),
            Some("ab"),
            Some("ab-"),
            Some("bca"),
            Some("aaaa"),
            Some("abca"),
            Some("c-a-b"),
            Some("é b"),
            Some("éa"),
            Some("zzz"),
        ];
        let statuses = [None, Some(Status::Active), Some(Status::Disabled)];
        let roles = [None, Some("viewer"), Some("operator")];
        let groups = [None, Some("g1"), Some("g2"), Some("nope")];
        for (i, query) in queries.iter().enumerate() {
            for (j, status) in statuses.iter().enumerate() {
                for (k, role) in roles.iter().enumerate() {
                    for (l, group) in groups.iter().enumerate() {
                        // Every single condition, and a spread of combinations.
                        let conditions = [i, j, k, l].iter().filter(|x| **x > 0).count();
                        if conditions > 1 && (i + j + k + l) % 3 != 0 {
                            continue;
                        }
                        filters.push(AccountFilter::new(
                            query.map(str::to_owned),
                            *status,
                            role.map(name),
                            group.map(name),
                        ));
                    }
                }
            }
        }
        filters
    }

    /// The answer of a full scan: every account of `scope`, checked one by one.
    fn scanned(store: &Store, scope: &Scope, filter: &AccountFilter) -> Vec<String> {
        let mut filter = filter.clone();
        if let Some(group) = &filter.group
            && let Ok(found) = store.get_group(scope, group)
        {
            filter.group_ids.insert(found.group.id);
        }
        store
            .read(|tx| {
                let names = tx.table(tables::ACCOUNT_NAMES)?;
                let mut found = Vec::new();
                for entry in paging::in_name_order(&names, scope, None)? {
                    let (name, id) = entry?;
                    let account = accounts::record_listed(tx, id, "missing")?;
                    if filter.matches(&account) {
                        found.push(name);
                    }
                }
                Ok(found)
            })
            .unwrap()
    }

    /// How a test finds a page: through the store's list, or always by walking the
    /// lead or always by number.
    #[derive(Debug, Clone, Copy)]
    enum Way {
        Listed,
        Walk,
        ByNumber,
    }

    /// The answer of the indexes, walked by `page_token` in pages of 7, with the
    /// `total_count` of each page.
    fn listed(
        store: &Store,
        scope: &Scope,
        filter: &AccountFilter,
        way: Way,
    ) -> (Vec<String>, BTreeSet<u64>) {
        let now = crate::clock::now();
        let listing = Listing::In(scope.clone());
        let (mut found, mut totals, mut token) = (Vec::new(), BTreeSet::new(), None);
        loop {
            let request = PageRequest::parse(None, Some("7"), token.as_deref()).unwrap();
            let (names, total, next) = match way {
                Way::Listed => {
                    let page = store
                        .list_service_accounts(&listing, filter, &request, now)
                        .unwrap();
                    let names = page.items.iter().map(|d| d.account.name.to_string());
                    (names.collect(), page.total_count, page.next_page_token)
                }
                Way::Walk | Way::ByNumber => {
                    let choice: Choice = match way {
                        Way::ByNumber => |_, _, _| true,
                        _ => |_, _, _| false,
                    };
                    let page = store
                        .read(|tx| page_by(tx, scope, filter, &request, choice))
                        .unwrap();
                    let names = page.items.iter().map(|(a, _)| a.name.to_string());
                    (
                        names.collect::<Vec<_>>(),
                        page.total_count,
                        page.next_page_token,
                    )
                }
            };
            found.extend(names);
            totals.insert(total);
            token = next;
            if token.is_none() {
                return (found, totals);
            }
        }
    }

    #[test]
    fn every_filter_answers_as_a_full_scan_through_random_changes() {
        let dir = tempfile::tempdir().unwrap();
        let store = initialized_store(dir.path());
        let now = crate::clock::now();
        let ctx = WriteContext::system(now, "test");
        store.create_project(&ctx, new_project("p")).wait().unwrap();
        let scopes = [Scope::Root, Scope::Project(name("p"))];
        for scope in &scopes {
            for group in GROUPS {
                store
                    .create_group(&ctx, scope, new_group(group))
                    .wait()
                    .unwrap();
            }
        }
        let alphabet = ["a", "b", "c", "-"];
        let display = ["A", "b", "C", "é", " ", "-"];
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        let mut live: Vec<(usize, String)> = Vec::new();
        let filters = filters();
        for step in 1..=3000 {
            let scope_at = rng.below(2);
            let scope = &scopes[scope_at];
            let pick = |rng: &mut Rng, live: &[(usize, String)]| {
                let mine: Vec<&String> = live
                    .iter()
                    .filter(|(s, _)| *s == scope_at)
                    .map(|(_, n)| n)
                    .collect();
                (!mine.is_empty()).then(|| mine[rng.below(mine.len())].clone())
            };
            match rng.below(10) {
                0..=3 => {
                    let n = format!(
                        "{}{}{}",
                        rng.word(&alphabet[..3], 2),
                        rng.word(&alphabet, 5),
                        rng.word(&alphabet[..3], 1)
                    );
                    let account = NewAccount {
                        display_name: (rng.below(2) == 0).then(|| rng.word(&display, 8)),
                        ..new_account(&n)
                    };
                    if store
                        .create_service_account(&ctx, scope, account, None)
                        .wait()
                        .is_ok()
                    {
                        live.push((scope_at, n));
                    }
                }
                4 => {
                    if let Some(n) = pick(&mut rng, &live) {
                        store
                            .delete_service_account(&ctx, scope, &name(&n), None)
                            .wait()
                            .unwrap();
                        live.retain(|(s, m)| !(*s == scope_at && *m == n));
                    }
                }
                5..=7 => {
                    if let Some(n) = pick(&mut rng, &live) {
                        let roles = ["viewer", "operator"]
                            .into_iter()
                            .filter(|_| rng.below(2) == 0)
                            .map(name)
                            .collect();
                        let patch = AccountPatch {
                            display_name: Some(rng.word(&display, 8)),
                            status: Some([Status::Active, Status::Disabled][rng.below(2)]),
                            roles: Some(roles),
                            ..AccountPatch::default()
                        };
                        store
                            .update_service_account(&ctx, scope, &name(&n), None, patch)
                            .wait()
                            .unwrap();
                    }
                }
                _ => {
                    if let Some(n) = pick(&mut rng, &live) {
                        let set = GROUPS
                            .into_iter()
                            .filter(|_| rng.below(2) == 0)
                            .map(name)
                            .collect();
                        let change = MembershipChange {
                            set: Some(set),
                            ..MembershipChange::default()
                        };
                        store
                            .update_service_account_groups(&ctx, scope, &name(&n), None, &change)
                            .wait()
                            .unwrap();
                    }
                }
            }
            if step % 500 == 0 {
                for scope in &scopes {
                    for filter in &filters {
                        let expected = scanned(&store, scope, filter);
                        // The store lists an empty filter from the name index, not here.
                        let ways = match filter.is_empty() {
                            true => &[Way::Listed][..],
                            false => &[Way::Listed, Way::Walk, Way::ByNumber],
                        };
                        for &way in ways {
                            let (found, totals) = listed(&store, scope, filter, way);
                            let what = format!("step {step}, {scope:?}, {filter:?}, {way:?}");
                            assert_eq!(found, expected, "{what}");
                            assert_eq!(totals, BTreeSet::from([expected.len() as u64]), "{what}");
                        }
                    }
                }
            }
        }
        assert!(
            live.len() > 300,
            "the run keeps many accounts: {}",
            live.len()
        );
    }
}
