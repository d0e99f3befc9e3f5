//! The SQL of PostgreSQL's transactions at the seam, by what each statement does. Table
//! names come from the list of tables (`tables.rs`), never from a request; every key and
//! value is a parameter.

use std::collections::HashMap;
use std::ops::Bound;

use postgres::Statement;

use crate::store::tables::TableId;

/// The SQL table of a keyhouse table: its name is the list's, never a client's.
pub(super) fn sql_table(table: TableId) -> String {
    format!("kh_{}", table.name())
}

/// A statement, by what it does.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Query {
    Get,
    /// Stores many keys and values, given as two arrays.
    Upsert,
    /// Removes many keys, given as an array.
    Delete,
    /// Reads many keys, given as an array.
    GetMany,
    /// Reads many inclusive ranges, given as two arrays of bounds: each entry with the
    /// number of its range, from 1.
    Ranges,
    Last,
    Len,
    /// A chunk of a range, by the kinds of its two bounds.
    Chunk(Edge, Edge),
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Edge {
    Included,
    Excluded,
    Open,
}

impl Edge {
    pub(super) fn of(bound: Bound<&[u8]>) -> Edge {
        match bound {
            Bound::Included(_) => Edge::Included,
            Bound::Excluded(_) => Edge::Excluded,
            Bound::Unbounded => Edge::Open,
        }
    }
}

pub(super) fn sql(table: TableId, query: Query) -> String {
    let t = sql_table(table);
    match query {
        Query::Get => format!("SELECT value FROM {t} WHERE key = $1"),
        Query::Upsert => format!(
            "INSERT INTO {t} (key, value) \
             SELECT * FROM unnest($1::bytea[], $2::bytea[]) \
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
        ),
        Query::Delete => format!("DELETE FROM {t} WHERE key = ANY($1::bytea[])"),
        Query::GetMany => format!("SELECT key, value FROM {t} WHERE key = ANY($1::bytea[])"),
        Query::Ranges => format!(
            "SELECT r.n, t.key, t.value \
             FROM unnest($1::bytea[], $2::bytea[]) WITH ORDINALITY AS r(lo, hi, n) \
             JOIN {t} t ON t.key >= r.lo AND t.key <= r.hi ORDER BY r.n, t.key"
        ),
        Query::Last => format!("SELECT key, value FROM {t} ORDER BY key DESC LIMIT 1"),
        Query::Len => format!("SELECT count(*) FROM {t}"),
        Query::Chunk(from, to) => {
            let mut conditions = Vec::new();
            let mut at = 0;
            for (edge, included, excluded) in [(from, ">=", ">"), (to, "<=", "<")] {
                let op = match edge {
                    Edge::Included => included,
                    Edge::Excluded => excluded,
                    Edge::Open => continue,
                };
                at += 1;
                conditions.push(format!("key {op} ${at}"));
            }
            let filter = match conditions.is_empty() {
                true => String::new(),
                false => format!("WHERE {}", conditions.join(" AND ")),
            };
            format!(
                "SELECT key, value FROM {t} {filter} ORDER BY key LIMIT ${}",
                at + 1
            )
        }
    }
}

/// A connection's prepared statements; they outlive its transactions.
#[derive(Default)]
pub(super) struct Statements(pub(super) HashMap<(TableId, Query), Statement>);
