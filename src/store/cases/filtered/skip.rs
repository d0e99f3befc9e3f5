//! A walk of a lead in name order that steps over the runs of names where no match can
//! be. A query's matches can sit together far into the lead (`query=a-09` holds only
//! `sa-090000` … `sa-099999` of 100,000 seeded names), and the walk would read every
//! name before them. Once a run of candidates has missed, the walk asks the sets of the
//! names' starts (`f:` and the positioned trigrams, `domain::name_start_term`) for the
//! shortest start of the last candidate that no match shares, and enters the lead again
//! just past every name with that start.

use std::ops::Bound;

use roaring::RoaringBitmap;
use uuid::Uuid;

use super::Candidates;
use crate::domain::{Scope, name_start_term};
use crate::error::Error;
use crate::store::kv::TableRef;
use crate::store::rows::condition_sets;
use crate::store::tables::ConditionSets;

/// Candidates that miss in a row before the walk first looks for a run to step over.
/// Each look that finds none doubles it, so scattered matches cost few looks.
const MISSES: usize = 32;

type SetTable<'t> = TableRef<'t, ConditionSets>;

/// The starts of names that no match shares, found from the sets.
pub(super) struct Starts<'t> {
    sets: SetTable<'t>,
    scope: &'t Scope,
    matches: &'t RoaringBitmap,
    /// The name of the last look, and the matches that share each of its starts (of 1,
    /// 2, … characters) as far as they were found: the next look reuses what it
    /// shares.
    name: String,
    sharing: Vec<RoaringBitmap>,
}

impl<'t> Starts<'t> {
    /// The starts of names for `matches`, every account of `scope` that matches.
    pub(super) fn new(sets: SetTable<'t>, scope: &'t Scope, matches: &'t RoaringBitmap) -> Self {
        Starts {
            sets,
            scope,
            matches,
            name: String::new(),
            sharing: Vec::new(),
        }
    }

    /// The first name past every name that starts with the shortest start of `name`
    /// that no match shares, or `None` when matches share every start of it.
    pub(super) fn past(&mut self, name: &str) -> Result<Option<String>, Error> {
        let shared = self
            .name
            .chars()
            .zip(name.chars())
            .take_while(|(a, b)| a == b)
            .count();
        self.sharing.truncate(shared);
        name.clone_into(&mut self.name);
        for (len, (at, c)) in (1..).zip(name.char_indices()) {
            if self.sharing.len() < len {
                let Some(term) = name_start_term(name, len) else {
                    return Ok(None);
                };
                let within = self.sharing.last().unwrap_or(self.matches);
                let found = condition_sets::within(&self.sets, self.scope, &term, within)?;
                self.sharing.push(found);
            }
            if self.sharing[len - 1].is_empty() {
                // Past every name with this start: the start with its last character
                // one higher.
                return Ok(char::from_u32(u32::from(c) + 1).map(|next| {
                    let mut past = name[..at].to_owned();
                    past.push(next);
                    past
                }));
            }
        }
        Ok(None)
    }
}

/// The candidates of a lead that `keep` keeps, in name order, stepping over runs
/// where `starts` says no match can be.
pub(super) struct Skipping<'t, L, K> {
    /// The lead, entered at a bound.
    enter: L,
    walk: Candidates<'t>,
    keep: K,
    starts: Option<Starts<'t>>,
    misses: usize,
    patience: usize,
}

impl<'t, L, K> Skipping<'t, L, K>
where
    L: Fn(Bound<&str>) -> Result<Candidates<'t>, Error>,
    K: FnMut(&str, Uuid) -> Result<bool, Error>,
{
    /// The walk of the lead `enter` from `start`; without `starts`, a plain filter.
    pub(super) fn new(
        enter: L,
        start: Bound<&str>,
        keep: K,
        starts: Option<Starts<'t>>,
    ) -> Result<Self, Error> {
        Ok(Skipping {
            walk: enter(start)?,
            enter,
            keep,
            starts,
            misses: 0,
            patience: MISSES,
        })
    }

    fn step(&mut self) -> Result<Option<(String, Uuid)>, Error> {
        while let Some(entry) = self.walk.next() {
            let (name, id) = entry?;
            if (self.keep)(&name, id)? {
                self.misses = 0;
                return Ok(Some((name, id)));
            }
            self.misses += 1;
            let Some(starts) = self
                .starts
                .as_mut()
                .filter(|_| self.misses >= self.patience)
            else {
                continue;
            };
            self.misses = 0;
            match starts.past(&name)? {
                Some(past) => {
                    self.walk = (self.enter)(Bound::Included(&past))?;
                    self.patience = MISSES;
                }
                None => self.patience = self.patience.saturating_mul(2),
            }
        }
        Ok(None)
    }
}

impl<'t, L, K> Iterator for Skipping<'t, L, K>
where
    L: Fn(Bound<&str>) -> Result<Candidates<'t>, Error>,
    K: FnMut(&str, Uuid) -> Result<bool, Error>,
{
    type Item = Result<(String, Uuid), Error>;

    fn next(&mut self) -> Option<Self::Item> {
        self.step().transpose()
    }
}
