//! The accounts holding each condition term (`s:`, `r:`, `g:`; see `domain::search`),
//! each trigram of a name or display name at its position (`p:`, `q:`) and each start
//! of a name (`f:`) as
//! compressed bitmaps of account numbers, so that a filter counts its matches by
//! intersecting bitmaps instead of walking posting lists: at a million accounts, a
//! role of 47,000 and a group of 20,000 intersect in well under a millisecond, where
//! the walk took about 20 (the query's sets are read by `rows::text_sets`).
//!
//! Every account gets a number at its creation, from a counter in `meta`, and no other
//! account ever gets that number; it is kept both ways, so that a page can look the
//! accounts of an intersection up by number (`cases::filtered`). A term's set is one
//! roaring bitmap per block of 2^12 numbers, so a write rewrites one small value per
//! term it changes: a run of new accounts is one run-length entry, and a block of
//! scattered numbers holds at most 4,096 of two bytes. (Blocks of 2^16, roaring's own
//! unit, made the block that every create changes an 8 KiB bitmap once some accounts
//! among the newest were disabled, and cost about 6% more CPU per create.) Numbers are
//! `u32`: creating more than about four billion accounts in one file is refused as a
//! fault. Kept in the same transaction as the posting lists (`rows::postings`).

use std::collections::BTreeSet;

use roaring::RoaringBitmap;
use uuid::Uuid;

use crate::domain::{Scope, ServiceAccount};
use crate::error::Error;
use crate::store::damage::damaged;
use crate::store::kv::ReadTx;
use crate::store::kv::{TableMut, TableRef};
use crate::store::reader::{self, Reader};
use crate::store::records::{self, AccountRecord, StoredAccount};
use crate::store::tables::{AccountNumbers, ConditionSets, NumberedAccounts};
use crate::store::transaction::{ChangedBlocks, Tx};
use crate::store::{codec, tables};

/// The `meta` entry holding the number the next account gets.
const NEXT_KEY: &str = "next_account_number";

/// A block holds the numbers that agree above their low `BLOCK_BITS` bits.
const BLOCK_BITS: u32 = 12;

/// What a write does to an account's number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::store) enum Numbering {
    /// A new account: it gets its number.
    Give,
    /// A changed account: it keeps its number.
    Keep,
    /// A removed account: it gives its number up.
    GiveUp,
}

/// Moves `account` of `scope` out of the sets of the terms it `left` and into those of
/// the terms it `joined` (its set terms, `ServiceAccount::set_terms`).
pub(in crate::store) fn update(
    tx: &Tx,
    scope: &Scope,
    account: &ServiceAccount,
    numbering: Numbering,
    left: &[&String],
    joined: &[&String],
) -> Result<(), Error> {
    if numbering == Numbering::Keep && left.is_empty() && joined.is_empty() {
        return Ok(());
    }
    let id = account.id;
    let number = match numbering {
        Numbering::Give => allocate(tx, account)?,
        Numbering::Keep | Numbering::GiveUp => tx
            .table(tables::ACCOUNT_NUMBERS)?
            .get(id.as_u128())?
            .map(|n| n.value())
            .ok_or_else(|| Error::internal(format!("account {id} has no number")))?,
    };
    let mut stored = tx.write(tables::CONDITION_SETS)?;
    let mut changed = tx.changed_blocks();
    let at = number >> BLOCK_BITS;
    for term in left {
        changed
            .block(&stored, (scope.key(), term, at))?
            .remove(number);
    }
    for term in joined {
        changed
            .block(&stored, (scope.key(), term, at))?
            .insert(number);
    }
    changed.bound(&mut stored)?;
    drop((stored, changed));
    if numbering == Numbering::GiveUp {
        tx.write(tables::ACCOUNT_NUMBERS)?.remove(id.as_u128())?;
        tx.write(tables::NUMBERED_ACCOUNTS)?.remove(number)?;
    }
    Ok(())
}

/// The next number, now given to `account`.
fn allocate(tx: &Tx, account: &ServiceAccount) -> Result<u32, Error> {
    let number = next_number(tx)?;
    set_next_number(tx, number)?;
    number_account(
        &mut tx.write(tables::ACCOUNT_NUMBERS)?,
        &mut tx.write(tables::NUMBERED_ACCOUNTS)?,
        account,
        number,
    )?;
    Ok(number)
}

/// Records that `account` has `number`, both ways.
fn number_account(
    numbers: &mut TableMut<'_, AccountNumbers>,
    numbered: &mut TableMut<'_, NumberedAccounts>,
    account: &ServiceAccount,
    number: u32,
) -> Result<(), Error> {
    numbers.insert(account.id.as_u128(), number)?;
    numbered.insert(number, (account.id.as_u128(), account.name.as_str()))?;
    Ok(())
}

fn next_number(tx: &Tx) -> Result<u32, Error> {
    let next = reader::meta(tx, NEXT_KEY)?.unwrap_or(0);
    u32::try_from(next).map_err(|_| Error::internal("every account number has been given"))
}

/// Records that `given` is the last number given.
fn set_next_number(tx: &Tx, given: u32) -> Result<(), Error> {
    tx.write(tables::META)?
        .insert(NEXT_KEY, u64::from(given) + 1)?;
    Ok(())
}

/// The numbers of the accounts of `scope` that hold every one of `terms`: conditions,
/// the rarest first, since only its blocks are visited.
pub(in crate::store) fn holding_all(
    tx: &ReadTx,
    scope: &Scope,
    terms: &[&str],
) -> Result<RoaringBitmap, Error> {
    let Some((first, others)) = terms.split_first() else {
        return Err(Error::internal("a set of no conditions"));
    };
    let blocks = tx.table(tables::CONDITION_SETS)?;
    let key = scope.key();
    let mut all = RoaringBitmap::new();
    for entry in blocks.range((key, *first, 0)..=(key, *first, u32::MAX))? {
        let (found, bytes) = entry?;
        let block_at = found.value().2;
        let mut common = codec::decode_bitmap(bytes.value())?;
        for term in others {
            if common.is_empty() {
                break;
            }
            match blocks.get((key, *term, block_at))? {
                Some(bytes) => common &= codec::decode_bitmap(bytes.value())?,
                None => common.clear(),
            }
        }
        all |= common;
    }
    Ok(all)
}

/// The numbers among `candidates` of the accounts of `scope` that hold `term`. Only the
/// term's blocks from the first to the last of `candidates` are visited, and only those
/// where `candidates` has numbers are read, so a narrow set of candidates costs a few
/// blocks whatever the size of the term's set.
pub(in crate::store) fn within(
    blocks: &TableRef<'_, ConditionSets>,
    scope: &Scope,
    term: &str,
    candidates: &RoaringBitmap,
) -> Result<RoaringBitmap, Error> {
    let (Some(first), Some(last)) = (candidates.min(), candidates.max()) else {
        return Ok(RoaringBitmap::new());
    };
    let key = scope.key();
    let mut found = RoaringBitmap::new();
    for entry in blocks.range((key, term, first >> BLOCK_BITS)..=(key, term, last >> BLOCK_BITS))? {
        let (at, bytes) = entry?;
        let start = at.value().2 << BLOCK_BITS;
        if candidates.range_cardinality(start..=start | ((1 << BLOCK_BITS) - 1)) == 0 {
            continue;
        }
        found |= codec::decode_bitmap(bytes.value())? & candidates;
    }
    Ok(found)
}

/// The accounts of `numbers`, as (name, id) in name order.
pub(in crate::store) fn numbered(
    tx: &ReadTx,
    numbers: &RoaringBitmap,
) -> Result<Vec<(String, Uuid)>, Error> {
    let table = tx.table(tables::NUMBERED_ACCOUNTS)?;
    table.read_ahead(numbers.iter(), std::iter::empty())?;
    let mut accounts = Vec::with_capacity(usize::try_from(numbers.len()).unwrap_or(0));
    for number in numbers {
        let entry = table
            .get(number)?
            .ok_or_else(|| damaged(format!("no account has number {number}")))?;
        let (id, name) = entry.value();
        accounts.push((name.to_owned(), Uuid::from_u128(id)));
    }
    accounts.sort_unstable();
    Ok(accounts)
}

/// The sets of one block of numbers, gathered in memory and written out together: fed
/// numbers in ascending order, it holds one block per term.
#[derive(Default)]
struct Gathered {
    block: Option<u32>,
    sets: ChangedBlocks,
}

impl Gathered {
    /// Puts `number` into the sets of `terms` in `scope`, once the block before it is
    /// written out if `number` is past it.
    fn add(
        &mut self,
        blocks: &mut TableMut<'_, ConditionSets>,
        scope: &Scope,
        terms: BTreeSet<String>,
        number: u32,
    ) -> Result<(), Error> {
        let block = number >> BLOCK_BITS;
        if self.block.is_some_and(|gathered| gathered != block) {
            self.sets.write(blocks)?;
        }
        self.block = Some(block);
        for term in terms {
            self.sets
                .block(blocks, (scope.key(), &term, block))?
                .insert(number);
        }
        Ok(())
    }
}

/// Numbers every account and fills every set, for a file written before the sets: fed
/// the accounts one at a time, it numbers them in that order.
pub(in crate::store) struct Builder<'a, 'w> {
    tx: &'a Tx<'w>,
    numbers: TableMut<'a, AccountNumbers>,
    numbered: TableMut<'a, NumberedAccounts>,
    blocks: TableMut<'a, ConditionSets>,
    next: u32,
    gathered: Gathered,
}

impl<'a, 'w> Builder<'a, 'w> {
    pub(in crate::store) fn new(tx: &'a Tx<'w>) -> Result<Self, Error> {
        Ok(Builder {
            next: next_number(tx)?,
            numbers: tx.write(tables::ACCOUNT_NUMBERS)?,
            numbered: tx.write(tables::NUMBERED_ACCOUNTS)?,
            blocks: tx.write(tables::CONDITION_SETS)?,
            gathered: Gathered::default(),
            tx,
        })
    }

    pub(in crate::store) fn add(
        &mut self,
        scope: &Scope,
        account: &ServiceAccount,
    ) -> Result<(), Error> {
        let number = self.next;
        number_account(&mut self.numbers, &mut self.numbered, account, number)?;
        self.gathered
            .add(&mut self.blocks, scope, account.set_terms(), number)?;
        self.next = number
            .checked_add(1)
            .ok_or_else(|| Error::internal("every account number has been given"))?;
        Ok(())
    }

    pub(in crate::store) fn finish(mut self) -> Result<(), Error> {
        let Some(last) = self.next.checked_sub(1) else {
            return Ok(());
        };
        self.gathered.sets.write(&mut self.blocks)?;
        let tx = self.tx;
        drop(self);
        set_next_number(tx, last)
    }
}

/// Fills the sets of the accounts' text (positioned trigrams, starts of names), for a
/// file whose accounts are numbered and whose condition sets are kept but which was
/// written before those: one walk of the accounts in the order of their numbers.
pub(in crate::store) fn fill_text_sets(tx: &Tx) -> Result<(), Error> {
    let numbered = tx.table(tables::NUMBERED_ACCOUNTS)?;
    let accounts = tx.table(tables::ACCOUNTS)?;
    let mut blocks = tx.write(tables::CONDITION_SETS)?;
    let mut gathered = Gathered::default();
    for entry in numbered.iter()? {
        let (number, numbered) = entry?;
        let id = Uuid::from_u128(numbered.value().0);
        let bytes = accounts
            .get(id.as_u128())?
            .ok_or_else(|| damaged(format!("account number {} is missing", number.value())))?;
        let StoredAccount { account, scope } =
            records::decode_object::<AccountRecord, _>(bytes.value(), id)?;
        gathered.add(
            &mut blocks,
            &scope,
            account.text_set_terms(),
            number.value(),
        )?;
    }
    gathered.sets.write(&mut blocks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Listing, NewAccount, PageRequest, Status};
    use crate::store::Blocking;
    use crate::store::WriteContext;
    use crate::store::test_objects::{initialized_store, name, new_account};

    /// Accounts numbered on both sides of a block's edge count as one set.
    #[test]
    fn sets_count_across_blocks_and_forget_removed_accounts() {
        let dir = tempfile::tempdir().unwrap();
        let store = initialized_store(dir.path());
        let now = crate::clock::now();
        let ctx = WriteContext::system(now, "test");
        let edge = 1u32 << BLOCK_BITS;
        store
            .write(move |tx| set_next_number(tx, edge - 4))
            .wait()
            .unwrap();
        for i in 0..8 {
            let account = NewAccount {
                roles: [name(if i % 2 == 0 { "viewer" } else { "operator" })].into(),
                ..new_account(&format!("sa-{i}"))
            };
            store
                .create_service_account(&ctx, &Scope::Root, account, None)
                .wait()
                .unwrap();
        }
        store
            .delete_service_account(&ctx, &Scope::Root, &name("sa-6"), None)
            .wait()
            .unwrap();
        let count = |terms: &[&str]| {
            store
                .read_here(|tx| holding_all(tx, &Scope::Root, terms))
                .unwrap()
                .len()
        };
        assert_eq!(count(&["r:viewer", "s:active"]), 3);
        assert_eq!(count(&["r:operator", "s:active"]), 4);
        assert_eq!(count(&["r:viewer", "r:operator"]), 0);
        let blocks = store
            .read(|tx| {
                let blocks = tx.table(tables::CONDITION_SETS)?;
                let key = Scope::Root.key();
                let found: Vec<u32> = blocks
                    .range((key, "s:active", 0)..=(key, "s:active", u32::MAX))?
                    .map(|entry| entry.map(|(k, _)| k.value().2))
                    .collect::<Result<_, _>>()?;
                Ok(found)
            })
            .block()
            .unwrap();
        assert_eq!(blocks, [0, 1], "the sets span the edge");
        let (viewers, numbered_len) = store
            .read(|tx| {
                let both = holding_all(tx, &Scope::Root, &["r:viewer", "s:active"])?;
                Ok((
                    numbered(tx, &both)?,
                    tx.table(tables::NUMBERED_ACCOUNTS)?.len()?,
                ))
            })
            .block()
            .unwrap();
        let names: Vec<&str> = viewers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["sa-0", "sa-2", "sa-4"], "in name order");
        assert_eq!(
            numbered_len, 8,
            "the admin and seven accounts: sa-6 gave its up"
        );
        let filter = crate::domain::AccountFilter::new(
            None,
            Some(Status::Active),
            Some(name("viewer")),
            None,
        );
        let request = PageRequest::parse(None, Some("2"), None).unwrap();
        let page = store
            .list_service_accounts(&Listing::In(Scope::Root), &filter, &request, now)
            .block()
            .unwrap();
        assert_eq!(page.total_count, 3);
    }
}
