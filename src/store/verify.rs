//! The offline check of what a database holds (`keyhouse admin check`), the same on every
//! engine: in one read transaction, every entry of every table has its stored form,
//! every record decodes as its kind, every index entry leads to the record it names,
//! and the kept counts match the name indexes. It finds what an engine's own page checks
//! cannot: a row changed or removed by hand in PostgreSQL, or a copy cut short.

use std::collections::{BTreeMap, BTreeSet};

use uuid::Uuid;

use super::kv::{EntryOf, ReadTx};
use super::reader::{self, Reader, SCHEMA_VERSION_KEY};
use super::records::{
    AccountRecord, AuditRecord, CredentialRecord, GroupRecord, ProjectRecord, Record, RoleRecord,
    SigningKeyRecord, read_record,
};
use super::rows::counts::Index;
use super::tables::{self, KnownTable, NameKey, table_list};
use super::{SCHEMA_VERSION, Store};
use crate::error::Error;

/// Problems reported at most: past them, the count alone.
const MAX_SHOWN: usize = 20;

/// What the check read and found.
#[derive(Debug, Default)]
pub struct Verified {
    /// Each table's name and its rows.
    pub tables: Vec<(&'static str, u64)>,
    /// What is not as keyhouse writes it, at most [`MAX_SHOWN`] of them.
    pub problems: Vec<String>,
    /// How many problems were found in all.
    pub found: usize,
}

impl Verified {
    fn problem(&mut self, text: String) {
        self.found += 1;
        if self.problems.len() < MAX_SHOWN {
            self.problems.push(text);
        }
    }
}

impl Store {
    /// Reads everything this store holds, in one read transaction, and checks it.
    pub fn verify(&self) -> Result<Verified, Error> {
        self.read(|tx| {
            let mut verified = Verified::default();
            match reader::meta(tx, SCHEMA_VERSION_KEY)? {
                Some(SCHEMA_VERSION) => {}
                found => verified.problem(format!(
                    "meta_v1: schema version {found:?}, where this keyhouse has {SCHEMA_VERSION}"
                )),
            }
            verified.tables = every_table(tx, &mut verified)?;
            every_record(tx, &mut verified)?;
            indexes(tx, &mut verified)?;
            Ok(verified)
        })
        .wait()
    }
}

/// Reads every entry of `table` in its stored form, handing each to `each`; an entry
/// that does not read is a problem. Its rows.
fn read_table<T: KnownTable>(
    tx: &ReadTx,
    table: T,
    verified: &mut Verified,
    mut each: impl FnMut(&EntryOf<T>, &mut Verified) -> Result<(), Error>,
) -> Result<u64, Error> {
    let mut rows = 0;
    for entry in tx.table(table)?.iter()? {
        rows += 1;
        match entry {
            Ok(entry) => each(&entry, verified)?,
            Err(err) => {
                verified.problem(format!("{}: an entry does not read: {err}", T::ID.name()))
            }
        }
    }
    Ok(rows)
}

macro_rules! read_every_table {
    ($($(#[$doc:meta])* $konst:ident / $marker:ident = $name:literal: <$k:ty, $v:ty>;)*) => {
        /// Every table's name and rows, each entry read in its stored form.
        fn every_table(
            tx: &ReadTx,
            verified: &mut Verified,
        ) -> Result<Vec<(&'static str, u64)>, Error> {
            Ok(vec![$(($name, read_table(tx, tables::$konst, verified, |_, _| Ok(()))?),)*])
        }
    };
}
table_list!(read_every_table);

/// Decodes every record of `table` as the kind `R`.
fn records<R: Record, T: KnownTable<V = &'static [u8]>>(
    tx: &ReadTx,
    table: T,
    verified: &mut Verified,
) -> Result<(), Error> {
    read_table(tx, table, verified, |(_, value), verified| {
        if let Err(err) = read_record::<R>(value.value()) {
            verified.problem(format!("{}: {err}", T::ID.name()));
        }
        Ok(())
    })
    .map(|_| ())
}

fn every_record(tx: &ReadTx, verified: &mut Verified) -> Result<(), Error> {
    records::<AccountRecord, _>(tx, tables::ACCOUNTS, verified)?;
    records::<RoleRecord, _>(tx, tables::ROLES, verified)?;
    records::<GroupRecord, _>(tx, tables::GROUPS, verified)?;
    records::<CredentialRecord, _>(tx, tables::CREDENTIALS, verified)?;
    records::<SigningKeyRecord, _>(tx, tables::SIGNING_KEYS, verified)?;
    records::<AuditRecord, _>(tx, tables::AUDIT, verified)?;
    records::<ProjectRecord, _>(tx, tables::PROJECTS, verified)
}

/// Whether `table` holds `id`.
fn holds(tx: &ReadTx, table: impl KnownTable<K = u128>, id: u128) -> Result<bool, Error> {
    Ok(tx.table(table)?.get(id)?.is_some())
}

/// Checks that each entry of the name index `names` leads to a record of `records`;
/// counts its entries per scope into `counted`.
fn name_index<N: KnownTable<K = NameKey, V = u128>>(
    tx: &ReadTx,
    names: N,
    records: impl KnownTable<K = u128>,
    index: Index,
    counted: &mut BTreeMap<(&'static str, String), u64>,
    verified: &mut Verified,
) -> Result<(), Error> {
    read_table(tx, names, verified, |(key, id), verified| {
        let (scope, name) = key.value();
        *counted.entry((index.key(), scope.to_owned())).or_default() += 1;
        if !holds(tx, records, id.value())? {
            verified.problem(format!(
                "{}: '{name}' in scope '{scope}' names a missing record",
                N::ID.name()
            ));
        }
        Ok(())
    })
    .map(|_| ())
}

/// Index entries lead to their records, and the kept counts match the name indexes.
fn indexes(tx: &ReadTx, verified: &mut Verified) -> Result<(), Error> {
    let mut counted = BTreeMap::new();
    let c = &mut counted;
    name_index(
        tx,
        tables::ACCOUNT_NAMES,
        tables::ACCOUNTS,
        Index::Accounts,
        c,
        verified,
    )?;
    name_index(
        tx,
        tables::GROUP_NAMES,
        tables::GROUPS,
        Index::Groups,
        c,
        verified,
    )?;
    read_table(tx, tables::ROLES, verified, |(key, _), _| {
        let (scope, _) = key.value();
        *c.entry((Index::Roles.key(), scope.to_owned())).or_default() += 1;
        Ok(())
    })?;
    read_table(
        tx,
        tables::GROUP_MEMBERS,
        verified,
        |(key, account), verified| {
            let (group, name) = key.value();
            if !holds(tx, tables::GROUPS, group)? || !holds(tx, tables::ACCOUNTS, account.value())?
            {
                verified.problem(format!(
                    "group_members_v1: '{name}' or its group is missing"
                ));
            }
            Ok(())
        },
    )?;
    read_table(
        tx,
        tables::ACCOUNT_CREDENTIALS,
        verified,
        |(key, _), verified| {
            let (account, credential) = key.value();
            if !holds(tx, tables::CREDENTIALS, credential)?
                || !holds(tx, tables::ACCOUNTS, account)?
            {
                verified.problem(format!(
                    "account_credentials_v1: credential {} or its account is missing",
                    Uuid::from_u128(credential)
                ));
            }
            Ok(())
        },
    )?;
    read_table(tx, tables::SECRET_HASHES, verified, |(_, id), verified| {
        if !holds(tx, tables::CREDENTIALS, id.value())? {
            verified.problem(format!(
                "secret_hashes_v1: a hash names the missing credential {}",
                Uuid::from_u128(id.value())
            ));
        }
        Ok(())
    })?;
    let mut kept = BTreeMap::new();
    read_table(tx, tables::NAME_COUNTS, verified, |(key, count), _| {
        let (index, scope) = key.value();
        kept.insert((index.to_owned(), scope.to_owned()), count.value());
        Ok(())
    })?;
    let counted: BTreeMap<(String, String), u64> = counted
        .into_iter()
        .map(|((index, scope), n)| ((index.to_owned(), scope), n))
        .collect();
    let every: BTreeSet<&(String, String)> = kept.keys().chain(counted.keys()).collect();
    for key in every {
        let held = kept.get(key).copied().unwrap_or(0);
        let found = counted.get(key).copied().unwrap_or(0);
        if held != found {
            let (index, scope) = key;
            verified.problem(format!(
                "name_counts_v1: {index} in scope '{scope}' counted {held} but indexed {found}"
            ));
        }
    }
    Ok(())
}
