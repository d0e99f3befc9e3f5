//! The filtered pages checked against a full scan, through random changes.

use super::*;
use crate::domain::{AccountPatch, Listing, MembershipChange, NewAccount, Status};
use crate::store::Blocking;
use crate::store::test_objects::{initialized_store, name, new_account, new_group, new_project};
use crate::store::{Store, WriteContext};

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
        && let Ok(found) = store.get_group(scope, group).block()
    {
        filter.group_ids.insert(found.group.id);
    }
    store
        .read_here(|tx| {
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

/// How a test finds a page: through the store's list, always by walking the lead,
/// always by number, or with the query's sets read up to a few blocks only (so that
/// most counts of a query are lower bounds).
#[derive(Debug, Clone, Copy)]
enum Way {
    Listed,
    Walk,
    ByNumber,
    FewReads,
}

/// A page's `total_count`, whether it is exact, and the least it may be: the items it
/// shows and one more when another page follows.
type Counted = (u64, bool, u64);

/// The answer of the indexes, walked by `page_token` in pages of 7, with the count of
/// each page.
fn listed(
    store: &Store,
    scope: &Scope,
    filter: &AccountFilter,
    way: Way,
) -> (Vec<String>, Vec<Counted>) {
    let now = crate::clock::now();
    let listing = Listing::In(scope.clone());
    let (mut found, mut counts, mut token) = (Vec::new(), Vec::new(), None);
    loop {
        let request = PageRequest::parse(None, Some("7"), token.as_deref()).unwrap();
        let page = match way {
            Way::Listed => store
                .list_service_accounts(&listing, filter, &request, now)
                .block()
                .unwrap()
                .try_map(|d| Ok::<_, Error>(d.account.name.to_string()))
                .unwrap(),
            Way::Walk | Way::ByNumber | Way::FewReads => {
                let (choice, reads): (Choice, usize) = match way {
                    Way::ByNumber => (|_, _, _| true, COUNT_READS),
                    Way::Walk => (|_, _, _| false, COUNT_READS),
                    _ => (by_number, 4),
                };
                store
                    .read_here(|tx| page_by(tx, scope, filter, &request, choice, reads))
                    .unwrap()
                    .try_map(|(a, _)| Ok::<_, Error>(a.name.to_string()))
                    .unwrap()
            }
        };
        let least = page.items.len() as u64 + u64::from(page.next_page_token.is_some());
        counts.push((page.total_count, page.total_count_exact, least));
        found.extend(page.items);
        token = page.next_page_token;
        if token.is_none() {
            return (found, counts);
        }
    }
}

/// Whether the store counted `counts` as it should for `expected` matches: exactly,
/// or, marked inexact, within what the pages showed and the true count.
fn counted_well(counts: &[Counted], expected: usize, way: Way) -> bool {
    counts.iter().all(|&(total, exact, least)| match exact {
        true => total == expected as u64,
        false => matches!(way, Way::FewReads) && least <= total && total <= expected as u64,
    })
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
    let mut inexact = 0;
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
                        false => &[Way::Listed, Way::Walk, Way::ByNumber, Way::FewReads],
                    };
                    for &way in ways {
                        let (found, counts) = listed(&store, scope, filter, way);
                        let what = format!("step {step}, {scope:?}, {filter:?}, {way:?}");
                        assert_eq!(found, expected, "{what}");
                        assert!(
                            counted_well(&counts, expected.len(), way),
                            "{what}: {counts:?}"
                        );
                        inexact += counts.iter().filter(|(_, exact, _)| !exact).count();
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
    assert!(
        inexact > 100,
        "few reads leave many counts inexact: {inexact}"
    );
}

/// Accounts `sa-0000` … `sa-1999`, of which only the last hundred hold `a-19`: the walk
/// steps over the runs of names before them rather than read each.
#[test]
fn a_walk_steps_over_the_names_where_no_match_can_be() {
    let dir = tempfile::tempdir().unwrap();
    let store = initialized_store(dir.path());
    let ctx = WriteContext::system(crate::clock::now(), "test");
    for i in 0..2000 {
        let account = new_account(&format!("sa-{i:04}"));
        store
            .create_service_account(&ctx, &Scope::Root, account, None)
            .wait()
            .unwrap();
    }
    let filter = AccountFilter::new(Some("a-19".into()), None, None, None);
    let read = std::cell::Cell::new(0);
    let (found, with_steps, without) = store
        .read_here(|tx| {
            let matching = matching(tx, &Scope::Root, &filter, &[], COUNT_READS)?;
            assert!(matching.complete);
            let names = tx.table(tables::ACCOUNT_NAMES)?;
            let enter = |start: Bound<&str>| -> Result<Candidates<'_>, Error> {
                let walk = paging::with_prefix_from(&names, &Scope::Root, "", start)?;
                Ok(Box::new(walk.inspect(|_| read.set(read.get() + 1))))
            };
            let keep =
                |name: &str, _: Uuid| -> Result<bool, Error> { Ok(filter.matches_name(name)) };
            let sets = tx.table(tables::CONDITION_SETS)?;
            let starts = Starts::new(sets, &Scope::Root, &matching.numbers);
            let found: Vec<String> = Skipping::new(enter, Bound::Unbounded, keep, Some(starts))?
                .map(|entry| entry.map(|(name, _)| name))
                .collect::<Result<_, _>>()?;
            let with_steps = read.replace(0);
            let plain = Skipping::new(enter, Bound::Unbounded, keep, None)?.count();
            assert_eq!(plain, 100);
            Ok((found, with_steps, read.get()))
        })
        .unwrap();
    let expected: Vec<String> = (1900..2000).map(|i| format!("sa-{i:04}")).collect();
    assert_eq!(found, expected);
    assert!(without > 2000, "a plain walk reads every name: {without}");
    assert!(with_steps < 600, "{with_steps} names read");
}
