//! Migrations of the file's schema (`schema_version` in the `meta` table), run once at
//! open, before the writer starts and before anything is served.
//!
//! Schema 2 folds back the side tables that schema 1 kept only so that its records'
//! layout stayed as it was: an account's project (`account_scopes_v1`) goes into the
//! account's record (version 2), an audit event's project name (`audit_projects_v1`)
//! into the event's record (version 2); then both tables are deleted. Tables kept apart
//! for a reason stay (`last_used_v1`, `last_seen_v1`: so that use does not change an
//! etag; `audit_scopes_v1`: a project's trail in order).
//!
//! It runs in resumable batches of [`BATCH`] entries, each its own transaction that
//! moves its entries from the side table into their records: the side table is its own
//! progress, so a migration cut short (a crash, a full disk) goes on where it stopped at
//! the next open, and no transaction holds the whole file's changes in memory. The
//! schema version moves to 2 in the last transaction, with the tables' deletion; until
//! then the file is not served, so no read ever sees it half folded. Progress goes to the
//! log after every batch.

#[cfg(test)]
use redb::TableHandle;
use redb::{
    Database, Key, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition,
    TableError, Value,
};

use super::tables::Defined;
use crate::domain::Name;
use crate::error::Error;
use crate::store::reader::SCHEMA_VERSION_KEY;
use crate::store::records::{AccountRecord, AuditRecord, Record, read_record};
use crate::store::tables;

/// Service account id → the name of its project: schema 1's `ACCOUNT_SCOPES`.
const ACCOUNT_SCOPES: TableDefinition<u128, &str> = TableDefinition::new("account_scopes_v1");

/// Sequence number → the project an event's change was made in: schema 1's
/// `AUDIT_PROJECTS`.
const AUDIT_PROJECTS: TableDefinition<u64, &str> = TableDefinition::new("audit_projects_v1");

/// Entries moved per transaction.
const BATCH: usize = 10_000;

/// What a migration did.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Migrated {
    pub accounts: u64,
    pub events: u64,
}

/// Brings a file of schema `found` to the current one.
pub(super) fn run(db: &Database, found: u64) -> Result<Migrated, Error> {
    let mut migrated = Migrated::default();
    if found < 2 {
        migrated = to_schema_2(db, BATCH)?;
    }
    Ok(migrated)
}

fn to_schema_2(db: &Database, batch: usize) -> Result<Migrated, Error> {
    log::info!("migrating the database to schema 2: side tables into the records");
    let accounts = fold(
        db,
        batch,
        "accounts",
        ACCOUNT_SCOPES,
        tables::ACCOUNTS.def(),
        |bytes, project| {
            let project = Name::parse("project", project)
                .map_err(|_| Error::internal("an account's scope is no project name"))?;
            read_record::<AccountRecord>(bytes)?
                .in_project(&project)
                .write()
        },
    )?;
    let events = fold(
        db,
        batch,
        "audit events",
        AUDIT_PROJECTS,
        tables::AUDIT.def(),
        |bytes, project| {
            read_record::<AuditRecord>(bytes)?
                .in_project(project)
                .write()
        },
    )?;
    let write = db.begin_write()?;
    write.delete_table(ACCOUNT_SCOPES)?;
    write.delete_table(AUDIT_PROJECTS)?;
    write
        .open_table(tables::META.def())?
        .insert(SCHEMA_VERSION_KEY, 2)?;
    write.commit()?;
    log::info!(
        "migrated the database to schema 2: {accounts} account(s) and {events} audit \
         event(s) of projects"
    );
    Ok(Migrated { accounts, events })
}

/// Moves every entry of `side` into the record of the same key in `records`, rewritten
/// by `refold`, `batch` entries per transaction; how many it moved. An entry whose
/// record is gone is dropped.
fn fold<K>(
    db: &Database,
    batch: usize,
    what: &str,
    side: TableDefinition<K, &'static str>,
    records: TableDefinition<K, &'static [u8]>,
    refold: impl Fn(&[u8], &str) -> Result<Vec<u8>, Error>,
) -> Result<u64, Error>
where
    K: Key + 'static + for<'a> Value<SelfType<'a> = K> + Copy + std::fmt::Debug,
{
    let total = match db.begin_read()?.open_table(side) {
        Ok(table) => table.len()?,
        Err(TableError::TableDoesNotExist(_)) => return Ok(0),
        Err(err) => return Err(err.into()),
    };
    let mut done = 0;
    loop {
        let write = db.begin_write()?;
        let moved = {
            let mut side = write.open_table(side)?;
            let mut records = write.open_table(records)?;
            let entries = side
                .iter()?
                .take(batch)
                .map(|entry| {
                    let (key, project) = entry?;
                    Ok((key.value(), project.value().to_owned()))
                })
                .collect::<Result<Vec<(K, String)>, Error>>()?;
            for (key, project) in &entries {
                let folded = match records.get(*key)? {
                    Some(bytes) => Some(refold(bytes.value(), project)?),
                    None => None,
                };
                if let Some(folded) = folded {
                    records.insert(*key, folded.as_slice())?;
                }
                side.remove(*key)?;
            }
            entries.len() as u64
        };
        write.commit()?;
        done += moved;
        if moved == 0 {
            return Ok(done);
        }
        log::info!("migrating to schema 2: {done} of {total} {what} folded");
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::domain::{AuditEvent, Scope};
    use crate::store::codec;
    use crate::store::records::{self, StoredAccount, samples};

    fn account_v1(id: u128) -> Vec<u8> {
        let mut account = samples::account("ci-bot");
        account.id = Uuid::from_u128(id);
        AccountRecord::V1((&account).into()).write().unwrap()
    }

    fn event_v1(seq: u64) -> Vec<u8> {
        let mut event = samples::audit_event(None);
        event.seq = seq;
        codec::encode_as(codec::FORMAT_V1, &event).unwrap()
    }

    /// A file of schema 1: accounts 1 and 2 in `payments` (and a side entry of an
    /// account that is gone), account 3 at the root; event 2 of `payments`.
    fn schema_1(path: &std::path::Path) -> Database {
        let db = Database::create(path).unwrap();
        let write = db.begin_write().unwrap();
        {
            let mut accounts = write.open_table(tables::ACCOUNTS.def()).unwrap();
            let mut scopes = write.open_table(ACCOUNT_SCOPES).unwrap();
            for id in [1, 2, 3] {
                accounts.insert(id, account_v1(id).as_slice()).unwrap();
            }
            for id in [1, 2, 99] {
                scopes.insert(id, "payments").unwrap();
            }
            let mut audit = write.open_table(tables::AUDIT.def()).unwrap();
            for seq in [1, 2, 3] {
                audit.insert(seq, event_v1(seq).as_slice()).unwrap();
            }
            let mut projects = write.open_table(AUDIT_PROJECTS).unwrap();
            projects.insert(2, "payments").unwrap();
            let mut meta = write.open_table(tables::META.def()).unwrap();
            meta.insert(SCHEMA_VERSION_KEY, 1).unwrap();
        }
        write.commit().unwrap();
        db
    }

    #[test]
    fn schema_2_folds_the_side_tables_into_the_records_once() {
        let dir = tempfile::tempdir().unwrap();
        let db = schema_1(&dir.path().join("k.redb"));
        let migrated = to_schema_2(&db, 2).unwrap();
        assert_eq!(
            migrated,
            Migrated {
                accounts: 3,
                events: 1
            }
        );

        let read = db.begin_read().unwrap();
        let accounts = read.open_table(tables::ACCOUNTS.def()).unwrap();
        let payments = Scope::Project(Name::parse("p", "payments").unwrap());
        for (id, scope) in [(1, &payments), (2, &payments), (3, &Scope::Root)] {
            let bytes = accounts.get(id).unwrap().unwrap();
            let stored: StoredAccount = records::decode::<AccountRecord, _>(bytes.value()).unwrap();
            assert_eq!(&stored.scope, scope, "account {id}");
            assert_eq!(stored.account.id, Uuid::from_u128(id));
        }
        assert!(accounts.get(99).unwrap().is_none(), "no record is made");
        let audit = read.open_table(tables::AUDIT.def()).unwrap();
        for (seq, project) in [(1, None), (2, Some("payments")), (3, None)] {
            let bytes = audit.get(seq).unwrap().unwrap();
            let event: AuditEvent = records::decode::<AuditRecord, _>(bytes.value()).unwrap();
            assert_eq!(event.project.as_deref(), project, "event {seq}");
        }
        for gone in [ACCOUNT_SCOPES.name(), AUDIT_PROJECTS.name()] {
            assert!(
                read.list_tables().unwrap().all(|t| t.name() != gone),
                "{gone} is deleted"
            );
        }
        let meta = read.open_table(tables::META.def()).unwrap();
        assert_eq!(meta.get(SCHEMA_VERSION_KEY).unwrap().unwrap().value(), 2);
        drop((accounts, audit, meta, read));

        assert_eq!(run(&db, 2).unwrap(), Migrated::default(), "only once");
    }

    /// A migration cut short between batches goes on from where it stopped.
    #[test]
    fn a_migration_cut_short_goes_on_at_the_next_open() {
        let dir = tempfile::tempdir().unwrap();
        let db = schema_1(&dir.path().join("k.redb"));
        let write = db.begin_write().unwrap();
        {
            let mut accounts = write.open_table(tables::ACCOUNTS.def()).unwrap();
            let mut scopes = write.open_table(ACCOUNT_SCOPES).unwrap();
            let bytes = accounts.get(1).unwrap().unwrap().value().to_vec();
            let folded = read_record::<AccountRecord>(&bytes).unwrap();
            let payments = Name::parse("p", "payments").unwrap();
            let folded = folded.in_project(&payments).write().unwrap();
            accounts.insert(1, folded.as_slice()).unwrap();
            scopes.remove(1).unwrap();
        }
        write.commit().unwrap();
        assert_eq!(
            run(&db, 1).unwrap(),
            Migrated {
                accounts: 2,
                events: 1
            }
        );
        let read = db.begin_read().unwrap();
        let accounts = read.open_table(tables::ACCOUNTS.def()).unwrap();
        let bytes = accounts.get(1).unwrap().unwrap();
        let stored: StoredAccount = records::decode::<AccountRecord, _>(bytes.value()).unwrap();
        assert_eq!(stored.scope.project(), Some("payments"));
    }
}
