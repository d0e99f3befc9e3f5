//! The accounts whose name or display name holds a query of three or more characters,
//! read from the sets of positioned trigrams (`rows::condition_sets`), not from the
//! names: a text holds the query at position p just when it holds the query's i-th
//! trigram at p + i for every i. So the count is exact, and costs the blocks of one
//! trigram's sets, whatever the number of matches.

use redb::ReadTransaction;
use roaring::RoaringBitmap;

use crate::domain::{Scope, Text};
use crate::error::Error;
use crate::store::reader::Reader;
use crate::store::{codec, tables};

/// The numbers of the accounts of `scope` whose name, or display name of its own,
/// holds the text whose trigrams are `trigrams` (in order). The sets of the trigram at
/// `lead` (the rarest) are visited at every position and block; each block is
/// intersected with the same block of the others' sets at their positions.
pub(in crate::store) fn holding_query(
    tx: &ReadTransaction,
    scope: &Scope,
    trigrams: &[String],
    lead: usize,
) -> Result<RoaringBitmap, Error> {
    let Some(leader) = trigrams.get(lead) else {
        return Err(Error::internal("a query's lead is none of its trigrams"));
    };
    let blocks = tx.table(tables::CONDITION_SETS)?;
    let key = scope.key();
    let mut all = RoaringBitmap::new();
    for text in [Text::Name, Text::OwnDisplayName] {
        let prefix = text.trigram_prefix(leader);
        for entry in blocks.range((key, prefix.as_str(), 0)..)? {
            let (found, bytes) = entry?;
            let (in_scope, term, block) = found.value();
            if in_scope != key || !term.starts_with(&prefix) {
                break;
            }
            let at = text
                .position_of(leader, term)
                .ok_or_else(|| Error::internal(format!("the set term {term:?} has no position")))?;
            // Where the query would start; a lead seen before the query could start
            // there matches nothing.
            let Some(start) = at.checked_sub(lead) else {
                continue;
            };
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
    }
    Ok(all)
}
