//! The fast cache file, mapped read-only once per process and remapped when adjoind
//! marks it stale (or, when it was missing, at most once a second). A hit reads the
//! mapping with no system call; replaced mappings are unmapped only after a grace period
//! long past any lookup still reading them.

use std::os::fd::AsRawFd;
use std::sync::Mutex;
use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use adjoin_idproto::cache::{CacheView, STALE_OFFSET};

/// How long a replaced mapping stays mapped (no lookup reads one for that long).
const GRACE_SECS: u64 = 30;
/// The timeout without a cache file.
const DEFAULT_TIMEOUT_MS: u32 = 10_000;

/// One mapping of the file.
#[derive(Debug)]
struct Mapping {
    ptr: *const u8,
    len: usize,
}

// SAFETY: the mapping is read-only shared memory; any thread may read it.
unsafe impl Send for Mapping {}
// SAFETY: as above.
unsafe impl Sync for Mapping {}

impl Mapping {
    fn bytes(&self) -> &[u8] {
        // SAFETY: ptr..ptr+len is a live read-only mapping (unmapped only after the grace
        // period, when no reader holds it).
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    fn stale(&self) -> bool {
        if self.len < STALE_OFFSET + 4 {
            return true;
        }
        // SAFETY: the word is inside the mapping and 4-byte aligned (mappings are
        // page-aligned, the offset is 8); adjoind writes it with pwrite, so it is read
        // atomically.
        let word = unsafe { &*self.ptr.add(STALE_OFFSET).cast::<AtomicU32>() };
        word.load(Ordering::Acquire) != 0
    }
}

/// The current mapping (null: none).
static CURRENT: AtomicPtr<Mapping> = AtomicPtr::new(std::ptr::null_mut());
/// When opening last failed (unix seconds), so a missing file costs one open a second.
static LAST_MISS: AtomicU64 = AtomicU64::new(0);
/// Replaced mappings, with when they were replaced.
static RETIRED: Mutex<Vec<(usize, u64)>> = Mutex::new(Vec::new());

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn open() -> Option<*mut Mapping> {
    let path = crate::env_path(
        adjoin_idproto::NSS_CACHE_ENV,
        adjoin_idproto::DEFAULT_NSS_CACHE,
    );
    let file = std::fs::File::open(path).ok()?;
    let len = usize::try_from(file.metadata().ok()?.len()).ok()?;
    if len == 0 {
        return None;
    }
    // SAFETY: a private read-only mapping of a file we opened; the kernel checks the fd.
    let ptr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ,
            libc::MAP_SHARED,
            file.as_raw_fd(),
            0,
        )
    };
    if ptr == libc::MAP_FAILED {
        return None;
    }
    CacheView::new(
        // SAFETY: the mapping just made, of `len` bytes.
        unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) },
    )
    .ok()
    .map(|_| {
        Box::into_raw(Box::new(Mapping {
            ptr: ptr.cast(),
            len,
        }))
    })
    .or_else(|| {
        // SAFETY: unmapping the mapping made above, which nothing else saw.
        unsafe { libc::munmap(ptr, len) };
        None
    })
}

/// Swaps in a fresh mapping (or none) and retires the old one.
fn refresh(old: *mut Mapping) -> *mut Mapping {
    let t = now();
    if old.is_null() && LAST_MISS.load(Ordering::Relaxed) == t {
        return old;
    }
    let new = open().unwrap_or(std::ptr::null_mut());
    if new.is_null() {
        LAST_MISS.store(t, Ordering::Relaxed);
    }
    match CURRENT.compare_exchange(old, new, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => {
            let mut retired = RETIRED.lock().unwrap_or_else(|e| e.into_inner());
            if !old.is_null() {
                retired.push((old as usize, t));
            }
            retired.retain(|&(m, at)| {
                if t.saturating_sub(at) < GRACE_SECS {
                    return true;
                }
                // SAFETY: retired GRACE_SECS ago: no lookup still reads it.
                let m = unsafe { Box::from_raw(m as *mut Mapping) };
                // SAFETY: the mapping this box described, unmapped once.
                unsafe { libc::munmap(m.ptr.cast_mut().cast(), m.len) };
                false
            });
            new
        }
        Err(current) => {
            // Another thread refreshed first: drop ours.
            if !new.is_null() {
                // SAFETY: `new` was never published.
                let m = unsafe { Box::from_raw(new) };
                // SAFETY: its own mapping.
                unsafe { libc::munmap(m.ptr.cast_mut().cast(), m.len) };
            }
            current
        }
    }
}

fn current() -> Option<&'static Mapping> {
    let mut m = CURRENT.load(Ordering::Acquire);
    // SAFETY: a published mapping stays valid for GRACE_SECS after it is replaced.
    if m.is_null() || unsafe { &*m }.stale() {
        m = refresh(m);
    }
    // SAFETY: as above.
    (!m.is_null()).then(|| unsafe { &*m })
}

/// Runs `f` on the cache file's view, if there is a valid one.
pub(crate) fn with_view<T>(f: impl FnOnce(CacheView<'_>) -> Option<T>) -> Option<T> {
    let m = current()?;
    f(CacheView::new(m.bytes()).ok()?)
}

/// How long to wait for adjoind: the cache file's setting, else 10 s.
pub(crate) fn timeout_ms() -> u32 {
    current()
        .and_then(|m| CacheView::new(m.bytes()).ok())
        .map_or(DEFAULT_TIMEOUT_MS, |v| v.nss_timeout_ms())
}
