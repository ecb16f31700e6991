//! What adjoind's identity socket and libnss_adjoin read from a peer: a request body (the
//! daemon), a response body (the NSS/PAM modules and the CLI), a frame's length prefix, and
//! the NSS fast cache file (every lookup on whatever bytes the file holds).
#![no_main]

use adjoin_idproto::cache::CacheView;
use adjoin_idproto::{Request, Response, frame_len};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = Request::decode(data) {
        // What decodes re-encodes to the same body.
        assert_eq!(&req.encode()[4..], data);
    }
    if let Ok(resp) = Response::decode(data) {
        assert_eq!(&resp.encode()[4..], data);
    }
    if let Some(prefix) = data.get(..4) {
        let _ = frame_len(prefix.try_into().unwrap_or_default(), 64 * 1024);
    }
    if let Ok(view) = CacheView::new(data) {
        let key = String::from_utf8_lossy(data.get(56..64).unwrap_or_default()).into_owned();
        let id = data.get(60..64).map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        let _ = view.user_by_name(&key, 0);
        let _ = view.user_by_uid(id, 0);
        let _ = view.group_by_name(&key, 0);
        let _ = view.group_by_gid(id, 0);
        let _ = view.initgroups(&key, 0);
        let _ = view.stale();
        let _ = view.nss_timeout_ms();
    }
});
