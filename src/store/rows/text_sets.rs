//! The accounts whose name or display name holds a query of three or more characters,
//! read from the sets of positioned trigrams (`rows::condition_sets`), not from the
//! names: a text holds the query at position p just when it holds the query's i-th
//! trigram at p + i for every i. So the count is exact, and costs the blocks of one
//! trigram's sets (the one with fewest), whatever the number of matches.

use roaring::RoaringBitmap;

use crate::domain::{Scope, Text};
use crate::error::Error;
use crate::store::kv::ReadTx;
use crate::store::kv::{EntryOf, TableRef};
use crate::store::reader::Reader;
use crate::store::tables::ConditionSets;
use crate::store::{codec, tables};

type Blocks<'t> = TableRef<'t, ConditionSets>;

/// The numbers of the accounts of `scope` whose `text` holds the text whose trigrams
/// are `trigrams` (in order), and whether they are all of them. The sets of the trigram
/// with the fewest blocks (the lead) are visited at every position and block; each
/// block is intersected with the same block of the others' sets at their positions.
/// At most `reads` blocks are read (and `reads` is lowered by those read): when more
/// would be needed, the answer is the accounts found so far, a part of them.
pub(in crate::store) fn holding_query(
    tx: &ReadTx,
    scope: &Scope,
    text: Text,
    trigrams: &[String],
    reads: &mut usize,
) -> Result<(RoaringBitmap, bool), Error> {
    let blocks = tx.table(tables::CONDITION_SETS)?;
    let key = scope.key();
    let lead = fewest_blocks(&blocks, key, text, trigrams)?;
    let Some(leader) = trigrams.get(lead) else {
        return Err(Error::internal("a query without trigrams"));
    };
    let prefix = text.trigram_prefix(leader);
    let mut all = RoaringBitmap::new();
    for entry in entries_of(&blocks, key, &prefix)? {
        let (found, bytes) = entry?;
        let (_, term, block) = found.value();
        let at = text
            .position_of(leader, term)
            .ok_or_else(|| Error::internal(format!("the set term {term:?} has no position")))?;
        // Where the query would start; a lead seen before the query could start there
        // matches nothing.
        let Some(start) = at.checked_sub(lead) else {
            continue;
        };
        if *reads < trigrams.len() {
            return Ok((all, false));
        }
        *reads -= trigrams.len();
        let mut common = codec::decode_bitmap(bytes.value())?;
        for (i, trigram) in trigrams.iter().enumerate() {
            if i == lead {
                continue;
            }
            if common.is_empty() {
                break;
            }
            let term = text.position_term(trigram, start + i);
            match blocks.get((key, term.as_str(), block))? {
                Some(bytes) => common &= codec::decode_bitmap(bytes.value())?,
                None => common.clear(),
            }
        }
        all |= common;
    }
    Ok((all, true))
}

/// Which of `trigrams` has the fewest blocks of sets in `text`, over all its positions:
/// the query costs the lead's blocks, each looked up in the others' sets. Each is
/// counted only up to the fewest found before it.
fn fewest_blocks(
    blocks: &Blocks<'_>,
    key: &str,
    text: Text,
    trigrams: &[String],
) -> Result<usize, Error> {
    let (mut fewest, mut lead) = (usize::MAX, 0);
    for (i, trigram) in trigrams.iter().enumerate() {
        let prefix = text.trigram_prefix(trigram);
        let mut count = 0;
        for entry in entries_of(blocks, key, &prefix)?.take(fewest) {
            entry?;
            count += 1;
        }
        if count < fewest {
            (fewest, lead) = (count, i);
        }
    }
    Ok(lead)
}

/// The sets' entries of the terms that start with `prefix` in the scope `key`: one
/// trigram of one text, at every position and block, in key order.
fn entries_of<'t>(
    blocks: &Blocks<'t>,
    key: &'t str,
    prefix: &'t str,
) -> Result<impl Iterator<Item = Result<EntryOf<ConditionSets>, Error>> + 't, Error> {
    Ok(blocks.range((key, prefix, 0)..)?.take_while(move |entry| {
        entry.as_ref().map_or(true, |(found, _)| {
            let (in_scope, term, _) = found.value();
            in_scope == key && term.starts_with(prefix)
        })
    }))
}
