//! Fuzz-style properties: no input makes the PAC decoders panic.

use proptest::prelude::*;

use super::PacBufferType;
use super::{ClientInfo, KerbValidationInfo, Pac, Sid, SignatureData, UpnDnsInfo};

const HEIMDAL: &[u8] = include_bytes!("../../testdata/pac-heimdal-samba-rc4.bin");
const EXTRA: &[u8] = include_bytes!("../../testdata/pac-heimdal-extra-logon-info.bin");
const LAB: &[u8] = include_bytes!("../../testdata/pac-lab-aes256.bin");

/// Every decoder, fed the same bytes; results are ignored, panics are not.
fn decode_all(bytes: &[u8]) {
    if let Ok(pac) = Pac::parse(bytes) {
        let _ = pac.user_sid();
        let _ = pac.group_sids();
    }
    let _ = KerbValidationInfo::parse(bytes);
    let _ = ClientInfo::parse(bytes);
    let _ = UpnDnsInfo::parse(bytes);
    let _ = SignatureData::parse(PacBufferType::SERVER_CHECKSUM, bytes);
    let _ = Sid::from_bytes(bytes);
}

/// A real PAC with some bytes overwritten, some inserted or some cut.
fn mutated() -> impl Strategy<Value = Vec<u8>> {
    crate::crypto::test_util::mutated(vec![HEIMDAL.to_vec(), EXTRA.to_vec(), LAB.to_vec()], 8)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..1200)) {
        decode_all(&bytes);
    }

    #[test]
    fn mutated_real_pacs_never_panic(bytes in mutated()) {
        decode_all(&bytes);
        // Each buffer of the mutated PAC, through its own decoder.
        if let Ok(pac) = Pac::parse(&bytes) {
            for b in pac.buffers() {
                decode_all(&bytes[b.offset..b.offset + b.size]);
            }
        }
    }

    /// Whatever logon information decodes re-encodes (adjoin-ndr's
    /// encoder) to bytes that decode to the same value.
    #[test]
    fn mutated_logon_info_round_trips(bytes in mutated()) {
        if let Ok(pac) = Pac::parse(&bytes) {
            let info = pac.logon_info();
            prop_assert_eq!(&KerbValidationInfo::parse(&info.to_bytes()).unwrap(), info);
        }
    }

    #[test]
    fn sid_text_never_panics(text in "S-1-[0-9a-fx-]{0,60}") {
        if let Ok(sid) = text.parse::<Sid>() {
            prop_assert_eq!(sid.to_string().parse::<Sid>().unwrap(), sid);
        }
    }
}
