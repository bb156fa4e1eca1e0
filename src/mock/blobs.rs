//! The blob store: where image data lives, under the key the model gives each upload. In
//! memory, in blocks of at most [`BLOCK`] bytes (memory grows by the stored bytes and, while
//! an upload runs, one block being filled); or as files in a directory (`--state DIR` keeps
//! them in `DIR/blobs`, each written under a temporary name, synced, then renamed).
//!
//! A blob becomes visible only when its writer commits; a writer dropped before that leaves
//! nothing behind.

use std::collections::HashMap;
use std::io::{self, Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use futures_util::stream::{self, Stream};

/// Bytes of a blob, as they are read.
pub(crate) type BlobStream = std::pin::Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send + Sync>>;

/// Largest block of a blob in memory, and of a read from a file.
pub(crate) const BLOCK: usize = 1 << 20;

/// Where image data is kept.
#[derive(Clone)]
pub(crate) enum Blobs {
    /// In this process's memory.
    Memory(Arc<Mutex<HashMap<u64, Arc<[Bytes]>>>>),
    /// One file per blob in this directory.
    Dir(Arc<PathBuf>),
}

/// An upload's bytes on their way into the store.
pub(crate) enum BlobWriter {
    Memory {
        blobs: Blobs,
        key: u64,
        blocks: Vec<Bytes>,
        filling: Vec<u8>,
    },
    File {
        file: io::BufWriter<std::fs::File>,
        part: Part,
        done: PathBuf,
    },
}

/// A file under its temporary name: removed when dropped, unless it was renamed first.
pub(crate) struct Part(PathBuf);

impl Drop for Part {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

impl Blobs {
    /// An empty store in memory.
    pub(crate) fn memory() -> Blobs {
        Blobs::Memory(Arc::default())
    }

    /// The store in `dir` (created if missing), without the blobs `keep` does not name and
    /// any upload a crash cut short.
    pub(crate) fn dir(dir: &Path, keep: &std::collections::HashSet<u64>) -> io::Result<Blobs> {
        std::fs::create_dir_all(dir)?;
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            let key = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.parse::<u64>().ok());
            if key.is_none_or(|k| !keep.contains(&k)) && path.is_file() {
                std::fs::remove_file(&path)?;
            }
        }
        Ok(Blobs::Dir(Arc::new(dir.to_path_buf())))
    }

    /// A writer for blob `key`.
    pub(crate) fn writer(&self, key: u64) -> io::Result<BlobWriter> {
        Ok(match self {
            Blobs::Memory(_) => BlobWriter::Memory {
                blobs: self.clone(),
                key,
                blocks: Vec::new(),
                filling: Vec::new(),
            },
            Blobs::Dir(dir) => {
                let part = dir.join(format!("{key}.part"));
                BlobWriter::File {
                    file: io::BufWriter::with_capacity(BLOCK, std::fs::File::create(&part)?),
                    done: dir.join(key.to_string()),
                    part: Part(part),
                }
            }
        })
    }

    /// `len` bytes of blob `key` from `offset`, as a stream; `None` when there is no such
    /// blob.
    pub(crate) fn read(&self, key: u64, offset: u64, len: u64) -> io::Result<Option<BlobStream>> {
        match self {
            Blobs::Memory(map) => {
                let blocks = map
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get(&key)
                    .cloned();
                Ok(blocks.map(|b| memory_span(b, offset, len)))
            }
            Blobs::Dir(dir) => match std::fs::File::open(dir.join(key.to_string())) {
                Ok(file) => Ok(Some(file_span(file, offset, len)?)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e),
            },
        }
    }

    /// Forgets blob `key` (nothing happens if there is none).
    pub(crate) fn remove(&self, key: u64) {
        match self {
            Blobs::Memory(map) => {
                map.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(&key);
            }
            Blobs::Dir(dir) => {
                let _ = std::fs::remove_file(dir.join(key.to_string()));
            }
        }
    }

    /// Bytes held in memory (0 for a directory).
    #[cfg(test)]
    pub(crate) fn memory_bytes(&self) -> usize {
        match self {
            Blobs::Memory(map) => map
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .values()
                .flat_map(|b| b.iter())
                .map(Bytes::len)
                .sum(),
            Blobs::Dir(_) => 0,
        }
    }
}

impl BlobWriter {
    /// Appends `bytes`.
    pub(crate) fn write(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        match self {
            BlobWriter::Memory {
                blocks, filling, ..
            } => {
                while !bytes.is_empty() {
                    let room = BLOCK - filling.len();
                    let (now, later) = bytes.split_at(bytes.len().min(room));
                    filling.extend_from_slice(now);
                    if filling.len() == BLOCK {
                        blocks.push(Bytes::from(std::mem::take(filling)));
                    }
                    bytes = later;
                }
                Ok(())
            }
            BlobWriter::File { file, .. } => file.write_all(bytes),
        }
    }

    /// Makes the blob visible under its key, on disk for a directory store (synced).
    pub(crate) fn commit(self) -> io::Result<()> {
        match self {
            BlobWriter::Memory {
                blobs,
                key,
                mut blocks,
                mut filling,
            } => {
                if !filling.is_empty() {
                    filling.shrink_to_fit();
                    blocks.push(Bytes::from(filling));
                }
                if let Blobs::Memory(map) = blobs {
                    map.lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .insert(key, blocks.into());
                }
                Ok(())
            }
            BlobWriter::File { file, part, done } => {
                let file = file.into_inner().map_err(io::IntoInnerError::into_error)?;
                file.sync_all()?;
                std::fs::rename(&part.0, &done)?;
                if let Some(dir) = done.parent() {
                    std::fs::File::open(dir)?.sync_all()?;
                }
                Ok(())
            }
        }
    }
}

/// `len` bytes from `offset` of blocks held in memory, without copying them.
fn memory_span(blocks: Arc<[Bytes]>, offset: u64, len: u64) -> BlobStream {
    let mut skip = offset;
    let mut left = len;
    let mut parts = Vec::new();
    for block in blocks.iter() {
        let n = block.len() as u64;
        if skip >= n {
            skip -= n;
            continue;
        }
        if left == 0 {
            break;
        }
        let take = (n - skip).min(left);
        parts.push(Ok(block.slice(skip as usize..(skip + take) as usize)));
        left -= take;
        skip = 0;
    }
    Box::pin(stream::iter(parts))
}

/// `len` bytes from `offset` of a file, read a block at a time off the async threads.
fn file_span(mut file: std::fs::File, offset: u64, len: u64) -> io::Result<BlobStream> {
    file.seek(io::SeekFrom::Start(offset))?;
    let file = Arc::new(Mutex::new(file));
    Ok(Box::pin(stream::unfold(len, move |left| {
        let file = Arc::clone(&file);
        async move {
            if left == 0 {
                return None;
            }
            let want = left.min(BLOCK as u64) as usize;
            let read = tokio::task::spawn_blocking(move || {
                let mut buf = vec![0; want];
                let mut f = file.lock().unwrap_or_else(PoisonError::into_inner);
                f.read_exact(&mut buf).map(|()| Bytes::from(buf))
            })
            .await
            .unwrap_or_else(|e| Err(io::Error::other(e)));
            match read {
                Ok(b) => Some((Ok(b), left - want as u64)),
                Err(e) => Some((Err(e), 0)),
            }
        }
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn all(s: BlobStream) -> Vec<u8> {
        use futures_util::StreamExt as _;
        let parts: Vec<io::Result<Bytes>> = s.collect().await;
        parts
            .into_iter()
            .flat_map(|p| p.unwrap().to_vec())
            .collect()
    }

    fn data(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i % 251) as u8).collect()
    }

    async fn round_trip(blobs: &Blobs) {
        let bytes = data(BLOCK * 2 + 12345);
        let mut w = blobs.writer(7).unwrap();
        for chunk in bytes.chunks(65536 + 3) {
            w.write(chunk).unwrap();
        }
        assert!(
            blobs.read(7, 0, 1).unwrap().is_none(),
            "visible before commit"
        );
        w.commit().unwrap();
        let whole = all(blobs.read(7, 0, bytes.len() as u64).unwrap().unwrap()).await;
        assert_eq!(whole, bytes);
        let (a, n) = (BLOCK as u64 - 5, BLOCK as u64 + 10);
        let part = all(blobs.read(7, a, n).unwrap().unwrap()).await;
        assert_eq!(part, bytes[a as usize..(a + n) as usize]);
        blobs.remove(7);
        assert!(blobs.read(7, 0, 1).unwrap().is_none());
    }

    #[tokio::test]
    async fn memory_blobs_keep_the_bytes_without_spare_room() {
        let blobs = Blobs::memory();
        let mut w = blobs.writer(1).unwrap();
        w.write(b"hello world").unwrap();
        w.commit().unwrap();
        assert_eq!(blobs.memory_bytes(), 11);
        let dropped = blobs.writer(2).unwrap();
        drop(dropped);
        assert!(blobs.read(2, 0, 0).unwrap().is_none());
        round_trip(&blobs).await;
    }

    #[tokio::test]
    async fn directory_blobs_survive_and_stray_files_go() {
        let dir = tempfile::tempdir().unwrap();
        let keep: std::collections::HashSet<u64> = [7].into();
        std::fs::write(dir.path().join("3"), b"orphan").unwrap();
        std::fs::write(dir.path().join("9.part"), b"cut short").unwrap();
        let blobs = Blobs::dir(dir.path(), &keep).unwrap();
        assert!(!dir.path().join("3").exists() && !dir.path().join("9.part").exists());
        let w = blobs.writer(5).unwrap();
        assert!(dir.path().join("5.part").exists());
        drop(w);
        assert!(
            !dir.path().join("5.part").exists(),
            "a dropped writer leaves nothing"
        );
        round_trip(&blobs).await;
    }
}
