//! `keyhouse migrate`: a whole database copied between engines, with the servers of
//! both stopped (or, for PostgreSQL, no node writing to the source).

use std::path::PathBuf;
use std::time::Duration;

use crate::store::{Location, PostgresOptions, Store};

/// Connections a copy uses on a PostgreSQL side: one writes, one reads.
const POOL: usize = 2;

/// Where `text` names: a PostgreSQL connection string (`postgres://`, `postgresql://`,
/// or libpq's `key=value` form), `@FILE` holding one, or else a redb file.
fn location(text: &str, ca_file: &Option<PathBuf>) -> Result<Location, String> {
    let text = match text.strip_prefix('@') {
        Some(file) => std::fs::read_to_string(file)
            .map_err(|err| format!("cannot read {file}: {err}"))?
            .trim()
            .to_owned(),
        None => text.to_owned(),
    };
    let postgres = text.starts_with("postgres://")
        || text.starts_with("postgresql://")
        || text.split_whitespace().all(|part| part.contains('='));
    if !postgres {
        return Ok(Location::File(PathBuf::from(text)));
    }
    Ok(Location::Postgres(PostgresOptions {
        url: text,
        pool_size: POOL,
        connect_timeout: Duration::from_secs(10),
        ca_file: ca_file.clone(),
        // Offline, with the nodes stopped: nothing listens either way.
        poll_changes: false,
    }))
}

pub fn run(from: &str, to: &str, force: bool, ca_file: Option<PathBuf>) -> Result<(), String> {
    let (from, to) = (location(from, &ca_file)?, location(to, &ca_file)?);
    if let (Location::File(a), Location::File(b)) = (&from, &to)
        && a == b
    {
        return Err("--from and --to name the same file".to_owned());
    }
    if let Location::File(path) = &from
        && !path.is_file()
    {
        return Err(format!("{} is not a file", path.display()));
    }
    let source = Store::open_location(&from).map_err(|e| e.to_string())?;
    let target = Store::open_location(&to).map_err(|e| e.to_string())?;
    eprintln!("keyhouse: copying {from} into {to}");
    let copied = source
        .copy_into(&target, force, |table, rows| {
            eprintln!("keyhouse:   {table}: {rows} rows");
        })
        .map_err(|e| e.to_string())?;
    eprintln!(
        "keyhouse: copied {} rows in {} tables; every table's count matches the source",
        copied.rows(),
        copied.tables.len()
    );
    Ok(())
}
