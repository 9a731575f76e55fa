//! snapshot_diff's fingerprints of a table's version: for each row, a 64-bit digest of
//! its key ([`rowdiff::key_digests64`]) and the bits of its row hash, 16 bytes, sorted by
//! digest, in one file beside the table ([`FINGERPRINTS_DIR`]).
//!
//! 64 bits are enough: two keys of one version never share a digest (a version whose
//! keys would is never given prints, and a snapshot that finds one print twice is
//! compared in buckets by 128-bit digests instead), so the one mistake left is a new
//! key taken for a key gone the same night, with a chance of about new × gone / 2^64
//! (3·10^-10 for 229k new and 28k gone keys). 16 bytes a print instead of the 24 of a
//! 128-bit digest: fewer cache lines a lookup, and a third less to write each night.
//!
//! The next business date holds them in memory (reserved from the memory pool) and
//! checks each row of the snapshot as its one pass streams it ([`Probe`]): its key
//! found with the same hash (unchanged), with another (changed), or not found (new).
//! The prints that no row found are the keys gone. No key is bucketed, spilled or read
//! back; the changed rows are taken from the pass itself. The prints of the version
//! the run commits are the old ones, changed, less the gone, merged with the new
//! ([`Checked::write`]).
//!
//! Part of the storage layer, beside rowdiff.rs; materialize.rs is the caller.

use std::collections::HashSet;
use std::sync::Arc;

use bytes::Bytes;
use deltalake::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, RecordBatch};
use deltalake::arrow::datatypes::{DataType, UInt64Type};
use deltalake::datafusion::execution::memory_pool::MemoryReservation;
use deltalake::datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use deltalake::datafusion::physical_plan::SendableRecordBatchStream;
use deltalake::logstore::ObjectStoreRef;
use deltalake::logstore::object_store::buffered::BufWriter;
use deltalake::logstore::object_store::path::Path;
use deltalake::logstore::object_store::{ObjectStore as _, ObjectStoreExt as _};
use futures::StreamExt;

use crate::error::{Error, Result};
use crate::rowdiff;

/// Where lakemart keeps a snapshot_diff table's fingerprints for a version, relative
/// to the table's root. Delta readers and VACUUM leave `_`-prefixed folders alone;
/// lakemart keeps the newest [`KEPT_VERSIONS`].
pub const FINGERPRINTS_DIR: &str = "_lakemart/fingerprints";
/// Versions whose fingerprints are kept: the newest, and the one before it.
const KEPT_VERSIONS: usize = 2;
/// The file's first bytes; the format's version is its last digit. Version 3 holds
/// 64-bit key digests; the description is padded with zeros to a multiple of 8 bytes,
/// so that the prints can be mapped in place ([`Held::map`]).
const MAGIC: &[u8; 8] = b"LMPRINT3";
/// Earlier releases' files (128-bit digests): not used; the prints are made again from
/// the table's rows, once.
const EARLIER: [&[u8; 8]; 2] = [b"LMPRINT1", b"LMPRINT2"];
/// The header before the key's description: magic, print count, written whole, the
/// description's length.
const HEADER: usize = 8 + 8 + 1 + 4;
/// Bytes a print takes, in the file and in memory.
pub const PRINT_BYTES: usize = 16;
/// Prints a directory slot covers on average ([`Fingerprints::index`]): few enough
/// slots that the directory mostly stays in cache (8 MiB at 40M rows), and a guess
/// inside a slot lands a few prints from the one sought ([`Fingerprints::near`]).
const PER_SLOT: usize = 32;

/// One row of a version: its key's digest and its row hash's bits. In memory as in
/// the file (two little-endian words), so a file can be mapped.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(C)]
pub struct Print {
    pub key: u64,
    pub row: u64,
}

/// The prints of a version, sorted by key digest, with a directory on the digest's
/// top bits: a lookup reads one slot of the directory and a few neighbouring prints.
pub struct Fingerprints {
    prints: Held,
    dir: Vec<u32>,
    /// `key >> shift` is a print's slot.
    shift: u32,
    /// Whether the version was written whole (so the next is likely to be).
    pub whole: bool,
}

/// What the key's columns and types are: a file for other keys is not used.
pub fn describe(keys: &[String], types: &[DataType]) -> String {
    keys.iter()
        .zip(types)
        .map(|(k, t)| format!("{k} {t}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Bytes the prints of `rows` rows take in memory, directory included.
pub fn bytes_for(rows: u64) -> usize {
    let rows = rows as usize;
    rows * PRINT_BYTES + 4 * (rows / PER_SLOT).next_power_of_two() + 8
}

/// Why prints were not had.
pub enum Missing {
    /// No file, or one that does not fit the key, or is damaged (logged).
    None,
    /// The memory pool cannot hold them: how many bytes they need.
    TooBig(usize),
}

impl Fingerprints {
    /// `prints`, sorted and unique by key, indexed.
    fn index(prints: Held, whole: bool) -> Fingerprints {
        let bits = (prints.len() / PER_SLOT).next_power_of_two().trailing_zeros().min(24);
        let shift = 64 - bits;
        let slot = |key: u64| key.checked_shr(shift).unwrap_or(0) as usize;
        let mut dir = vec![0u32; (1usize << bits) + 1];
        huge_pages(&mut dir);
        for p in prints.iter() {
            dir[slot(p.key) + 1] += 1;
        }
        for s in 0..(1usize << bits) {
            dir[s + 1] += dir[s];
        }
        Fingerprints {
            prints,
            dir,
            shift,
            whole,
        }
    }

    pub fn len(&self) -> usize {
        self.prints.len()
    }

    pub fn is_empty(&self) -> bool {
        self.prints.is_empty()
    }

    /// Where the print of key digest `key` may be: its directory slot `from..to`, and
    /// a guess inside it (the digests are uniform, so the bits below the slot's say how
    /// far in); `from` for an empty slot.
    fn near(&self, key: u64) -> (usize, usize, usize) {
        let s = key.checked_shr(self.shift).unwrap_or(0) as usize;
        let (from, to) = (self.dir[s] as usize, self.dir[s + 1] as usize);
        let below = key.checked_shl(64 - self.shift).unwrap_or(key) >> 32;
        (from, to, from + ((below * (to - from) as u64) >> 32) as usize)
    }

    /// Where the print of key digest `key` is, searched from `guess` in `from..to`
    /// ([`Fingerprints::near`]).
    fn find(&self, key: u64, (from, to, guess): (usize, usize, usize)) -> Option<usize> {
        let mut at = guess;
        while at > from && self.prints[at - 1].key >= key {
            at -= 1;
        }
        while at < to && self.prints[at].key < key {
            at += 1;
        }
        (at < to && self.prints[at].key == key).then_some(at)
    }

    /// The prints kept for `version` of the table whose key `description` gives
    /// ([`describe`]), their memory reserved from `memory`. When the table is in the
    /// local directory `local`, the file is mapped rather than read.
    pub async fn open(
        store: &ObjectStoreRef,
        version: u64,
        description: &str,
        memory: &MemoryReservation,
        local: Option<&std::path::Path>,
    ) -> Result<std::result::Result<Fingerprints, Missing>> {
        let path = kept_path(version);
        let size = match store.head(&path).await {
            Ok(meta) => meta.size,
            Err(deltalake::ObjectStoreError::NotFound { .. }) => return Ok(Err(Missing::None)),
            Err(e) => return Err(Error::Delta(e.into())),
        };
        let damaged = |why: &str| {
            tracing::warn!("{path}: {why}; the table's keys are read instead");
            Ok(Err(Missing::None))
        };
        let delta = |e: deltalake::ObjectStoreError| Error::Delta(e.into());
        if size < HEADER as u64 {
            return damaged("too short");
        }
        let head = store.get_range(&path, 0..HEADER as u64).await.map_err(delta)?;
        match &head[..8] {
            m if m == MAGIC => {}
            m if EARLIER.iter().any(|e| m == *e) => {
                tracing::info!("{path}: fingerprints of an earlier release; made again from the table's rows");
                return Ok(Err(Missing::None));
            }
            _ => return damaged("not a fingerprint file of this release"),
        }
        let count = u64::from_le_bytes(head[8..16].try_into().unwrap_or_default());
        let whole = head[16] != 0;
        let described = u32::from_le_bytes(head[17..21].try_into().unwrap_or_default()) as u64;
        let text_end = HEADER as u64 + described;
        let start = text_end.next_multiple_of(8);
        if count.checked_mul(PRINT_BYTES as u64).and_then(|b| b.checked_add(start)) != Some(size) {
            return damaged("its size does not match its count");
        }
        let text = store.get_range(&path, HEADER as u64..text_end).await.map_err(delta)?;
        if text.as_ref() != description.as_bytes() {
            // Another key: the table was rebuilt with one since.
            return Ok(Err(Missing::None));
        }
        let need = bytes_for(count);
        if memory.try_grow(need).is_err() {
            return Ok(Err(Missing::TooBig(need)));
        }
        let mapped = local.and_then(|dir| Held::map(&dir.join(path.as_ref()), start, count as usize));
        let prints = match mapped {
            Some(held) => held,
            None => Held::Owned(read_prints(store, &path, start, size, count).await?),
        };
        let sorted = prints.windows(2).all(|w| w[0].key < w[1].key);
        if prints.len() as u64 != count || !sorted {
            memory.shrink(need);
            return damaged("its prints are cut short or out of order");
        }
        Ok(Ok(Fingerprints::index(prints, whole)))
    }

    /// The prints of a table's `(key…, row_hash bits)` rows (`streams`, read side by
    /// side; the first `keys` columns are the key; about `rows` of them), their memory
    /// reserved from `memory`. Missing when they do not fit, or a key is NULL or
    /// repeated (the comparison by buckets then says so).
    pub async fn of_table(
        streams: Vec<SendableRecordBatchStream>,
        keys: usize,
        rows: u64,
        whole: bool,
        memory: &MemoryReservation,
    ) -> Result<std::result::Result<Fingerprints, Missing>> {
        let need = bytes_for(rows);
        if memory.try_grow(need).is_err() {
            return Ok(Err(Missing::TooBig(need)));
        }
        // One vector for all: a vector each, joined, would need twice the memory.
        crate::engine::release_free_heap();
        let mut all = Vec::<Print>::with_capacity(rows as usize);
        huge_pages(&mut all);
        let all = Arc::new(std::sync::Mutex::new(all));
        let stopped = |e: &dyn std::fmt::Display| Error::Internal(format!("reading the table's keys stopped: {e}"));
        let mut tasks = tokio::task::JoinSet::new();
        for mut stream in streams {
            let all = all.clone();
            tasks.spawn(async move {
                let mut prints = Vec::new();
                while let Some(batch) = stream.next().await {
                    let batch = batch?;
                    if batch.columns()[..keys].iter().any(|k| k.null_count() > 0) {
                        return Ok(false);
                    }
                    let hashes = row_bits(batch.column(keys))?;
                    prints.clear();
                    let mut i = 0;
                    rowdiff::key_digests64(&batch.columns()[..keys], |key| {
                        prints.push(Print { key, row: hashes[i] });
                        i += 1;
                    })?;
                    all.lock().map_err(|e| stopped(&e))?.extend_from_slice(&prints);
                }
                Ok::<_, Error>(true)
            });
        }
        let mut fits = true;
        while let Some(done) = tasks.join_next().await {
            fits &= done.map_err(|e| stopped(&e))??;
        }
        let mut all = Arc::into_inner(all)
            .ok_or_else(|| stopped(&"a task outlived its stream"))?
            .into_inner()
            .map_err(|e| stopped(&e))?;
        // More rows than the table's statistics said.
        if !fits || memory.try_resize(bytes_for(all.len() as u64).max(need)).is_err() {
            return Ok(Err(Missing::None));
        }
        all.sort_unstable();
        if all.windows(2).any(|w| w[0].key == w[1].key) {
            // Two keys share a digest, or a key is repeated: the buckets tell which.
            tracing::info!("two of the table's rows share a key digest; comparing keys in buckets");
            return Ok(Err(Missing::None));
        }
        Ok(Ok(Fingerprints::index(Held::Owned(all), whole)))
    }
}

/// Read the `count` prints of the file at `path` (`size` bytes) from byte `start`, in
/// ranges of whole prints (a store's own stream comes in small chunks). Fewer when the
/// file is cut short.
async fn read_prints(store: &ObjectStoreRef, path: &Path, start: u64, size: u64, count: u64) -> Result<Vec<Print>> {
    crate::engine::release_free_heap();
    let mut prints: Vec<Print> = Vec::with_capacity(count as usize);
    huge_pages(&mut prints);
    const RANGE: u64 = (PRINT_BYTES << 21) as u64;
    let mut at = start;
    while at < size {
        let end = (at + RANGE).min(size);
        let bytes = store
            .get_range(path, at..end)
            .await
            .map_err(|e| Error::Delta(e.into()))?;
        if bytes.len() as u64 != end - at {
            break;
        }
        for b in bytes.chunks_exact(PRINT_BYTES) {
            let word = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or_default());
            prints.push(Print {
                key: word(0),
                row: word(8),
            });
        }
        at = end;
    }
    Ok(prints)
}

/// Where a version's prints are held: read into memory, or the kept file mapped (read
/// only: the run's changes to them go to the next version's file).
enum Held {
    Owned(Vec<Print>),
    #[cfg(all(target_os = "linux", target_endian = "little"))]
    Mapped(Mapped),
}

/// A read-only mapping of a prints file: `count` prints from `start` bytes in.
#[cfg(all(target_os = "linux", target_endian = "little"))]
struct Mapped {
    base: *mut std::ffi::c_void,
    len: usize,
    start: usize,
    count: usize,
}

// SAFETY: the mapping is read only and owned by one `Mapped`; it is unmapped once.
#[cfg(all(target_os = "linux", target_endian = "little"))]
unsafe impl Send for Mapped {}
#[cfg(all(target_os = "linux", target_endian = "little"))]
unsafe impl Sync for Mapped {}

#[cfg(all(target_os = "linux", target_endian = "little"))]
unsafe extern "C" {
    fn mmap(
        addr: *mut std::ffi::c_void,
        len: usize,
        prot: i32,
        flags: i32,
        fd: i32,
        offset: i64,
    ) -> *mut std::ffi::c_void;
    fn munmap(addr: *mut std::ffi::c_void, len: usize) -> i32;
}

#[cfg(all(target_os = "linux", target_endian = "little"))]
impl Drop for Mapped {
    fn drop(&mut self) {
        // SAFETY: `base..base + len` is this mapping's, and no slice of it outlives
        // `self` (they borrow the `Held`).
        unsafe {
            munmap(self.base, self.len);
        }
    }
}

impl Held {
    /// The `count` prints of the local file `file`, from byte `start`, mapped in place:
    /// its pages are the page cache's (read ahead while the sources were staged, see
    /// [`read_ahead`]), not copied into fresh memory that the kernel must clear first.
    /// None where that cannot be (another system, a misaligned start, a failed call):
    /// the file is then read.
    #[allow(unused_variables)]
    fn map(file: &std::path::Path, start: u64, count: usize) -> Option<Held> {
        #[cfg(all(target_os = "linux", target_endian = "little"))]
        {
            use std::os::fd::AsRawFd;
            const PROT_READ: i32 = 1;
            const MAP_PRIVATE: i32 = 2;
            const MAP_POPULATE: i32 = 0x8000;
            const MAP_FAILED: isize = -1;
            let start = usize::try_from(start).ok()?;
            if start % align_of::<Print>() != 0 {
                return None;
            }
            let handle = std::fs::File::open(file).ok()?;
            let len = start.checked_add(count.checked_mul(PRINT_BYTES)?)?;
            if handle.metadata().ok()?.len() != len as u64 || len == 0 {
                return None;
            }
            // SAFETY: a new private read-only mapping of a whole file this process has
            // open; the kernel picks the address. The file is never written in place
            // (a run writes another file and renames it), so its bytes do not change
            // under the mapping.
            let base = unsafe {
                mmap(
                    std::ptr::null_mut(),
                    len,
                    PROT_READ,
                    MAP_PRIVATE | MAP_POPULATE,
                    handle.as_raw_fd(),
                    0,
                )
            };
            if base as isize == MAP_FAILED || base.is_null() {
                return None;
            }
            Some(Held::Mapped(Mapped {
                base,
                len,
                start,
                count,
            }))
        }
        #[cfg(not(all(target_os = "linux", target_endian = "little")))]
        None
    }
}

impl std::ops::Deref for Held {
    type Target = [Print];

    fn deref(&self) -> &[Print] {
        match self {
            Held::Owned(v) => v,
            #[cfg(all(target_os = "linux", target_endian = "little"))]
            // SAFETY: `count` prints lie from `start` inside the mapping, which is
            // page-aligned, so they are aligned as `Print` (checked in `map`); `Print`
            // is three `u64` in the file's little-endian order, and any bits are one.
            Held::Mapped(m) => unsafe {
                std::slice::from_raw_parts((m.base as *const u8).add(m.start).cast::<Print>(), m.count)
            },
        }
    }
}

/// Ask Linux to back `v`'s memory with huge pages, before it is first written: a
/// lookup lands on a random page of hundreds of MB, and with 4 kB pages each costs a
/// page-table walk besides its cache miss. A hint: nothing happens where it is not
/// taken.
fn huge_pages<T>(v: &mut Vec<T>) {
    #[cfg(target_os = "linux")]
    {
        unsafe extern "C" {
            fn madvise(addr: *mut std::ffi::c_void, len: usize, advice: i32) -> i32;
        }
        const MADV_HUGEPAGE: i32 = 14;
        const HUGE: usize = 2 << 20;
        let start = v.as_mut_ptr() as usize;
        let end = start + v.capacity() * size_of::<T>();
        let (from, to) = (start.next_multiple_of(HUGE), end / HUGE * HUGE);
        if to > from {
            // SAFETY: advice on whole pages inside this vector's allocation; it changes
            // none of its bytes, and its result is only a hint taken or not.
            unsafe {
                madvise(from as *mut std::ffi::c_void, to - from, MADV_HUGEPAGE);
            }
        }
    }
}

/// The bits of a `(key…, row_hash)` batch's row hashes (`UInt64`).
fn row_bits(a: &ArrayRef) -> Result<&[u64]> {
    Ok(a.as_primitive_opt::<UInt64Type>()
        .ok_or_else(|| Error::Internal("fingerprints take row hash bits (UInt64)".into()))?
        .values())
}

fn kept_path(version: u64) -> Path {
    Path::from(format!("{FINGERPRINTS_DIR}/v{version:020}.bin"))
}

/// What one task's rows found ([`Probe::check`]).
#[derive(Default)]
pub struct Found {
    /// The prints whose row hash changed: where, and the new bits.
    changed: Vec<(u32, u64)>,
    /// Prints of keys not found.
    new: Vec<Print>,
    /// Whether a key came twice.
    repeated: bool,
    /// One bit a print: found by this task's rows.
    seen: Vec<u64>,
}

/// A version's prints, checked against the rows of a snapshot as they stream past,
/// from any number of tasks at once.
pub struct Probe {
    prints: Fingerprints,
}

/// Change types as [`Probe::check`] gives them.
pub const SAME: u8 = 0;
pub const UPDATE: u8 = b'U';
pub const INSERT: u8 = b'I';

impl Probe {
    pub fn new(prints: Fingerprints) -> Probe {
        Probe { prints }
    }

    /// The change of each row of `keys` (one array a column) with row hash bits
    /// `hashes`: [`SAME`], [`UPDATE`] or [`INSERT`]; what they found, into `found`.
    pub fn check(&self, keys: &[ArrayRef], hashes: &ArrayRef, found: &mut Found) -> Result<Vec<u8>> {
        let hashes = row_bits(hashes)?;
        let mut digests: Vec<u64> = Vec::with_capacity(hashes.len());
        rowdiff::key_digests64(keys, |d| digests.push(d))?;
        let mut kinds = vec![SAME; hashes.len()];
        let prints = &self.prints;
        // Each task marks its own bits (an atomic a row would stall every lookup).
        if found.seen.is_empty() {
            found.seen = vec![0; prints.len().div_ceil(64)];
        }
        // Rows a step: the directory slots of a step's rows are read in one loop, the
        // prints guessed and their seen bits in another, so that their cache misses
        // overlap; the search then finds them in cache.
        const STEP: usize = 64;
        let mut near = [(0usize, 0usize, 0usize); STEP];
        let mut touched = [0u64; STEP];
        for ((digests, hashes), kinds) in digests
            .chunks(STEP)
            .zip(hashes.chunks(STEP))
            .zip(kinds.chunks_mut(STEP))
        {
            for (d, n) in digests.iter().zip(near.iter_mut()) {
                *n = prints.near(*d);
            }
            // The search reads the prints either side of the guess (it is a few prints
            // off): their cache lines are loaded here too, with the guess's (two prints
            // either side span 80 bytes: three words, less than a line apart).
            let word = |at: usize, f: fn(&Print) -> u64| prints.prints.get(at).map_or(0, f);
            for (n, t) in near.iter().zip(touched.iter_mut()) {
                *t = word(n.2.saturating_sub(2), |p| p.key)
                    ^ word(n.2, |p| p.row)
                    ^ word(n.2 + 2, |p| p.row)
                    ^ found.seen.get(n.2 / 64).copied().unwrap_or(0);
            }
            std::hint::black_box(&touched);
            for (((d, &row), kind), &n) in digests.iter().zip(hashes).zip(kinds.iter_mut()).zip(&near) {
                let key = *d;
                match prints.find(key, n) {
                    Some(at) => {
                        let (word, bit) = (&mut found.seen[at / 64], 1u64 << (at % 64));
                        found.repeated |= *word & bit != 0;
                        *word |= bit;
                        if prints.prints[at].row != row {
                            found.changed.push((at as u32, row));
                            *kind = UPDATE;
                        }
                    }
                    None => {
                        found.new.push(Print { key, row });
                        *kind = INSERT;
                    }
                }
            }
        }
        Ok(kinds)
    }

    /// Once every row is checked: what the snapshot changes, or None when a key came
    /// twice.
    pub fn finish(self, found: Vec<Found>) -> Option<Checked> {
        let mut new: Vec<Print> = Vec::new();
        let mut changed = Vec::new();
        let Probe { prints } = self;
        let mut seen = vec![0u64; prints.len().div_ceil(64)];
        for f in found {
            // Repeated within one task's rows, or across two tasks'.
            if f.repeated || seen.iter().zip(&f.seen).any(|(a, b)| a & b != 0) {
                return None;
            }
            seen.iter_mut().zip(&f.seen).for_each(|(a, b)| *a |= b);
            changed.extend(f.changed);
            new.extend(f.new);
        }
        new.sort_unstable();
        if new.windows(2).any(|w| w[0].key == w[1].key) {
            return None;
        }
        changed.sort_unstable();
        let gone: HashSet<u64> = prints
            .prints
            .iter()
            .enumerate()
            .filter(|(i, _)| seen[i / 64] & (1 << (i % 64)) == 0)
            .map(|(_, p)| p.key)
            .collect();
        Some(Checked {
            prints,
            seen,
            new,
            hashes: changed,
            gone: Arc::new(gone),
        })
    }
}

/// What a snapshot changes against a version's prints.
pub struct Checked {
    /// The version's prints, as they were.
    prints: Fingerprints,
    seen: Vec<u64>,
    /// The prints whose row hash changed, in order: where, and the new bits.
    hashes: Vec<(u32, u64)>,
    /// Prints of the new keys, sorted.
    new: Vec<Print>,
    /// The key digests of the version that the snapshot no longer has.
    pub gone: Arc<HashSet<u64>>,
}

impl Checked {
    pub fn inserted(&self) -> usize {
        self.new.len()
    }

    /// How many keys changed their row hash.
    pub fn changed(&self) -> usize {
        self.hashes.len()
    }

    /// Write the snapshot's prints (the version's, less the gone, and the new) as
    /// run `run_id`'s file; [`keep`] names it for the version it is committed as.
    pub async fn write(self, store: &ObjectStoreRef, run_id: &str, description: &str, whole: bool) -> Result<Path> {
        let Checked {
            prints,
            seen,
            new,
            hashes,
            ..
        } = self;
        let count = seen.iter().map(|w| w.count_ones() as usize).sum::<usize>() + new.len();
        let (old, mut i, mut j, mut h) = (&prints.prints, 0, 0, 0);
        // The version's prints still seen, with their new hashes, and the new prints,
        // in order of key.
        let merged = std::iter::from_fn(move || {
            while i < old.len() && seen[i / 64] & (1 << (i % 64)) == 0 {
                i += 1;
            }
            let mut o = old.get(i).copied();
            while h < hashes.len() && (hashes[h].0 as usize) < i {
                h += 1;
            }
            if let (Some(p), Some(&(at, row))) = (o.as_mut(), hashes.get(h))
                && at as usize == i
            {
                p.row = row;
            }
            match (o, new.get(j).copied()) {
                (Some(o), Some(n)) if n.key < o.key => {
                    j += 1;
                    Some(n)
                }
                (Some(o), _) => {
                    i += 1;
                    Some(o)
                }
                (None, n) => {
                    j += 1;
                    n
                }
            }
        });
        write_prints(store, run_id, description, whole, count, merged).await
    }
}

impl Fingerprints {
    /// Write these prints as run `run_id`'s file (see [`Checked::write`]).
    pub async fn write(self, store: &ObjectStoreRef, run_id: &str, description: &str) -> Result<Path> {
        let count = self.prints.len();
        let whole = self.whole;
        write_prints(store, run_id, description, whole, count, self.prints.iter().copied()).await
    }
}

/// Write `count` prints, sorted, as run `run_id`'s file of prints.
async fn write_prints(
    store: &ObjectStoreRef,
    run_id: &str,
    description: &str,
    whole: bool,
    count: usize,
    prints: impl Iterator<Item = Print>,
) -> Result<Path> {
    let temp = Path::from(format!("{FINGERPRINTS_DIR}/run-{run_id}.bin"));
    let mut out = BufWriter::new(store.clone(), temp.clone());
    let mut head = Vec::with_capacity(HEADER + description.len());
    head.extend_from_slice(MAGIC);
    head.extend_from_slice(&(count as u64).to_le_bytes());
    head.push(u8::from(whole));
    head.extend_from_slice(&(description.len() as u32).to_le_bytes());
    head.extend_from_slice(description.as_bytes());
    // The prints start at a multiple of 8 bytes, to be mapped in place.
    head.resize(head.len().next_multiple_of(8), 0);
    let written = async {
        out.put(Bytes::from(head)).await?;
        const CHUNK: usize = 1 << 16;
        let mut chunk = Vec::with_capacity(CHUNK * PRINT_BYTES);
        for p in prints {
            chunk.extend_from_slice(&p.key.to_le_bytes());
            chunk.extend_from_slice(&p.row.to_le_bytes());
            if chunk.len() == CHUNK * PRINT_BYTES {
                let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK * PRINT_BYTES));
                out.put(Bytes::from(full)).await?;
            }
        }
        if !chunk.is_empty() {
            out.put(Bytes::from(chunk)).await?;
        }
        futures::future::poll_fn(|cx| tokio::io::AsyncWrite::poll_shutdown(std::pin::Pin::new(&mut out), cx))
            .await
            .map_err(|e| deltalake::ObjectStoreError::Generic {
                store: "fingerprints",
                source: Box::new(e),
            })
    };
    if let Err(e) = written.await {
        let _ = out.abort().await;
        return Err(Error::Delta(e.into()));
    }
    Ok(temp)
}

/// Keep the prints written to `temp` as those of the table's `version`; drop those of
/// all but the newest [`KEPT_VERSIONS`], a crashed run's, and the keys kept by the
/// comparison by buckets ([`rowdiff::KEPT_KEYS_DIR`], and earlier releases'): this
/// table's comparisons now start from its prints. A failure is logged, never the run's
/// error.
pub async fn keep(store: &ObjectStoreRef, temp: &Path, version: u64) {
    if let Err(e) = try_keep(store, temp, version).await {
        tracing::warn!("{temp}: {e}; the fingerprints of version {version} are not kept");
    }
}

async fn try_keep(store: &ObjectStoreRef, temp: &Path, version: u64) -> Result<()> {
    let delta = |e: deltalake::ObjectStoreError| Error::Delta(e.into());
    store.rename(temp, &kept_path(version)).await.map_err(delta)?;
    // Runs hold the lakehouse lock: another run's file is a crashed run's.
    let mut kept = Vec::new();
    let mut listing = store.list(Some(&Path::from(FINGERPRINTS_DIR)));
    while let Some(meta) = listing.next().await {
        let path = meta.map_err(delta)?.location;
        match path.filename() {
            Some(name) if name.starts_with('v') => kept.push(path),
            Some(name) if name.starts_with("run-") => store.delete(&path).await.map_err(delta)?,
            _ => {}
        }
    }
    kept.sort();
    for old in kept.iter().rev().skip(KEPT_VERSIONS) {
        store.delete(old).await.map_err(delta)?;
    }
    for dir in [rowdiff::KEPT_KEYS_DIR, rowdiff::OLD_KEPT_KEYS_DIR] {
        let mut keys = store.list(Some(&Path::from(dir)));
        while let Some(meta) = keys.next().await {
            store.delete(&meta.map_err(delta)?.location).await.map_err(delta)?;
        }
    }
    Ok(())
}

/// Start reading the newest prints kept beside the table at `table` into the
/// operating system's page cache, in the background, when the table is in a local
/// directory: a run stages its sources before its snapshot_diff models, and their
/// prints (about 0.64 GB at 40M rows, a day old, so on disk) are then held from memory
/// (see docs/materializations.md). A hint: nothing happens where it is not taken, and
/// a prints file it reads in vain costs only the reading.
pub fn read_ahead(table: &url::Url) {
    let Ok(root) = table.to_file_path() else {
        return;
    };
    let dir = root.join(FINGERPRINTS_DIR);
    let spawned = std::thread::Builder::new()
        .name("lakemart-read-ahead".into())
        .spawn(move || {
            let newest = std::fs::read_dir(&dir)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with('v') && n.ends_with(".bin"))
                })
                .max();
            if let Some(path) = newest {
                advise_will_need(&path);
            }
        });
    if let Err(e) = spawned {
        tracing::debug!("no read-ahead of {}: {e}", table);
    }
}

/// Ask Linux to read `path` into the page cache. `posix_fadvise(WILLNEED)` reads at
/// most a few MB a call, so the file is advised in ranges of 2 MiB; each call only
/// queues its reads.
fn advise_will_need(path: &std::path::Path) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        unsafe extern "C" {
            fn posix_fadvise(fd: i32, offset: i64, len: i64, advice: i32) -> i32;
        }
        const POSIX_FADV_WILLNEED: i32 = 3;
        const RANGE: i64 = 2 << 20;
        let Ok(file) = std::fs::File::open(path) else {
            return;
        };
        let size = file.metadata().map(|m| m.len() as i64).unwrap_or(0);
        let mut at = 0;
        while at < size {
            // SAFETY: advice on a range of an open file; it changes nothing the program
            // sees, and a failure (its result) only means the advice was not taken.
            if unsafe { posix_fadvise(file.as_raw_fd(), at, RANGE, POSIX_FADV_WILLNEED) } != 0 {
                return;
            }
            at += RANGE;
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = path;
}

/// Delete a run's unkept prints (the run failed before its commit).
pub async fn discard(store: &ObjectStoreRef, temp: &Path) {
    if let Err(e) = store.delete(temp).await {
        tracing::warn!("{temp}: {e}; left for the next run to delete");
    }
}

/// `lakemart_key_in(k1, k2, …)`: whether the key's digest ([`rowdiff::key_digests64`])
/// is one of `set`'s: the rows of keys a snapshot no longer has. Exact on the version
/// the prints are of: no two of its keys share a digest.
pub fn key_in(set: Arc<HashSet<u64>>, keys: Vec<Expr>) -> Expr {
    // One bit for each value of the digests' top bits, set for those of `set`: most
    // keys are turned away by one bit, before a lookup in the set.
    let mut first = vec![0u64; 1 << (FIRST_BITS - 6)];
    for key in set.iter() {
        let b = (key >> (64 - FIRST_BITS)) as usize;
        first[b / 64] |= 1 << (b % 64);
    }
    ScalarUDF::new_from_impl(KeyIn {
        set,
        first,
        signature: Signature::variadic_any(Volatility::Immutable),
    })
    .call(keys)
}

/// The bits of [`KeyIn`]'s first test.
const FIRST_BITS: u32 = 20;

#[derive(Debug)]
struct KeyIn {
    set: Arc<HashSet<u64>>,
    first: Vec<u64>,
    signature: Signature,
}

impl PartialEq for KeyIn {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.set, &other.set)
    }
}

impl Eq for KeyIn {}

impl std::hash::Hash for KeyIn {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (Arc::as_ptr(&self.set) as usize).hash(state);
    }
}

impl ScalarUDFImpl for KeyIn {
    fn name(&self) -> &str {
        "lakemart_key_in"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> deltalake::datafusion::error::Result<DataType> {
        Ok(DataType::Boolean)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> deltalake::datafusion::error::Result<ColumnarValue> {
        let keys = rowdiff::arrays(&args)?;
        let mut found = Vec::with_capacity(args.number_rows);
        rowdiff::key_digests64(&keys, |key| {
            let b = (key >> (64 - FIRST_BITS)) as usize;
            found.push(self.first[b / 64] & (1 << (b % 64)) != 0 && self.set.contains(&key))
        })
        .map_err(|e| deltalake::datafusion::error::DataFusionError::External(Box::new(e)))?;
        Ok(ColumnarValue::Array(Arc::new(BooleanArray::from(found))))
    }
}

/// The rows of `batch` whose `kinds` ([`Probe::check`]) are not [`SAME`], with their
/// `change_type` (`I` or `U`) as one more column, named in `schema`.
pub fn changed_rows(
    batch: &RecordBatch,
    kinds: &[u8],
    schema: &deltalake::arrow::datatypes::SchemaRef,
) -> Result<Option<RecordBatch>> {
    if kinds.iter().all(|&k| k == SAME) {
        return Ok(None);
    }
    let mask = BooleanArray::from_iter(kinds.iter().map(|&k| Some(k != SAME)));
    let picked = deltalake::arrow::compute::filter_record_batch(batch, &mask)?;
    let types = deltalake::arrow::array::StringArray::from_iter_values(
        kinds
            .iter()
            .filter(|&&k| k != SAME)
            .map(|&k| if k == INSERT { "I" } else { "U" }),
    );
    let mut columns = picked.columns().to_vec();
    columns.push(Arc::new(types));
    Ok(Some(RecordBatch::try_new(schema.clone(), columns)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use deltalake::arrow::array::{StringArray, UInt64Array};
    use deltalake::datafusion::execution::memory_pool::{MemoryConsumer, MemoryPool, UnboundedMemoryPool};

    fn keys(k: &[&str]) -> Vec<ArrayRef> {
        vec![Arc::new(StringArray::from(k.to_vec()))]
    }

    fn bits(h: &[u64]) -> ArrayRef {
        Arc::new(UInt64Array::from(h.to_vec()))
    }

    fn prints_of(k: &[&str], h: &[u64]) -> Fingerprints {
        let mut prints = Vec::new();
        let mut i = 0;
        rowdiff::key_digests64(&keys(k), |key| {
            prints.push(Print { key, row: h[i] });
            i += 1;
        })
        .unwrap();
        prints.sort_unstable();
        Fingerprints::index(Held::Owned(prints), true)
    }

    #[tokio::test]
    async fn a_snapshot_is_checked_written_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let store: ObjectStoreRef =
            Arc::new(deltalake::logstore::object_store::local::LocalFileSystem::new_with_prefix(dir.path()).unwrap());
        // 40,000 keys: many directory slots; every 1,000th changes, the first goes,
        // two come new.
        let old_keys: Vec<String> = (0..40_000).map(|i| format!("A{i:05}")).collect();
        let old: Vec<&str> = old_keys.iter().map(String::as_str).collect();
        let probe = Probe::new(prints_of(&old, &vec![7; old.len()]));
        let mut new: Vec<&str> = old[1..].to_vec();
        new.extend(["B1", "B2"]);
        let hashes: Vec<u64> = new
            .iter()
            .enumerate()
            .map(|(i, _)| if i % 1000 == 999 { 8 } else { 7 })
            .collect();
        // Two tasks, each its half.
        let half = new.len() / 2;
        let mut found = vec![Found::default(), Found::default()];
        let a = probe
            .check(&keys(&new[..half]), &bits(&hashes[..half]), &mut found[0])
            .unwrap();
        let b = probe
            .check(&keys(&new[half..]), &bits(&hashes[half..]), &mut found[1])
            .unwrap();
        let kinds: Vec<u8> = a.into_iter().chain(b).collect();
        // Every 1,000th row but the last (B1, new) changed.
        assert_eq!(kinds.iter().filter(|&&k| k == UPDATE).count(), 39);
        assert_eq!(&kinds[kinds.len() - 2..], [INSERT, INSERT]);
        assert_eq!(kinds[998..1001], [SAME, UPDATE, SAME]);
        let checked = probe.finish(found).expect("no key twice");
        assert_eq!((checked.changed(), checked.inserted(), checked.gone.len()), (39, 2, 1));
        let gone = prints_of(&["A00000"], &[0]).prints[0].key;
        assert!(checked.gone.contains(&gone));

        let temp = checked.write(&store, "r1", "k Utf8", false).await.unwrap();
        keep(&store, &temp, 5).await;
        let pool: Arc<dyn MemoryPool> = Arc::new(UnboundedMemoryPool::default());
        let memory = MemoryConsumer::new("test").register(&pool);
        // Mapped in place from the local directory, or read through the store: the same.
        let Ok(again) = Fingerprints::open(&store, 5, "k Utf8", &memory, Some(dir.path()))
            .await
            .unwrap()
        else {
            panic!("not kept")
        };
        #[cfg(all(target_os = "linux", target_endian = "little"))]
        assert!(matches!(again.prints, Held::Mapped(_)));
        let Ok(read) = Fingerprints::open(&store, 5, "k Utf8", &memory, None).await.unwrap() else {
            panic!("not kept")
        };
        assert!(matches!(read.prints, Held::Owned(_)));
        assert_eq!(*again.prints, *read.prints);
        assert_eq!(again.len(), 40_001);
        assert!(!again.whole);
        // The next night: the same rows are all the same; the changed hash holds.
        let probe = Probe::new(again);
        let mut found = vec![Found::default()];
        let kinds = probe.check(&keys(&new), &bits(&hashes), &mut found[0]).unwrap();
        assert!(kinds.iter().all(|&k| k == SAME));
        let checked = probe.finish(found).unwrap();
        assert_eq!((checked.changed(), checked.inserted(), checked.gone.len()), (0, 0, 0));
        // Another key's description, or a version with none: not used.
        assert!(matches!(
            Fingerprints::open(&store, 5, "k Int64", &memory, Some(dir.path()))
                .await
                .unwrap(),
            Err(Missing::None)
        ));
        assert!(matches!(
            Fingerprints::open(&store, 6, "k Utf8", &memory, Some(dir.path()))
                .await
                .unwrap(),
            Err(Missing::None)
        ));
        // A pool too small for them says how much they need.
        let small: Arc<dyn MemoryPool> = Arc::new(
            deltalake::datafusion::execution::memory_pool::GreedyMemoryPool::new(1000),
        );
        let tight = MemoryConsumer::new("test").register(&small);
        assert!(matches!(
            Fingerprints::open(&store, 5, "k Utf8", &tight, None).await.unwrap(),
            Err(Missing::TooBig(n)) if n >= 40_001 * PRINT_BYTES
        ));
    }

    /// Version 7's prints, mapped or read: not used.
    async fn not_used(store: &ObjectStoreRef, description: &str, memory: &MemoryReservation, dir: &std::path::Path) {
        for local in [Some(dir), None] {
            let opened = Fingerprints::open(store, 7, description, memory, local).await.unwrap();
            assert!(matches!(opened, Err(Missing::None)));
        }
    }

    #[tokio::test]
    async fn an_earlier_release_file_and_a_damaged_one_are_not_used() {
        let dir = tempfile::tempdir().unwrap();
        let store: ObjectStoreRef =
            Arc::new(deltalake::logstore::object_store::local::LocalFileSystem::new_with_prefix(dir.path()).unwrap());
        let pool: Arc<dyn MemoryPool> = Arc::new(UnboundedMemoryPool::default());
        let memory = MemoryConsumer::new("test").register(&pool);
        let prints = prints_of(&["A1", "A2", "A3"], &[1, 2, 3]);
        let file = dir.path().join(FINGERPRINTS_DIR);
        std::fs::create_dir_all(&file).unwrap();
        let file = file.join(format!("v{:020}.bin", 7));
        // Format 2 (earlier releases: 128-bit digests, 24 bytes a print): not
        // used, whole and well formed as it is; its memory is not taken.
        let description = "k Utf8";
        let mut bytes = b"LMPRINT2".to_vec();
        bytes.extend_from_slice(&3u64.to_le_bytes());
        bytes.push(1);
        bytes.extend_from_slice(&(description.len() as u32).to_le_bytes());
        bytes.extend_from_slice(description.as_bytes());
        bytes.resize(bytes.len().next_multiple_of(8), 0);
        for p in prints.prints.iter() {
            for w in [p.key, 0, p.row] {
                bytes.extend_from_slice(&w.to_le_bytes());
            }
        }
        std::fs::write(&file, &bytes).unwrap();
        not_used(&store, description, &memory, dir.path()).await;
        assert_eq!(memory.size(), 0);
        // Written again (format 3), read, then damaged: two prints swapped, mapped or read.
        let temp = prints.write(&store, "r7", description).await.unwrap();
        keep(&store, &temp, 7).await;
        let Ok(again) = Fingerprints::open(&store, 7, description, &memory, Some(dir.path()))
            .await
            .unwrap()
        else {
            panic!("a format-3 file is used")
        };
        assert_eq!((again.len(), again.whole), (3, true));
        drop(again);
        memory.shrink(memory.size());
        let mut bytes = std::fs::read(&file).unwrap();
        assert_eq!(&bytes[..8], MAGIC);
        let start = bytes.len() - 3 * PRINT_BYTES;
        assert_eq!(start % 8, 0);
        let (first, second) = bytes[start..].split_at_mut(PRINT_BYTES);
        first.swap_with_slice(&mut second[..PRINT_BYTES]);
        std::fs::write(&file, &bytes).unwrap();
        let held = memory.size();
        not_used(&store, description, &memory, dir.path()).await;
        assert_eq!(memory.size(), held, "a damaged file's memory is given back");
        // The read-ahead of a table's newest prints is only a hint: a table without
        // any, or not in a local directory, is no error.
        read_ahead(&url::Url::from_directory_path(dir.path()).unwrap());
        read_ahead(&url::Url::parse("s3://bucket/table/").unwrap());
        read_ahead(&url::Url::from_directory_path(dir.path().join("none")).unwrap());
    }

    #[test]
    fn a_key_twice_is_not_checked() {
        let probe = Probe::new(prints_of(&["A1", "A2"], &[1, 2]));
        let mut found = vec![Found::default()];
        probe
            .check(&keys(&["A1", "A1", "B1"]), &bits(&[1, 1, 3]), &mut found[0])
            .unwrap();
        assert!(probe.finish(found).is_none());
        let probe = Probe::new(prints_of(&["A1"], &[1]));
        let mut found = vec![Found::default()];
        probe
            .check(&keys(&["B1", "B1"]), &bits(&[1, 2]), &mut found[0])
            .unwrap();
        assert!(probe.finish(found).is_none());
    }
}
