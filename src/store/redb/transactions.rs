//! redb's transactions at the seam: each opens a table at its first use and keeps it
//! open until it ends. redb's `open_table` finds the table in the table tree and checks
//! its types by name (some thousands of instructions), and a list page reads several
//! tables for each of its items.

use std::cell::RefCell;
use std::ops::Bound;

use redb::{ReadTransaction, WriteTransaction};

use super::native::{ReadAdapter, WriteAdapter};
use super::tables::{open_read, open_write};
use crate::error::Error;
use crate::store::kv::{ChunkRead, Entries, Entry, KvRead, KvWrite, chunked};
use crate::store::tables::TableId;

/// A read transaction of redb.
pub(super) struct RedbRead {
    tx: ReadTransaction,
    open: RefCell<Vec<Option<Box<dyn ReadAdapter>>>>,
}

impl RedbRead {
    pub(super) fn new(tx: ReadTransaction) -> Self {
        RedbRead {
            tx,
            open: RefCell::new(Vec::new()),
        }
    }

    /// redb's transaction, for what only it can tell (the tables a file holds).
    pub(super) fn transaction(&self) -> &ReadTransaction {
        &self.tx
    }

    /// Runs `f` on `table`, opened at its first use.
    fn with<R>(
        &self,
        table: TableId,
        f: impl FnOnce(&dyn ReadAdapter) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let mut open = self.open.try_borrow_mut().map_err(|_| in_use(table))?;
        f(opened(&mut open, table, || open_read(&self.tx, table))?.as_ref())
    }
}

/// The table `table` among those a transaction opened, opened by `open` at its first
/// use.
fn opened<A>(
    tables: &mut Vec<Option<A>>,
    table: TableId,
    open: impl FnOnce() -> Result<A, Error>,
) -> Result<&mut A, Error> {
    let at = table as usize;
    if tables.len() <= at {
        tables.resize_with(at + 1, || None);
    }
    let slot = &mut tables[at];
    Ok(match slot {
        Some(adapter) => adapter,
        None => slot.insert(open()?),
    })
}

/// A table asked for while a call on it runs: a bug, not a panic.
fn in_use(table: TableId) -> Error {
    Error::internal(format!("the table {} is in use", table.name()))
}

impl KvRead for RedbRead {
    fn get(&self, table: TableId, key: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        self.with(table, |t| t.get(key))
    }

    fn range(
        &self,
        table: TableId,
        from: Bound<&[u8]>,
        to: Bound<&[u8]>,
    ) -> Result<Entries<'_>, Error> {
        self.with(table, |t| t.range(from, to))
    }

    fn last(&self, table: TableId) -> Result<Option<Entry>, Error> {
        self.with(table, |t| t.last())
    }

    fn len(&self, table: TableId) -> Result<u64, Error> {
        self.with(table, |t| t.len())
    }
}

/// A write transaction of redb.
pub(super) struct RedbWrite<'w> {
    tx: &'w WriteTransaction,
    open: RefCell<Vec<Option<Box<dyn WriteAdapter + 'w>>>>,
}

impl<'w> RedbWrite<'w> {
    pub(super) fn new(tx: &'w WriteTransaction) -> Self {
        RedbWrite {
            tx,
            open: RefCell::new(Vec::new()),
        }
    }

    /// Runs `f` on `table`, opened at its first use.
    fn with<R>(
        &self,
        table: TableId,
        f: impl FnOnce(&mut (dyn WriteAdapter + 'w)) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let mut open = self.open.try_borrow_mut().map_err(|_| in_use(table))?;
        f(opened(&mut open, table, || open_write(self.tx, table))?.as_mut())
    }
}

impl KvRead for RedbWrite<'_> {
    fn get(&self, table: TableId, key: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        self.with(table, |t| t.get(key))
    }

    fn range(
        &self,
        table: TableId,
        from: Bound<&[u8]>,
        to: Bound<&[u8]>,
    ) -> Result<Entries<'_>, Error> {
        Ok(chunked(self, table, from, to))
    }

    fn last(&self, table: TableId) -> Result<Option<Entry>, Error> {
        self.with(table, |t| t.last())
    }

    fn len(&self, table: TableId) -> Result<u64, Error> {
        self.with(table, |t| t.len())
    }
}

/// redb lends a range only while it holds the table, and the transaction writes
/// between chunks.
impl ChunkRead for RedbWrite<'_> {
    fn chunk(
        &self,
        table: TableId,
        from: Bound<&[u8]>,
        to: Bound<&[u8]>,
        max: usize,
    ) -> Result<Vec<Entry>, Error> {
        self.with(table, |t| t.chunk(from, to, max))
    }
}

impl KvWrite for RedbWrite<'_> {
    fn insert(&self, table: TableId, key: &[u8], value: &[u8]) -> Result<(), Error> {
        self.with(table, |t| t.insert(key, value))
    }

    fn remove(&self, table: TableId, key: &[u8]) -> Result<(), Error> {
        self.with(table, |t| t.remove(key))
    }
}

#[cfg(test)]
mod tests {
    use std::ops::Bound;

    use redb::Database;

    use super::*;
    use crate::store::kv::{Reader, TableMut};
    use crate::store::tables;
    use crate::store::transaction::Tx;

    /// A write transaction's range reads chunk after growing chunk, each from just past
    /// the last key it gave, and sees writes made between chunks: every entry once, in
    /// order, whatever the chunks' edges.
    #[test]
    fn a_write_range_reads_in_chunks_and_misses_no_entry() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::create(dir.path().join("t.redb")).unwrap();
        let write = db.begin_write().unwrap();
        let redb = RedbWrite::new(&write);
        let tx = Tx::new(&redb);
        let mut audit: TableMut<'_, tables::Audit> = tx.write(tables::AUDIT).unwrap();
        for seq in (0..3_000u64).step_by(2) {
            audit.insert(seq, &b"x"[..]).unwrap();
        }
        let mut seen = Vec::new();
        for entry in redb
            .range(tables::TableId::Audit, Bound::Unbounded, Bound::Unbounded)
            .unwrap()
        {
            let (key, _) = entry.unwrap();
            let seq = u64::from_be_bytes(key.try_into().unwrap());
            seen.push(seq);
            // A write between chunks, ahead of the range: read once it is reached.
            if seq == 10 {
                audit.insert(2_999u64, &b"y"[..]).unwrap();
            }
        }
        let mut expected: Vec<u64> = (0..3_000u64).step_by(2).collect();
        expected.push(2_999);
        expected.sort_unstable();
        assert_eq!(seen, expected);
        assert_eq!(tx.table(tables::AUDIT).unwrap().len().unwrap(), 1_501);
    }
}
