//! The mock's state on disk (`sharecheck mock --state DIR`): one SQLite database
//! (`DIR/state.sqlite3`, through rusqlite's bundled SQLite) in WAL mode with full sync, held
//! exclusively by one mock.
//!
//! The model stays the state the mock answers from; the store follows it. Under the model's
//! write lock a request hands its changes (`Model::take_writes`) to [`Store::submit`], which
//! numbers them and queues them for the writer thread, so the queue is in the order the model
//! changed. The writer commits whatever has queued up in one transaction (group commit) and
//! publishes the last number committed. Before any answer leaves, [`Store::settled`] waits
//! until everything submitted so far is committed: an answer never shows what a crash could
//! still lose, and an acknowledged write is on disk.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::error::StoreError;
use crate::model::{ImageRecord, MemberRecord, Snapshot, TokenRecord, Write};

/// What the `meta` table says a sharecheck state is.
const FORMAT: &str = "sharecheck-state";
/// The layout this build reads and writes.
const LAYOUT: u32 = 1;
/// The database file inside the state directory.
pub(crate) const FILE: &str = "state.sqlite3";
/// Most queued submissions one transaction takes.
const MAX_GROUP: usize = 4096;

const SCHEMA: &str = "
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE images (id TEXT PRIMARY KEY, record TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE members (
    image_id TEXT NOT NULL, member_id TEXT NOT NULL, added_order INTEGER NOT NULL,
    status TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    PRIMARY KEY (image_id, member_id)) WITHOUT ROWID;
CREATE TABLE former (
    image_id TEXT NOT NULL, member_id TEXT NOT NULL, created_at TEXT NOT NULL,
    PRIMARY KEY (image_id, member_id)) WITHOUT ROWID;
CREATE TABLE tokens (seq INTEGER PRIMARY KEY, token TEXT NOT NULL UNIQUE, record TEXT NOT NULL);
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
    committed: tokio::sync::watch::Receiver<u64>,
    failed: Arc<OnceLock<String>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

/// An opened store, and the state it held (`None` when it was created just now).
pub(crate) struct Opened {
    pub(crate) store: Store,
    pub(crate) state: Option<Snapshot>,
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
            Some(read(&path, &conn)?)
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
        let queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(queue) = &*queue {
            // A writer that stopped on a failure left it in `failed`, which `settled` reports.
            let _ = queue.send(Batch { seq, writes });
        }
    }

    /// Waits until everything submitted so far is committed; the failure that stopped the
    /// writer, if one did.
    pub(crate) async fn settled(&self) -> Result<(), String> {
        let target = self.submitted.load(Ordering::Acquire);
        if *self.committed.borrow() < target {
            let mut committed = self.committed.clone();
            // The sender lives as long as the writer; a stopped writer leaves `failed` set.
            let _ = committed.wait_for(|c| *c >= target).await;
        }
        match self.failed.get() {
            Some(why) => Err(format!(
                "the state store {} failed: {why}",
                self.path.display()
            )),
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
        .and_then(|()| conn.execute_batch("BEGIN IMMEDIATE; COMMIT;"))
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

/// The whole state as a snapshot (members with their `added_order`).
fn read(path: &Path, conn: &Connection) -> Result<Snapshot, StoreError> {
    let bad = |e: rusqlite::Error| damaged(path, e);
    let mut images: Vec<ImageRecord> = Vec::new();
    let mut index = std::collections::HashMap::new();
    let mut stmt = conn.prepare("SELECT id, record FROM images").map_err(bad)?;
    let mut rows = stmt.query([]).map_err(bad)?;
    while let Some(row) = rows.next().map_err(bad)? {
        let (id, record): (String, String) = (row.get(0).map_err(bad)?, row.get(1).map_err(bad)?);
        let image: ImageRecord =
            serde_json::from_str(&record).map_err(|e| damaged(path, format!("image {id}: {e}")))?;
        index.insert(id, images.len());
        images.push(image);
    }
    let mut stmt = conn
        .prepare(
            "SELECT image_id, member_id, added_order, status, created_at, updated_at \
             FROM members ORDER BY image_id, added_order",
        )
        .map_err(bad)?;
    let mut rows = stmt.query([]).map_err(bad)?;
    while let Some(row) = rows.next().map_err(bad)? {
        let image_id: String = row.get(0).map_err(bad)?;
        let slot = *index.get(&image_id).ok_or_else(|| {
            damaged(
                path,
                format!("a member row of image {image_id}, which is not there"),
            )
        })?;
        images[slot].members.push(MemberRecord {
            member_id: row.get(1).map_err(bad)?,
            added_order: Some(row.get::<_, i64>(2).map_err(bad)?.max(0) as u64),
            status: row.get(3).map_err(bad)?,
            created_at: row.get(4).map_err(bad)?,
            updated_at: row.get(5).map_err(bad)?,
        });
    }
    let mut stmt = conn
        .prepare("SELECT image_id, member_id, created_at FROM former")
        .map_err(bad)?;
    let mut rows = stmt.query([]).map_err(bad)?;
    while let Some(row) = rows.next().map_err(bad)? {
        let image_id: String = row.get(0).map_err(bad)?;
        let slot = *index.get(&image_id).ok_or_else(|| {
            damaged(
                path,
                format!("a former member of image {image_id}, which is not there"),
            )
        })?;
        images[slot]
            .former_members
            .insert(row.get(1).map_err(bad)?, row.get(2).map_err(bad)?);
    }
    images.sort_by_key(|i| i.created_order);
    let mut tokens = Vec::new();
    let mut stmt = conn
        .prepare("SELECT record FROM tokens ORDER BY seq")
        .map_err(bad)?;
    let mut rows = stmt.query([]).map_err(bad)?;
    while let Some(row) = rows.next().map_err(bad)? {
        let record: String = row.get(0).map_err(bad)?;
        let token: TokenRecord =
            serde_json::from_str(&record).map_err(|e| damaged(path, format!("a token: {e}")))?;
        tokens.push(token);
    }
    Ok(Snapshot {
        images,
        tokens,
        ..Snapshot::empty()
    })
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
        apply(&tx, write)?;
    }
    tx.commit()
}

fn json<T: serde::Serialize>(value: &T) -> rusqlite::Result<String> {
    serde_json::to_string(value).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

fn apply(tx: &Transaction<'_>, write: &Write) -> rusqlite::Result<()> {
    match write {
        Write::Image {
            id,
            record: Some(r),
        } => {
            tx.prepare_cached("INSERT OR REPLACE INTO images (id, record) VALUES (?1, ?2)")?
                .execute(params![id, json(r)?])?;
        }
        Write::Image { id, record: None } => {
            for table in [
                "images WHERE id",
                "members WHERE image_id",
                "former WHERE image_id",
            ] {
                tx.prepare_cached(&format!("DELETE FROM {table} = ?1"))?
                    .execute([id])?;
            }
        }
        Write::Member {
            image,
            member,
            row,
            former,
        } => {
            match row {
                Some(m) => tx
                    .prepare_cached(
                        "INSERT OR REPLACE INTO members (image_id, member_id, added_order, \
                         status, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    )?
                    .execute(params![
                        image,
                        member,
                        m.added_order.unwrap_or(0) as i64,
                        m.status,
                        m.created_at,
                        m.updated_at
                    ])?,
                None => tx
                    .prepare_cached("DELETE FROM members WHERE image_id = ?1 AND member_id = ?2")?
                    .execute([image, member])?,
            };
            match former {
                Some(at) => tx
                    .prepare_cached(
                        "INSERT OR REPLACE INTO former (image_id, member_id, created_at) \
                         VALUES (?1, ?2, ?3)",
                    )?
                    .execute([image, member, at])?,
                None => tx
                    .prepare_cached("DELETE FROM former WHERE image_id = ?1 AND member_id = ?2")?
                    .execute([image, member])?,
            };
        }
        Write::Token {
            token,
            record: Some(r),
        } => {
            tx.prepare_cached(
                "INSERT INTO tokens (token, record) VALUES (?1, ?2) \
                 ON CONFLICT (token) DO UPDATE SET record = excluded.record",
            )?
            .execute(params![token, json(r)?])?;
        }
        Write::Token {
            token,
            record: None,
        } => {
            tx.prepare_cached("DELETE FROM tokens WHERE token = ?1")?
                .execute([token])?;
        }
        Write::Replace(snap) => replace(tx, snap)?,
    }
    Ok(())
}

/// Everything written is replaced by `snap`.
fn replace(tx: &Transaction<'_>, snap: &Snapshot) -> rusqlite::Result<()> {
    tx.execute_batch(
        "DELETE FROM images; DELETE FROM members; DELETE FROM former; DELETE FROM tokens;",
    )?;
    for img in &snap.images {
        let row = ImageRecord {
            members: Vec::new(),
            former_members: Default::default(),
            ..img.clone()
        };
        apply(
            tx,
            &Write::Image {
                id: img.id.clone(),
                record: Some(row),
            },
        )?;
        for m in &img.members {
            apply(
                tx,
                &Write::Member {
                    image: img.id.clone(),
                    member: m.member_id.clone(),
                    row: Some(m.clone()),
                    former: None,
                },
            )?;
        }
        for (member, at) in &img.former_members {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO former (image_id, member_id, created_at) VALUES (?1, ?2, ?3)",
            )?
            .execute([&img.id, member, at])?;
        }
    }
    for t in &snap.tokens {
        apply(
            tx,
            &Write::Token {
                token: t.token.clone(),
                record: Some(t.clone()),
            },
        )?;
    }
    Ok(())
}
