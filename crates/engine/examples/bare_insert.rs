//! The limit for ingest: a bare rusqlite insert loop over rows already in memory — no files, no
//! gzip, no JSON, no de-duplication — into a WITHOUT ROWID table keyed (thing, metric, ts), one
//! transaction, same pragmas as the cache. Prints the seconds spent inserting.
//!
//! `cargo run --release --example bare_insert -- DB_FILE [THINGS] [STEPS] [arrival|key]`

use std::time::Instant;

use rusqlite::{params, Connection};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let db = args
        .get(1)
        .ok_or("usage: bare_insert DB_FILE [THINGS] [STEPS] [arrival|key]")?;
    let things: i64 = args.get(2).map_or(Ok(400), |s| s.parse())?;
    let steps: i64 = args.get(3).map_or(Ok(288), |s| s.parse())?;
    let key_order = args.get(4).is_some_and(|m| m == "key");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{db}{suffix}"));
    }
    // Rows in the order the export delivers them (time-major) or sorted by key.
    let mut rows = Vec::with_capacity((things * steps * 6) as usize);
    let mut x: u64 = 42;
    for s in 0..steps {
        for t in 0..things {
            for m in 0..6 {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                rows.push((t, m, 1_780_000_000_000 + s * 300_000, (x >> 44) as i64));
            }
        }
    }
    if key_order {
        rows.sort_unstable();
    }
    let mut conn = Connection::open(db)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "cache_size", -65536)?;
    conn.execute_batch(
        "CREATE TABLE point (thing INTEGER, metric INTEGER, ts INTEGER, version INTEGER, val INTEGER,
         PRIMARY KEY (thing, metric, ts)) WITHOUT ROWID",
    )?;
    let start = Instant::now();
    let tx = conn.transaction()?;
    {
        let mut insert = tx.prepare("INSERT INTO point VALUES (?1, ?2, ?3, 1, ?4)")?;
        for (t, m, ts, v) in &rows {
            insert.execute(params![t, m, ts, v])?;
        }
    }
    tx.commit()?;
    drop(conn);
    println!("{} {:.4}", rows.len(), start.elapsed().as_secs_f64());
    Ok(())
}
