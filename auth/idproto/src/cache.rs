//! The NSS fast cache file: what libnss_adjoin answers a warm lookup from without a
//! socket round trip. adjoind writes a whole new file and renames it into place, then
//! sets the STALE word of the old one, so processes that still map the old file reopen.
//!
//! ```text
//! 0   magic "ADJNSS01"
//! 8   u32 stale (nonzero: reopen the file)
//! 12  u32 nss_timeout_ms (how long the module waits for the daemon)
//! 16  5 x (u32 offset, u32 count) of the index tables, in this order:
//!       users by name, users by uid, groups by name, groups by gid, group lists by name
//! 56  records and tables
//! name index entry (16 bytes): u64 FNV-1a of the key | u32 key offset | u32 record offset
//!     (sorted by hash; the key at its offset is u32 length | UTF-8)
//! id index entry (8 bytes):    u32 id | u32 record offset (sorted by id)
//! user record:   u64 expires | passwd fields as on the wire (name uid gid gecos dir shell)
//! group record:  u64 expires | name | u32 gid | members
//! gids record:   u64 expires | u32 count | u32 gids...
//! ```
//! Every offset and length is checked on read: a damaged or hostile file gives misses,
//! never a panic or a read out of bounds.

use crate::wire::{Reader, Writer};
use crate::{Group, Passwd, ProtoError};

/// The file's first 8 bytes.
pub const CACHE_MAGIC: [u8; 8] = *b"ADJNSS01";
/// Where the u32 STALE word is.
pub const STALE_OFFSET: usize = 8;
const TIMEOUT_OFFSET: usize = 12;
const TABLES_OFFSET: usize = 16;
const TABLES: usize = 5;
const HEADER: usize = TABLES_OFFSET + TABLES * 8;
const NAME_ENTRY: usize = 16;
const ID_ENTRY: usize = 8;

const USER_NAMES: usize = 0;
const USER_IDS: usize = 1;
const GROUP_NAMES: usize = 2;
const GROUP_IDS: usize = 3;
const GID_LISTS: usize = 4;

/// FNV-1a, 64 bits: stable across processes and builds.
fn hash(key: &str) -> u64 {
    key.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Builds a cache file.
#[derive(Debug)]
pub struct CacheBuilder {
    timeout_ms: u32,
    records: Writer,
    names: [Vec<(String, u32)>; TABLES],
    ids: [Vec<(u32, u32)>; TABLES],
}

impl CacheBuilder {
    /// An empty file whose readers wait `nss_timeout_ms` for the daemon.
    pub fn new(nss_timeout_ms: u32) -> Self {
        let mut records = Writer::default();
        records.bytes.resize(HEADER, 0);
        Self {
            timeout_ms: nss_timeout_ms,
            records,
            names: Default::default(),
            ids: Default::default(),
        }
    }

    fn offset(&self) -> u32 {
        u32::try_from(self.records.bytes.len()).unwrap_or(u32::MAX)
    }

    fn index_names(&mut self, table: usize, keys: &[String], at: u32) {
        for k in keys {
            self.names[table].push((k.clone(), at));
        }
    }

    /// A user under every key in `keys` (already passed through `name_key`) and her uid.
    pub fn add_user(&mut self, keys: &[String], pw: &Passwd, expires: u64) {
        let at = self.offset();
        self.records.bytes.extend_from_slice(&expires.to_le_bytes());
        let w = &mut self.records;
        w.string(&pw.name);
        w.u32(pw.uid);
        w.u32(pw.gid);
        w.string(&pw.gecos);
        w.string(&pw.dir);
        w.string(&pw.shell);
        self.index_names(USER_NAMES, keys, at);
        self.ids[USER_IDS].push((pw.uid, at));
    }

    /// A group under every key in `keys` and its gid.
    pub fn add_group(&mut self, keys: &[String], gr: &Group, expires: u64) {
        let at = self.offset();
        self.records.bytes.extend_from_slice(&expires.to_le_bytes());
        self.records.string(&gr.name);
        self.records.u32(gr.gid);
        self.records.strings(&gr.members);
        self.index_names(GROUP_NAMES, keys, at);
        self.ids[GROUP_IDS].push((gr.gid, at));
    }

    /// A user's gids (initgroups) under every key in `keys`.
    pub fn add_initgroups(&mut self, keys: &[String], gids: &[u32], expires: u64) {
        let at = self.offset();
        self.records.bytes.extend_from_slice(&expires.to_le_bytes());
        self.records.u32s(gids);
        self.index_names(GID_LISTS, keys, at);
    }

    /// The file's bytes.
    pub fn build(&self) -> Vec<u8> {
        let mut out = Writer {
            bytes: self.records.bytes.clone(),
        };
        out.bytes[..8].copy_from_slice(&CACHE_MAGIC);
        out.bytes[TIMEOUT_OFFSET..TIMEOUT_OFFSET + 4]
            .copy_from_slice(&self.timeout_ms.to_le_bytes());
        for table in 0..TABLES {
            let at = u32::try_from(out.bytes.len()).unwrap_or(u32::MAX);
            let count = if matches!(table, USER_IDS | GROUP_IDS) {
                let mut ids = self.ids[table].clone();
                ids.sort_unstable();
                ids.dedup_by_key(|(id, _)| *id);
                for (id, rec) in &ids {
                    out.u32(*id);
                    out.u32(*rec);
                }
                ids.len()
            } else {
                // Keys first, then the index that points at them.
                let mut entries: Vec<(u64, u32, u32)> = Vec::with_capacity(self.names[table].len());
                for (key, rec) in &self.names[table] {
                    let key_at = u32::try_from(out.bytes.len()).unwrap_or(u32::MAX);
                    out.string(key);
                    entries.push((hash(key), key_at, *rec));
                }
                entries.sort_unstable_by_key(|e| e.0);
                let at = u32::try_from(out.bytes.len()).unwrap_or(u32::MAX);
                for (h, key_at, rec) in &entries {
                    out.bytes.extend_from_slice(&h.to_le_bytes());
                    out.u32(*key_at);
                    out.u32(*rec);
                }
                let slot = TABLES_OFFSET + table * 8;
                out.bytes[slot..slot + 4].copy_from_slice(&at.to_le_bytes());
                out.bytes[slot + 4..slot + 8]
                    .copy_from_slice(&u32::try_from(entries.len()).unwrap_or(0).to_le_bytes());
                continue;
            };
            let slot = TABLES_OFFSET + table * 8;
            out.bytes[slot..slot + 4].copy_from_slice(&at.to_le_bytes());
            out.bytes[slot + 4..slot + 8]
                .copy_from_slice(&u32::try_from(count).unwrap_or(0).to_le_bytes());
        }
        out.bytes
    }
}

/// A read-only view of a cache file.
#[derive(Debug, Clone, Copy)]
pub struct CacheView<'a> {
    bytes: &'a [u8],
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    let s = b.get(at..at.checked_add(8)?)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Some(u64::from_le_bytes(a))
}

impl<'a> CacheView<'a> {
    /// A view over `bytes` (a mapping of the file); checks the magic and the header.
    pub fn new(bytes: &'a [u8]) -> Result<Self, ProtoError> {
        if bytes.len() < HEADER {
            return Err(ProtoError::Truncated);
        }
        if bytes[..8] != CACHE_MAGIC {
            return Err(ProtoError::BadValue);
        }
        Ok(Self { bytes })
    }

    /// How long the module waits for the daemon.
    pub fn nss_timeout_ms(&self) -> u32 {
        u32_at(self.bytes, TIMEOUT_OFFSET).unwrap_or(10_000)
    }

    /// True when the daemon replaced this file: reopen it.
    pub fn stale(&self) -> bool {
        u32_at(self.bytes, STALE_OFFSET).is_some_and(|v| v != 0)
    }

    fn table(&self, table: usize, entry: usize) -> Option<&'a [u8]> {
        let slot = TABLES_OFFSET + table * 8;
        let at = u32_at(self.bytes, slot)? as usize;
        let count = u32_at(self.bytes, slot + 4)? as usize;
        self.bytes
            .get(at..at.checked_add(count.checked_mul(entry)?)?)
    }

    fn key(&self, at: usize) -> Option<&'a [u8]> {
        let len = u32_at(self.bytes, at)? as usize;
        self.bytes.get(at + 4..(at + 4).checked_add(len)?)
    }

    /// The record offset of `key` in a name table.
    fn find_name(&self, table: usize, key: &str) -> Option<usize> {
        let t = self.table(table, NAME_ENTRY)?;
        let n = t.len() / NAME_ENTRY;
        let h = hash(key);
        let hash_of = |i: usize| u64_at(t, i * NAME_ENTRY);
        // First entry with this hash.
        let (mut lo, mut hi) = (0, n);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if hash_of(mid)? < h {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let mut i = lo;
        while i < n && hash_of(i)? == h {
            let key_at = u32_at(t, i * NAME_ENTRY + 8)? as usize;
            if self.key(key_at)? == key.as_bytes() {
                return Some(u32_at(t, i * NAME_ENTRY + 12)? as usize);
            }
            i += 1;
        }
        None
    }

    fn find_id(&self, table: usize, id: u32) -> Option<usize> {
        let t = self.table(table, ID_ENTRY)?;
        let n = t.len() / ID_ENTRY;
        let (mut lo, mut hi) = (0, n);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let got = u32_at(t, mid * ID_ENTRY)?;
            match got.cmp(&id) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(u32_at(t, mid * ID_ENTRY + 4)? as usize),
            }
        }
        None
    }

    /// A fresh record's fields (after its expiry).
    fn record(&self, at: usize, now: u64) -> Option<Reader<'a>> {
        let expires = u64_at(self.bytes, at)?;
        (now < expires).then(|| Reader::new(self.bytes.get(at + 8..).unwrap_or_default()))
    }

    fn passwd(&self, at: usize, now: u64) -> Option<Passwd> {
        let mut r = self.record(at, now)?;
        Some(Passwd {
            name: r.string().ok()?,
            uid: r.u32().ok()?,
            gid: r.u32().ok()?,
            gecos: r.string().ok()?,
            dir: r.string().ok()?,
            shell: r.string().ok()?,
        })
    }

    fn group(&self, at: usize, now: u64) -> Option<Group> {
        let mut r = self.record(at, now)?;
        Some(Group {
            name: r.string().ok()?,
            gid: r.u32().ok()?,
            members: r.strings().ok()?,
        })
    }

    /// A fresh user by key (`name_key` of what was typed).
    pub fn user_by_name(&self, key: &str, now: u64) -> Option<Passwd> {
        self.passwd(self.find_name(USER_NAMES, key)?, now)
    }

    /// A fresh user by uid.
    pub fn user_by_uid(&self, uid: u32, now: u64) -> Option<Passwd> {
        self.passwd(self.find_id(USER_IDS, uid)?, now)
    }

    /// A fresh group by key.
    pub fn group_by_name(&self, key: &str, now: u64) -> Option<Group> {
        self.group(self.find_name(GROUP_NAMES, key)?, now)
    }

    /// A fresh group by gid.
    pub fn group_by_gid(&self, gid: u32, now: u64) -> Option<Group> {
        self.group(self.find_id(GROUP_IDS, gid)?, now)
    }

    /// A user's fresh gid list by key.
    pub fn initgroups(&self, key: &str, now: u64) -> Option<Vec<u32>> {
        let mut r = self.record(self.find_name(GID_LISTS, key)?, now)?;
        r.u32s().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::name_key;

    fn user(i: u32) -> Passwd {
        Passwd {
            name: format!("user{i}"),
            uid: 1_000_000 + i,
            gid: 1_000_513,
            gecos: format!("User {i}"),
            dir: format!("/home/EXAMPLE/user{i}"),
            shell: "/bin/bash".into(),
        }
    }

    fn keys(name: &str) -> Vec<String> {
        vec![
            name_key(name),
            format!("example\\{}", name_key(name)),
            format!("{}@example.test", name_key(name)),
        ]
    }

    #[test]
    fn lookups_hit_by_every_key_and_id_and_miss_otherwise() {
        let mut b = CacheBuilder::new(1500);
        for i in 0..10_000 {
            b.add_user(&keys(&format!("user{i}")), &user(i), 1000);
        }
        let g = Group {
            name: "engineers".into(),
            gid: 1_001_104,
            members: vec!["user1".into(), "zoë".into()],
        };
        b.add_group(&keys("engineers"), &g, 1000);
        b.add_initgroups(&keys("user1"), &[1_000_513, 1_001_104], 1000);
        let bytes = b.build();
        let v = CacheView::new(&bytes).unwrap();
        assert_eq!(v.nss_timeout_ms(), 1500);
        assert!(!v.stale());
        for i in [0, 1, 4242, 9999] {
            let u = user(i);
            assert_eq!(v.user_by_name(&format!("user{i}"), 999).as_ref(), Some(&u));
            assert_eq!(
                v.user_by_name(&format!("example\\user{i}"), 999).as_ref(),
                Some(&u)
            );
            assert_eq!(
                v.user_by_name(&format!("user{i}@example.test"), 999)
                    .as_ref(),
                Some(&u)
            );
            assert_eq!(v.user_by_uid(u.uid, 999).as_ref(), Some(&u));
        }
        assert_eq!(v.user_by_name("user10000", 999), None);
        assert_eq!(v.user_by_uid(7, 999), None);
        assert_eq!(v.group_by_name("engineers", 999).as_ref(), Some(&g));
        assert_eq!(v.group_by_gid(1_001_104, 999).as_ref(), Some(&g));
        assert_eq!(
            v.initgroups("example\\user1", 999),
            Some(vec![1_000_513, 1_001_104])
        );
        // Expired entries are misses.
        assert_eq!(v.user_by_name("user1", 1000), None);
        assert_eq!(v.group_by_gid(1_001_104, 5000), None);
    }

    #[test]
    fn the_stale_word_is_seen() {
        let mut bytes = CacheBuilder::new(1).build();
        bytes[STALE_OFFSET] = 1;
        assert!(CacheView::new(&bytes).unwrap().stale());
    }

    #[test]
    fn wrong_magic_or_short_files_are_refused() {
        assert!(CacheView::new(b"short").is_err());
        let mut bytes = CacheBuilder::new(1).build();
        bytes[0] = b'X';
        assert!(CacheView::new(&bytes).is_err());
    }

    proptest::proptest! {
        #[test]
        fn damaged_files_never_panic(flips in proptest::collection::vec((0usize..4096, proptest::num::u8::ANY), 1..64)) {
            let mut b = CacheBuilder::new(1);
            for i in 0..20 {
                b.add_user(&keys(&format!("user{i}")), &user(i), u64::MAX);
            }
            b.add_group(&keys("g"), &Group { name: "g".into(), gid: 5, members: vec!["user1".into()] }, u64::MAX);
            let mut bytes = b.build();
            let len = bytes.len();
            for (at, v) in flips {
                bytes[at % len] = v;
            }
            if let Ok(v) = CacheView::new(&bytes) {
                for i in 0..20 {
                    let _ = v.user_by_name(&format!("user{i}"), 0);
                    let _ = v.user_by_uid(1_000_000 + i, 0);
                }
                let _ = v.group_by_name("g", 0);
                let _ = v.group_by_gid(5, 0);
                let _ = v.initgroups("user1", 0);
            }
            let cut = bytes.len() / 2;
            if let Ok(v) = CacheView::new(&bytes[..cut]) {
                let _ = v.user_by_name("user19", 0);
            }
        }
    }
}
