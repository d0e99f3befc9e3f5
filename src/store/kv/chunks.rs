//! A range read a chunk at a time, for an engine that cannot lend a range while the
//! transaction goes on (redb's write transaction writes between chunks; a database
//! server sends a chunk per query).

use std::collections::VecDeque;
use std::ops::Bound;

use super::{Entries, Entry};
use crate::error::Error;
use crate::store::tables::TableId;

/// Entries read by the first chunk of a range; each next chunk reads twice as many, up
/// to [`MAX_CHUNK`]: most ranges of a write stop after a few entries.
const FIRST_CHUNK: usize = 8;
const MAX_CHUNK: usize = 1_024;

/// What an engine reads a chunk of a range with.
pub(in crate::store) trait ChunkRead {
    /// At most `max` entries of `table` from `from` to `to`, in key order.
    fn chunk(
        &self,
        table: TableId,
        from: Bound<&[u8]>,
        to: Bound<&[u8]>,
        max: usize,
    ) -> Result<Vec<Entry>, Error>;
}

/// The range of `table` from `from` to `to`, read from `tx` a chunk at a time.
pub(in crate::store) fn chunked<'s>(
    tx: &'s dyn ChunkRead,
    table: TableId,
    from: Bound<&[u8]>,
    to: Bound<&[u8]>,
) -> Entries<'s> {
    Box::new(Chunks {
        tx,
        table,
        from: from.map(<[u8]>::to_vec),
        to: to.map(<[u8]>::to_vec),
        held: VecDeque::new(),
        next: FIRST_CHUNK,
        done: false,
    })
}

struct Chunks<'s> {
    tx: &'s dyn ChunkRead,
    table: TableId,
    from: Bound<Vec<u8>>,
    to: Bound<Vec<u8>>,
    held: VecDeque<Entry>,
    next: usize,
    done: bool,
}

impl Iterator for Chunks<'_> {
    type Item = Result<Entry, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.held.is_empty() && !self.done {
            let (from, to, max) = (self.from.as_ref(), self.to.as_ref(), self.next);
            let read = self.tx.chunk(
                self.table,
                from.map(Vec::as_slice),
                to.map(Vec::as_slice),
                max,
            );
            match read {
                Ok(chunk) => {
                    self.done = chunk.len() < max;
                    if let Some((last, _)) = chunk.last() {
                        self.from = Bound::Excluded(last.clone());
                    }
                    self.held.extend(chunk);
                    self.next = (max * 2).min(MAX_CHUNK);
                }
                Err(err) => {
                    self.done = true;
                    return Some(Err(err));
                }
            }
        }
        self.held.pop_front().map(Ok)
    }
}
