//! RFC 4120 3.3 TGS exchange: `TgsExchange::reply` on any KDC reply (KRB-ERROR or TGS-REP),
//! with the lab TGT whose session key the captured TGS-REP seed is encrypted in.
#![no_main]

use std::sync::LazyLock;
use std::time::{Duration, UNIX_EPOCH};

use adjoin_auth::ccache::CredentialCache;
use adjoin_auth::krb::{Credentials, TgsExchange};
use adjoin_auth::principal::PrincipalName;
use libfuzzer_sys::fuzz_target;

/// alice's TGT (ticket, session key, flags) from the same capture as the seeds.
const TGT_CCACHE: &[u8] = include_bytes!("../../../auth/testdata/kdc-tgt-ccache.bin");

static TGT: LazyLock<Credentials> = LazyLock::new(|| {
    let cache = CredentialCache::parse(TGT_CCACHE).expect("captured ccache parses");
    let tgt = cache.tgt().expect("captured ccache holds a TGT");
    Credentials::from_ccache(tgt).expect("captured TGT has a usable session key")
});

fuzz_target!(|data: &[u8]| {
    let now = UNIX_EPOCH + Duration::from_secs(1_795_000_000);
    let cifs = PrincipalName::new(
        PrincipalName::NT_SRV_INST,
        ["cifs", "dc1.example.test"],
        "EXAMPLE.TEST",
    );
    let _ = TgsExchange::new(TGT.clone(), cifs).reply(data, now);
});
