//! RFC 3244 / RFC 3447 kpasswd reply: `KpasswdExchange::reply` on any bytes (framed AP-REP +
//! KRB-PRIV, or a bare KRB-ERROR), and the AD password-policy blob of a result string.
#![no_main]

use std::sync::LazyLock;
use std::time::{Duration, UNIX_EPOCH};

use adjoin_auth::ccache::CredentialCache;
use adjoin_auth::krb::Credentials;
use adjoin_auth::krb::kpasswd::{KpasswdExchange, PasswordChange, PasswordPolicy};
use libfuzzer_sys::fuzz_target;

/// A real ticket and session key from the lab (a TGT: the decoder does not care which service).
const TGT_CCACHE: &[u8] = include_bytes!("../../../auth/testdata/kdc-tgt-ccache.bin");

static CREDS: LazyLock<Credentials> = LazyLock::new(|| {
    let cache = CredentialCache::parse(TGT_CCACHE).expect("captured ccache parses");
    let tgt = cache.tgt().expect("captured ccache holds a TGT");
    Credentials::from_ccache(tgt).expect("captured TGT has a usable session key")
});

fuzz_target!(|data: &[u8]| {
    let now = UNIX_EPOCH + Duration::from_secs(1_795_000_000);
    for change in [
        PasswordChange::Change,
        PasswordChange::Set {
            target: CREDS.client.clone(),
        },
    ] {
        if let Ok(x) = KpasswdExchange::new(CREDS.clone(), change) {
            let _ = x.reply(data, now);
        }
    }
    let _ = PasswordPolicy::decode(data);
});
