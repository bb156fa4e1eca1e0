//! The mock's state on disk (`sharecheck mock --state DIR`): one SQLite database
//! (`DIR/state.sqlite3`, through rusqlite's bundled SQLite) in WAL mode with full sync, held
//! exclusively by one mock.
//!
//! The model stays the state the mock answers from; the store follows it. Under the model's
//! write lock a request hands its changes (`Model::take_writes`) to [`Store::submit`], which
//! numbers them and queues them for the writer thread, so the queue is in the order the model
//! changed. The writer appends whatever has queued up to the log table in one transaction
//! (group commit) and publishes the last number committed. Before any answer leaves,
//! [`Store::settled`] waits until what it may show is committed: for a change, everything
//! submitted so far; for a read of the records filed under one key, the last submission
//! that touched that key (`Touched`), so a read does not wait behind unrelated writes. An
//! answer never shows what a crash could still lose, and an acknowledged write is on disk.
//!
//! The log knows no collection: each entry is (collection, key, record as JSON text, or
//! none for a deletion), for whatever the model declares (`Model::collections`). It only
//! grows at its end, so a write costs the same with ten rows or ten million. Opening replays
//! it into the records of each collection, and rewrites it as one entry per live record when
//! it has grown past twice that.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use rusqlite::{Connection, OptionalExtension, Transaction, params};

pub(crate) use replay::Stored;
use replay::{Replay, Unknown};

use crate::error::StoreError;
use crate::model::{Model, Write};

mod replay;

/// What the `meta` table says a sharecheck state is.
const FORMAT: &str = "sharecheck-state";
/// The layout this build reads and writes (1: a log of JSON documents per kind of record,
/// before every collection was kept).
const LAYOUT: u32 = 2;
/// The database file inside the state directory.
pub(crate) const FILE: &str = "state.sqlite3";
/// Most queued submissions one transaction takes.
const MAX_GROUP: usize = 4096;

const SCHEMA: &str = "
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE log (seq INTEGER PRIMARY KEY, collection TEXT NOT NULL, key TEXT NOT NULL, value TEXT);
";

struct Batch {
    seq: u64,
    writes: Vec<Write>,
}

/// The writer thread's queue and what it has committed.
pub(crate) struct Store {
    path: PathBuf,
    queue: Mutex<Option<mpsc::Sender<Batch>>>,
    submitted: AtomicU64,
    touched: Mutex<Touched>,
    committed: tokio::sync::watch::Receiver<u64>,
    failed: Arc<OnceLock<String>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

/// The last submission that touched each key, for reads that wait only for their own.
#[derive(Default)]
struct Touched {
    by_key: std::collections::HashMap<String, u64>,
    /// The last submission that replaced everything.
    all: u64,
}

impl Touched {
    /// Notes submission `seq`: the keys its writes are filed under (a record of a filed
    /// collection counts for its parent's key). Past 4,096 keys, those committed go.
    fn note(&mut self, writes: &[Write], seq: u64, committed: u64) {
        for w in writes {
            match w {
                Write::Put { key, .. } => {
                    let owner = key.split_once('/').map_or(key.as_str(), |(p, _)| p);
                    match self.by_key.get_mut(owner) {
                        Some(s) => *s = seq,
                        None => {
                            self.by_key.insert(owner.to_string(), seq);
                        }
                    }
                }
                Write::Replace { .. } => self.all = seq,
            }
        }
        if self.by_key.len() > 4096 {
            self.by_key.retain(|_, s| *s > committed);
        }
    }

    /// The submission a read of `key` must see committed.
    fn last(&self, key: &str) -> u64 {
        self.by_key.get(key).copied().unwrap_or(0).max(self.all)
    }
}

/// An opened store, and the records it held (`None` when it was created just now).
pub(crate) struct Opened {
    pub(crate) store: Store,
    pub(crate) state: Option<Stored>,
}

impl Store {
    /// Opens (or creates) the store in `dir` and reads what it holds.
    pub(crate) fn open(dir: &Path) -> Result<Opened, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| io(dir, "create the directory", e))?;
        let path = dir.join(FILE);
        let mut conn = Connection::open(&path).map_err(|e| sql(&path, "open the database", e))?;
        take(&path, &conn)?;
        let fresh = table_count(&path, &conn)? == 0;
        let state = if fresh {
            create(&path, &mut conn)?;
            None
        } else {
            check(&path, &conn)?;
            let replayed = read(&path, &conn)?;
            if replayed.entries > 2 * replayed.live + 1000 {
                compact(&mut conn, &replayed.state)
                    .map_err(|e| sql(&path, "rewrite the log", e))?;
            }
            Some(replayed.state)
        };
        let (done, committed) = tokio::sync::watch::channel(0);
        let (queue, rx) = mpsc::channel();
        let failed = Arc::new(OnceLock::new());
        let writer = {
            let failed = failed.clone();
            std::thread::Builder::new()
                .name("sharecheck-store".into())
                .spawn(move || write_loop(conn, &rx, &done, &failed))
                .map_err(|e| io(&path, "start the writer thread", e))?
        };
        let store = Store {
            path,
            queue: Mutex::new(Some(queue)),
            submitted: AtomicU64::new(0),
            touched: Mutex::default(),
            committed,
            failed,
            writer: Mutex::new(Some(writer)),
        };
        Ok(Opened { store, state })
    }

    /// Queues `writes` (call it under the model's write lock, so the queue keeps the model's
    /// order). Nothing to write queues nothing.
    pub(crate) fn submit(&self, writes: Vec<Write>) {
        if writes.is_empty() {
            return;
        }
        let seq = self.submitted.fetch_add(1, Ordering::AcqRel) + 1;
        self.touched
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .note(&writes, seq, *self.committed.borrow());
        let queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(queue) = &*queue {
            // A writer that stopped on a failure left it in `failed`, which `settled` reports.
            let _ = queue.send(Batch { seq, writes });
        }
    }

    /// Waits until everything submitted so far is committed (`scope` `None`), or what was
    /// submitted for records filed under the key `scope`; the failure that stopped the
    /// writer, if one did.
    pub(crate) async fn settled(&self, scope: Option<&str>) -> Result<(), StoreError> {
        let target = match scope {
            None => self.submitted.load(Ordering::Acquire),
            Some(key) => self
                .touched
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .last(key),
        };
        if *self.committed.borrow() < target {
            let mut committed = self.committed.clone();
            // The sender lives as long as the writer; a stopped writer leaves `failed` set.
            let _ = committed.wait_for(|c| *c >= target).await;
        }
        match self.failed.get() {
            Some(why) => Err(StoreError::Stopped {
                path: self.path.clone(),
                detail: why.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Commits what is queued and closes the database (later writes fail, as after a
    /// failure); the directory can then be opened again.
    pub(crate) fn close(&self) {
        self.queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let writer = self
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(writer) = writer {
            let _ = writer.join();
        }
    }

    /// Where the store is.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.close();
    }
}

fn io(
    path: &Path,
    doing: &'static str,
    e: impl std::error::Error + Send + Sync + 'static,
) -> StoreError {
    StoreError::Io {
        path: path.to_path_buf(),
        doing,
        source: Box::new(e),
    }
}

/// A SQLite failure: "not a database" means damaged, a busy lock another owner.
fn sql(path: &Path, doing: &'static str, e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt) => {
            StoreError::Damaged {
                path: path.to_path_buf(),
                detail: e.to_string(),
            }
        }
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
            StoreError::InUse {
                path: path.to_path_buf(),
            }
        }
        _ => io(path, doing, e),
    }
}

/// WAL with full sync, and the exclusive lock taken now (a second mock gets `InUse`).
fn take(path: &Path, conn: &Connection) -> Result<(), StoreError> {
    conn.pragma_update(None, "locking_mode", "EXCLUSIVE")
        .and_then(|()| conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get::<_, String>(0)))
        .and_then(|_| conn.pragma_update(None, "synchronous", "FULL"))
        // Checkpoints every 32 MiB of write-ahead log rather than every 4 MiB.
        .and_then(|()| conn.pragma_update(None, "wal_autocheckpoint", 8192))
        .and_then(|()| conn.execute_batch("BEGIN IMMEDIATE; COMMIT;"))
        // What a crash left in the write-ahead log goes into the database first: reading a
        // large log through its index is several times slower than reading the database.
        .and_then(|()| conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())))
        .map_err(|e| sql(path, "lock the database", e))
}

fn table_count(path: &Path, conn: &Connection) -> Result<i64, StoreError> {
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
        .map_err(|e| sql(path, "read the schema", e))
}

fn create(path: &Path, conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn
        .transaction()
        .map_err(|e| sql(path, "create the schema", e))?;
    tx.execute_batch(SCHEMA)
        .and_then(|()| {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('format', ?1), ('layout', ?2)",
                params![FORMAT, LAYOUT.to_string()],
            )
        })
        .and_then(|_| tx.commit())
        .map_err(|e| sql(path, "create the schema", e))
}

/// The file must say it is a sharecheck state of this layout, and pass SQLite's check.
fn check(path: &Path, conn: &Connection) -> Result<(), StoreError> {
    let foreign = |found: String| StoreError::Foreign {
        path: path.to_path_buf(),
        found,
        expected: LAYOUT,
    };
    let meta = |key: &str| -> Result<Option<String>, rusqlite::Error> {
        conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
    };
    let format = meta("format")
        .map_err(|_| foreign("a SQLite database without sharecheck's meta table".into()))?;
    if format.as_deref() != Some(FORMAT) {
        return Err(foreign(format!("its format is {format:?}, not {FORMAT:?}")));
    }
    let layout = meta("layout").map_err(|e| sql(path, "read the layout version", e))?;
    if let Some(older) = layout.as_deref().and_then(|l| l.parse::<u32>().ok())
        && older < LAYOUT
    {
        return Err(StoreError::Older {
            path: path.to_path_buf(),
            layout: older,
        });
    }
    if layout.as_deref() != Some(&LAYOUT.to_string()) {
        return Err(foreign(format!(
            "it was written with layout version {}",
            layout.as_deref().unwrap_or("(none)")
        )));
    }
    let verdict: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(|e| sql(path, "check the database", e))?;
    if verdict != "ok" {
        return Err(StoreError::Damaged {
            path: path.to_path_buf(),
            detail: verdict,
        });
    }
    Ok(())
}

fn damaged(path: &Path, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Damaged {
        path: path.to_path_buf(),
        detail: detail.to_string(),
    }
}

/// The records a log replays to, and how long the log is beside them.
struct Replayed {
    state: Stored,
    entries: usize,
    live: usize,
}

/// Replays the log into the records of each collection.
fn read(path: &Path, conn: &Connection) -> Result<Replayed, StoreError> {
    let bad = |e: rusqlite::Error| damaged(path, e);
    let mut replay = Replay::new();
    let mut stmt = conn
        .prepare("SELECT seq, collection, key, value FROM log ORDER BY seq")
        .map_err(bad)?;
    let mut rows = stmt.query([]).map_err(bad)?;
    let mut entries = 0;
    while let Some(row) = rows.next().map_err(bad)? {
        let seq: i64 = row.get(0).map_err(bad)?;
        let collection = row
            .get_ref(1)
            .map_err(bad)?
            .as_str()
            .map_err(|e| bad(e.into()))?;
        let key: String = row.get(2).map_err(bad)?;
        let value: Option<String> = row.get(3).map_err(bad)?;
        replay.apply(collection, key, value).map_err(|Unknown(c)| {
            damaged(
                path,
                format!("log entry {seq} names collection `{c}`, which this build does not keep"),
            )
        })?;
        entries += 1;
    }
    let live = replay.live();
    Ok(Replayed {
        state: replay.finish(),
        entries,
        live,
    })
}

/// Rewrites the log as the live records of `state`, parents first, in one transaction.
fn compact(conn: &mut Connection, state: &Stored) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    tx.execute("DELETE FROM log", [])?;
    for (name, _) in Model::collections() {
        for (key, value) in state.get(name).into_iter().flatten() {
            insert(&tx, name, key, Some(value))?;
        }
    }
    tx.commit()
}

/// The writer thread: commits what queued up, one transaction at a time, until the queue
/// closes or a commit fails (then `failed` says why and nothing more is written).
fn write_loop(
    mut conn: Connection,
    queue: &mpsc::Receiver<Batch>,
    done: &tokio::sync::watch::Sender<u64>,
    failed: &OnceLock<String>,
) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(b) => group.push(b),
                Err(_) => break,
            }
        }
        let last = group.last().map_or(0, |b| b.seq);
        if let Err(e) = commit(&mut conn, &group) {
            let _ = failed.set(e.to_string());
            done.send_replace(u64::MAX);
            return;
        }
        done.send_replace(last);
    }
    let _ = failed.set("it was closed (the mock is stopping)".into());
    done.send_replace(u64::MAX);
}

fn commit(conn: &mut Connection, group: &[Batch]) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    for write in group.iter().flat_map(|b| &b.writes) {
        append(&tx, write)?;
    }
    tx.commit()
}

/// Appends `write` to the log; a replace first empties it.
fn append(tx: &Transaction<'_>, write: &Write) -> rusqlite::Result<()> {
    match write {
        Write::Put {
            collection,
            key,
            value,
        } => insert(tx, collection, key, value.as_deref()),
        Write::Replace { records } => {
            tx.execute("DELETE FROM log", [])?;
            for (collection, key, value) in records {
                insert(tx, collection, key, Some(value))?;
            }
            Ok(())
        }
    }
}

fn insert(
    tx: &Transaction<'_>,
    collection: &str,
    key: &str,
    value: Option<&str>,
) -> rusqlite::Result<()> {
    tx.prepare_cached("INSERT INTO log (collection, key, value) VALUES (?1, ?2, ?3)")?
        .execute(params![collection, key, value])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(collection: &'static str, key: &str) -> Write {
        Write::Put {
            collection,
            key: key.into(),
            value: None,
        }
    }

    #[test]
    fn a_read_waits_only_for_submissions_that_touched_its_key() {
        let mut t = Touched::default();
        t.note(&[put("images", "i1")], 1, 0);
        t.note(&[put("members", "i2/p"), put("tasks", "t")], 2, 0);
        assert_eq!(t.last("i1"), 1);
        assert_eq!(t.last("i2"), 2, "a member row counts for its image");
        assert_eq!(t.last("t"), 2);
        assert_eq!(t.last("i3"), 0, "an untouched key waits for nothing");
        t.note(&[Write::Replace { records: vec![] }], 3, 0);
        assert_eq!(t.last("i3"), 3, "a replace touches every key");
    }

    #[test]
    fn touched_keys_already_committed_are_forgotten_past_the_bound() {
        let mut t = Touched::default();
        for i in 0..5000u64 {
            t.note(&[put("images", &format!("i{i}"))], i + 1, 4000);
        }
        assert!(t.by_key.len() <= 4096, "{}", t.by_key.len());
        assert_eq!(t.last("i4999"), 5000);
    }
}
