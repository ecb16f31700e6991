//! NDR stubs from a DC: the NETLOGON and endpoint mapper responses Adjoin decodes, and
//! Schannel-protected response fragments; whatever decodes re-encodes and decodes equal.
#![no_main]

use adjoin_rpc::epm::EptMapResponse;
use adjoin_rpc::ndr::NdrParams;
use adjoin_rpc::netlogon::credential::SessionKey;
use adjoin_rpc::netlogon::{
    LogonSamLogonExResponse, ServerAuthenticate3Response, ServerReqChallengeResponse,
};
use adjoin_rpc::schannel::Schannel;
use libfuzzer_sys::fuzz_target;

fn round_trip<T: NdrParams + PartialEq + std::fmt::Debug>(data: &[u8]) {
    if let Ok(v) = T::from_stub(data) {
        let again = T::from_stub(&v.to_stub()).expect("our encoding decodes");
        assert_eq!(again, v);
    }
}

fuzz_target!(|data: &[u8]| {
    round_trip::<LogonSamLogonExResponse>(data);
    round_trip::<ServerAuthenticate3Response>(data);
    round_trip::<ServerReqChallengeResponse>(data);
    round_trip::<EptMapResponse>(data);
    if data.len() > 56 {
        let (sig, body) = data.split_at(56);
        let mut body = body.to_vec();
        let mut s = Schannel::new(SessionKey::from_bytes([7; 16]), true, true);
        let _ = s.unprotect(&mut body, sig);
    }
});
