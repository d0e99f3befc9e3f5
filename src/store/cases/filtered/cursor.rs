//! Checks of candidates against a condition's posting list, in ascending name order.

use std::ops::Bound;

use super::Candidates;
use crate::domain::Scope;
use crate::error::Error;
use crate::store::kv::TableRef;
use crate::store::rows::postings;
use crate::store::tables::AccountPostings;

/// Entries a cursor steps over before it enters its list afresh at the candidate: a step
/// reads the next entry of a page already at hand, a fresh entry descends the tree, which
/// costs about as much as this many steps.
pub(super) const STEPS: usize = 8;

/// A term's posting list, asked about candidates in ascending name order: walked on
/// beside the lead's while the candidates are close together in it (a merge, which
/// reads each page once), and entered afresh at the candidate (one descent of the tree,
/// as a lookup) when the next one is further on.
pub(super) struct Cursor<'t, F> {
    enter: F,
    walk: Option<std::iter::Peekable<Candidates<'t>>>,
}

impl<'t, F: Fn(&str) -> Result<Candidates<'t>, Error>> Cursor<'t, F> {
    pub(super) fn new(enter: F) -> Self {
        Cursor { enter, walk: None }
    }

    /// Whether the list holds `name`.
    pub(super) fn holds(&mut self, name: &str) -> Result<bool, Error> {
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
pub(super) fn cursors<'t>(
    table: &'t TableRef<'t, AccountPostings>,
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

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

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
}
