//! What a DC sends a member, as the client decodes it: NDR stubs of the NETLOGON, LSA and
//! endpoint mapper responses (whatever decodes re-encodes and decodes equal), the
//! srvsvc/wkssvc requests our servers decode (and their answers), Schannel
//! signatures, and whole response fragments through a sealed binding's receive path.
#![no_main]

use adjoin_rpc::client::{BindAuth, ClientBinding};
use adjoin_rpc::epm::EptMapResponse;
use adjoin_rpc::fragment::Reassembler;
use adjoin_rpc::lsa::{LookupNames4Response, LookupSids3Response};
use adjoin_rpc::ndr::NdrParams;
use adjoin_rpc::netlogon::credential::SessionKey;
use adjoin_rpc::netlogon::{
    DsrGetDcNameEx2Response, LogonSamLogonExResponse, ServerAuthenticate3Response,
    ServerPasswordSet2Response, ServerReqChallengeResponse,
};
use adjoin_rpc::pdu::AuthLevel;
use adjoin_rpc::schannel::Schannel;
use adjoin_rpc::server::Service;
use adjoin_rpc::srvsvc::{
    NetrServerGetInfoRequest, NetrServerGetInfoResponse, NetrShareEnumRequest,
    NetrShareEnumResponse, NetrShareGetInfoRequest, NetrShareGetInfoResponse, Share, SrvsvcService,
};
use adjoin_rpc::wkssvc::{NetrWkstaGetInfoRequest, NetrWkstaGetInfoResponse, WkssvcService};
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
    round_trip::<ServerPasswordSet2Response>(data);
    round_trip::<DsrGetDcNameEx2Response>(data);
    round_trip::<LookupSids3Response>(data);
    round_trip::<LookupNames4Response>(data);
    // What a client sends our srvsvc/wkssvc servers, and what they answer.
    round_trip::<NetrShareEnumRequest>(data);
    round_trip::<NetrShareEnumResponse>(data);
    round_trip::<NetrShareGetInfoRequest>(data);
    round_trip::<NetrShareGetInfoResponse>(data);
    round_trip::<NetrServerGetInfoRequest>(data);
    round_trip::<NetrServerGetInfoResponse>(data);
    round_trip::<NetrWkstaGetInfoRequest>(data);
    round_trip::<NetrWkstaGetInfoResponse>(data);
    let mut srvsvc =
        SrvsvcService::new("FUZZ", "", vec![Share::ipc(""), Share::disk("d", "", "/d")])
            .administrator(true);
    for opnum in [15, 16, 21] {
        let _ = srvsvc.call(opnum, data);
    }
    let _ = WkssvcService::new("FUZZ", "EXAMPLE").call(0, data);
    let mut binding = ClientBinding::new(
        "fuzz",
        BindAuth::Schannel {
            context: Schannel::new(SessionKey::from_bytes([7; 16]), true, true),
            domain: "EXAMPLE".into(),
            computer: "FUZZ".into(),
            level: AuthLevel::PKT_PRIVACY,
        },
    );
    let mut reassembler = Reassembler::new(1, 1 << 20);
    let _ = binding.response_fragment(&mut reassembler, data.to_vec());
    if data.len() > 56 {
        let (sig, body) = data.split_at(56);
        let mut body = body.to_vec();
        let mut s = Schannel::new(SessionKey::from_bytes([7; 16]), true, true);
        let _ = s.unprotect(&mut body, sig);
    }
});
