//! The database's tables and schema version, readied before a node serves: under an
//! advisory lock, so that of several nodes starting together one creates the tables and
//! the others find them; a newer schema than this keyhouse knows is refused, as for the
//! redb file.

use std::cell::RefCell;

use postgres::Client;

use super::PostgresOptions;
use super::listen::CHANGES_TABLE;
use super::statements::{Statements, sql_table};
use super::transactions::PgTx;
use crate::error::Error;
use crate::store::kv::{ReadTx, Reader};
use crate::store::reader::SCHEMA_VERSION_KEY;
use crate::store::tables::{self, TableId};
use crate::store::{OpenError, SCHEMA_VERSION};

/// The table of one-time claims (`store::claims`), which every node shares.
pub(super) const CLAIMS_TABLE: &str = "kh_claims";

/// The advisory lock that keyhouse nodes take to ready the schema: "keyhouse" in ASCII.
const SCHEMA_LOCK: i64 = 0x6b65_7968_6f75_7365;

/// Creates the tables that do not exist yet and checks the schema version.
pub(super) fn prepare(client: &mut Client, options: &PostgresOptions) -> Result<(), OpenError> {
    let location = options.location();
    let failed = |source: Error| OpenError::Prepare {
        path: location.clone().into(),
        source,
    };
    let found = ready(client).map_err(failed)?;
    match found {
        Some(found) if found > SCHEMA_VERSION => Err(OpenError::NewerSchema {
            path: location.into(),
            found,
        }),
        // No earlier release wrote to PostgreSQL: a later one adds its migrations here.
        Some(found) if found < SCHEMA_VERSION => Err(failed(Error::internal(format!(
            "the database has schema version {found}, which no release wrote to PostgreSQL"
        )))),
        _ => Ok(()),
    }
}

/// The schema version the database holds, once every table exists.
fn ready(client: &mut Client) -> Result<Option<u64>, Error> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])?;
    // Only the missing tables are created: PostgreSQL asks for the schema's CREATE
    // privilege even for `CREATE TABLE IF NOT EXISTS` of a table that exists, and a
    // node needs that privilege only on the first start and on upgrades.
    let mut names: Vec<String> = TableId::ALL.iter().map(|&t| sql_table(t)).collect();
    names.push(CHANGES_TABLE.to_owned());
    names.push(CLAIMS_TABLE.to_owned());
    let missing = tx.query(
        "SELECT name FROM unnest($1::text[]) AS name WHERE to_regclass(name) IS NULL",
        &[&names],
    )?;
    let mut create = String::new();
    for row in missing {
        let name: String = row.try_get(0)?;
        create.push_str(&match name.as_str() {
            CHANGES_TABLE => format!(
                "CREATE TABLE {name} (node text PRIMARY KEY, seq bigint NOT NULL, \
                 at timestamptz NOT NULL DEFAULT now());"
            ),
            CLAIMS_TABLE => {
                format!("CREATE TABLE {name} (key bytea PRIMARY KEY, expires bigint NOT NULL);")
            }
            _ => format!("CREATE TABLE {name} (key bytea PRIMARY KEY, value bytea NOT NULL);"),
        });
    }
    if !create.is_empty() {
        tx.batch_execute(&create)?;
    }
    // The counters of nodes gone for a week: a node that writes again starts anew.
    tx.execute(
        &format!("DELETE FROM {CHANGES_TABLE} WHERE at < now() - interval '7 days'"),
        &[],
    )?;
    let statements = RefCell::new(Statements::default());
    let kv = PgTx::new(tx, &statements);
    let found = ReadTx(&kv)
        .table(tables::META)?
        .get(SCHEMA_VERSION_KEY)?
        .map(|v| v.value());
    kv.commit()?;
    Ok(found)
}
