//! Raw redb durable commit rate: the ceiling for keyhouse's write endpoints.
//!
//! Every keyhouse write (creating a service account, issuing a secret, ...) is one redb
//! write transaction with the default durability, so one `fsync` per commit, and redb
//! lets one writer commit at a time. How fast keyhouse can create accounts is therefore
//! bounded by how many durable commits the disk under its database file can do per
//! second, whatever the HTTP layer does. This example measures that bound on its own:
//! it creates a fresh redb database in `DIR`, then commits small write transactions one
//! after another from a single writer for `SECONDS` (default 5), each inserting one
//! 200-byte value under a new pseudo-random `u128` key (the shape of a UUID primary
//! key), and prints the commits per second and the commit latency.
//!
//! `scripts/bench` runs it on the filesystem that holds keyhouse's database and reports
//! keyhouse's create rate as a ratio to it.
//!
//! ```sh
//! cargo run --release --example redb_commit_rate -- /tmp/somewhere 5
//! ```
//!
//! The last line of output is `commits_per_second=N`, for scripts.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use redb::{Database, ReadableDatabase, ReadableTableMetadata, TableDefinition};

const TABLE: TableDefinition<u128, &[u8]> = TableDefinition::new("bench");
const VALUE_BYTES: usize = 200;
const DEFAULT_SECONDS: f64 = 5.0;

/// SplitMix64: distinct, well-spread keys without a dependency.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    // Nearest rank.
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: redb_commit_rate DIR [SECONDS]";
    let dir = PathBuf::from(args.next().ok_or(usage)?);
    let seconds: f64 = match args.next() {
        Some(s) => s
            .parse()
            .map_err(|e| format!("{usage}: SECONDS {s:?}: {e}"))?,
        None => DEFAULT_SECONDS,
    };
    if !(seconds > 0.0 && seconds.is_finite()) {
        return Err(format!("{usage}: SECONDS must be positive").into());
    }

    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("redb_commit_rate-{}.redb", std::process::id()));
    if path.exists() {
        return Err(format!("{} already exists", path.display()).into());
    }
    let db = Database::create(&path)?;

    // Create the table first, so the measured commits all do the same work.
    let tx = db.begin_write()?;
    tx.open_table(TABLE)?;
    tx.commit()?;

    let mut seed = u64::from(std::process::id()) ^ 0x6B65_7968_6F75_7365;
    let mut value = [0u8; VALUE_BYTES];
    let mut latencies = Vec::new();
    let run = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    while start.elapsed() < run {
        let key = (u128::from(splitmix64(&mut seed)) << 64) | u128::from(splitmix64(&mut seed));
        value[..16].copy_from_slice(&key.to_le_bytes());
        let t0 = Instant::now();
        let tx = db.begin_write()?;
        {
            let mut table = tx.open_table(TABLE)?;
            table.insert(key, value.as_slice())?;
        }
        tx.commit()?;
        latencies.push(t0.elapsed());
    }
    let elapsed = start.elapsed();
    let commits = latencies.len();

    // Every commit is really there.
    let stored = db.begin_read()?.open_table(TABLE)?.len()?;
    if stored != commits as u64 {
        return Err(format!("committed {commits} rows but the table holds {stored}").into());
    }
    drop(db);
    std::fs::remove_file(&path)?;

    latencies.sort_unstable();
    let rate = commits as f64 / elapsed.as_secs_f64();
    println!(
        "redb_commit_rate: {commits} commits in {:.2} s (single writer, default durability: \
         fsync per commit, {VALUE_BYTES}-byte value under a new u128 key) in {}",
        elapsed.as_secs_f64(),
        dir.display()
    );
    println!(
        "commit latency ms: p50 {:.3}  p99 {:.3}  max {:.3}",
        ms(percentile(&latencies, 50.0)),
        ms(percentile(&latencies, 99.0)),
        ms(percentile(&latencies, 100.0)),
    );
    println!("commits_per_second={rate:.1}");
    Ok(())
}
