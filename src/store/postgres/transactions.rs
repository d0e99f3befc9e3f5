//! PostgreSQL's transactions at the seam. Each keyhouse table is a table of its own,
//! `kh_<name>` (`key bytea PRIMARY KEY, value bytea`): `bytea` compares as bytes, the
//! seam's order, so a range of keys is an index range. Every statement is prepared once
//! per connection and takes its values as parameters. A write transaction sends its
//! writes a table at a time (`pending`).

use std::cell::{Cell, RefCell, RefMut};
use std::collections::HashMap;
use std::ops::Bound;

use postgres::types::ToSql;
use postgres::{Statement, Transaction};

use super::errors;
use super::listen::{CHANGES_TABLE, CHANNEL, Feed};
use super::pending::{Pending, TableWrites};
use super::read_ahead::Known;
use super::statements::{Edge, Query, Statements, sql};
use crate::error::Error;
use crate::store::kv::{ChunkRead, Entries, Entry, KvRead, KvWrite, chunked};
use crate::store::tables::TableId;

/// Why the last statement of a transaction failed, as the worker must know it: to run a
/// write again after a conflict, or to drop a broken connection.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Failure {
    Conflict,
    Unavailable,
    Other,
}

impl Failure {
    pub(super) fn of(err: &postgres::Error) -> Failure {
        if errors::conflict(err) {
            Failure::Conflict
        } else if errors::unavailable(err) {
            Failure::Unavailable
        } else {
            Failure::Other
        }
    }
}

/// A transaction of one connection, read and written through the seam.
pub(super) struct PgTx<'c> {
    tx: RefCell<Transaction<'c>>,
    statements: &'c RefCell<Statements>,
    failure: Cell<Option<Failure>>,
    pending: RefCell<Pending>,
    /// What a read transaction has read (`read_ahead`); `None` in a write transaction.
    known: Option<RefCell<Known>>,
}

impl<'c> PgTx<'c> {
    /// A write transaction (or one that reads once).
    pub(super) fn new(tx: Transaction<'c>, statements: &'c RefCell<Statements>) -> Self {
        PgTx {
            tx: RefCell::new(tx),
            statements,
            failure: Cell::new(None),
            pending: RefCell::default(),
            known: None,
        }
    }

    /// A read-only transaction, which keeps what it reads (`read_ahead`).
    pub(super) fn reading(tx: Transaction<'c>, statements: &'c RefCell<Statements>) -> Self {
        PgTx {
            known: Some(RefCell::default()),
            ..PgTx::new(tx, statements)
        }
    }

    /// Why a statement failed, if one did.
    pub(super) fn failure(&self) -> Option<Failure> {
        self.failure.get()
    }

    /// Tells every node, at commit, that `node` changed something (`listen`).
    pub(super) fn announce(&self, node: &str, feed: Feed) -> Result<(), Error> {
        let mut tx = self.transaction()?;
        let sent = match feed {
            Feed::Listen => tx.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &node]),
            Feed::Poll => tx.execute(
                &format!(
                    "INSERT INTO {CHANGES_TABLE} (node, seq) VALUES ($1, 1) \
                     ON CONFLICT (node) DO UPDATE \
                     SET seq = {CHANGES_TABLE}.seq + 1, at = now()"
                ),
                &[&node],
            ),
        };
        sent.map(|_| ()).map_err(|err| self.failed(err))
    }

    /// Sends every write this transaction holds back (before it commits).
    pub(super) fn flush(&self) -> Result<(), Error> {
        let all = self.pending.borrow_mut().take_all();
        for (table, writes) in all {
            self.send(table, writes)?;
        }
        Ok(())
    }

    /// Sends the writes `table` holds back, before a read of more than one key.
    fn flush_table(&self, table: TableId) -> Result<(), Error> {
        let writes = self.pending.borrow_mut().take(table);
        match writes {
            Some(writes) => self.send(table, writes),
            None => Ok(()),
        }
    }

    fn send(&self, table: TableId, writes: TableWrites) -> Result<(), Error> {
        let split = writes.split();
        if !split.removed.is_empty() {
            self.query(table, Query::Delete, &[&split.removed])?;
        }
        if !split.keys.is_empty() {
            self.query(table, Query::Upsert, &[&split.keys, &split.values])?;
        }
        Ok(())
    }

    pub(super) fn commit(self) -> Result<(), postgres::Error> {
        self.tx.into_inner().commit()
    }

    /// Runs `query` on `table` with `params`: its rows.
    fn query(
        &self,
        table: TableId,
        query: Query,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<postgres::Row>, Error> {
        let mut tx = self.transaction()?;
        let ran = self
            .statement(&mut tx, table, query)
            .and_then(|statement| tx.query(&statement, params));
        ran.map_err(|err| self.failed(err))
    }

    /// The transaction, for one statement.
    fn transaction(&self) -> Result<RefMut<'_, Transaction<'c>>, Error> {
        self.tx
            .try_borrow_mut()
            .map_err(|_| Error::internal("database: a transaction was used twice at once"))
    }

    /// `err` of a statement, noted as why the transaction failed unless one failed
    /// before: the first failure tells, as the statements after it fail only because
    /// the transaction has failed.
    fn failed(&self, err: postgres::Error) -> Error {
        if self.failure.get().is_none() {
            self.failure.set(Some(Failure::of(&err)));
        }
        Error::from(err)
    }

    fn statement(
        &self,
        tx: &mut Transaction<'c>,
        table: TableId,
        query: Query,
    ) -> Result<Statement, postgres::Error> {
        if let Some(statement) = self.statements.borrow().0.get(&(table, query)) {
            return Ok(statement.clone());
        }
        let statement = tx.prepare(&sql(table, query))?;
        self.statements
            .borrow_mut()
            .0
            .insert((table, query), statement.clone());
        Ok(statement)
    }
}

fn entry(row: &postgres::Row) -> Result<Entry, Error> {
    Ok((row.try_get(0)?, row.try_get(1)?))
}

impl KvRead for PgTx<'_> {
    fn get(&self, table: TableId, key: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        if let Some(written) = self.pending.borrow().get(table, key) {
            return Ok(written);
        }
        if let Some(known) = self.known.as_ref().and_then(|k| k.borrow().get(table, key)) {
            return Ok(known);
        }
        let value = match self.query(table, Query::Get, &[&key])?.first() {
            Some(row) => Some(row.try_get(0)?),
            None => None,
        };
        if let Some(known) = &self.known {
            known.borrow_mut().keep(table, key.to_vec(), value.clone());
        }
        Ok(value)
    }

    fn range(
        &self,
        table: TableId,
        from: Bound<&[u8]>,
        to: Bound<&[u8]>,
    ) -> Result<Entries<'_>, Error> {
        let read = self
            .known
            .as_ref()
            .and_then(|k| k.borrow().range(table, from, to));
        Ok(match read {
            Some(entries) => Box::new(entries.into_iter().map(Ok)),
            None => chunked(self, table, from, to),
        })
    }

    fn last(&self, table: TableId) -> Result<Option<Entry>, Error> {
        self.flush_table(table)?;
        self.query(table, Query::Last, &[])?
            .first()
            .map(entry)
            .transpose()
    }

    fn len(&self, table: TableId) -> Result<u64, Error> {
        self.flush_table(table)?;
        let rows = self.query(table, Query::Len, &[])?;
        let count: i64 = match rows.first() {
            Some(row) => row.try_get(0)?,
            None => 0,
        };
        Ok(count.unsigned_abs())
    }

    fn reads_ahead(&self) -> bool {
        self.known.is_some()
    }

    fn read_ahead(
        &self,
        table: TableId,
        keys: &[Vec<u8>],
        ranges: &[(Vec<u8>, Vec<u8>)],
    ) -> Result<(), Error> {
        let Some(known) = &self.known else {
            return Ok(());
        };
        let keys: Vec<&Vec<u8>> = {
            let known = known.borrow();
            keys.iter().filter(|key| !known.knows(table, key)).collect()
        };
        if !keys.is_empty() {
            let rows = self.query(table, Query::GetMany, &[&keys])?;
            let mut found: HashMap<Vec<u8>, Vec<u8>> =
                rows.iter().map(entry).collect::<Result<_, _>>()?;
            let mut known = known.borrow_mut();
            for key in keys {
                known.keep(table, key.clone(), found.remove(key));
            }
        }
        if !ranges.is_empty() {
            let (from, to): (Vec<&Vec<u8>>, Vec<&Vec<u8>>) =
                ranges.iter().map(|(from, to)| (from, to)).unzip();
            let rows = self.query(table, Query::Ranges, &[&from, &to])?;
            let mut found: Vec<Vec<Entry>> = ranges.iter().map(|_| Vec::new()).collect();
            for row in &rows {
                let number: i64 = row.try_get(0)?;
                let at = usize::try_from(number - 1)
                    .ok()
                    .filter(|at| *at < found.len())
                    .ok_or_else(|| Error::internal("database: a range read ahead of no range"))?;
                found[at].push((row.try_get(1)?, row.try_get(2)?));
            }
            let mut known = known.borrow_mut();
            for ((from, to), entries) in ranges.iter().zip(found) {
                known.keep_range(table, from.clone(), to.clone(), entries);
            }
        }
        Ok(())
    }
}

impl ChunkRead for PgTx<'_> {
    fn chunk(
        &self,
        table: TableId,
        from: Bound<&[u8]>,
        to: Bound<&[u8]>,
        max: usize,
    ) -> Result<Vec<Entry>, Error> {
        self.flush_table(table)?;
        let limit = i64::try_from(max).unwrap_or(i64::MAX);
        let mut params: Vec<&(dyn ToSql + Sync)> = Vec::new();
        let bounds = [from, to];
        for bound in &bounds {
            if let Bound::Included(key) | Bound::Excluded(key) = bound {
                params.push(key);
            }
        }
        params.push(&limit);
        let query = Query::Chunk(Edge::of(from), Edge::of(to));
        self.query(table, query, &params)?
            .iter()
            .map(entry)
            .collect()
    }
}

impl KvWrite for PgTx<'_> {
    fn insert(&self, table: TableId, key: &[u8], value: &[u8]) -> Result<(), Error> {
        self.pending
            .borrow_mut()
            .set(table, key, Some(value.to_vec()));
        Ok(())
    }

    fn remove(&self, table: TableId, key: &[u8]) -> Result<(), Error> {
        self.pending.borrow_mut().set(table, key, None);
        Ok(())
    }
}
