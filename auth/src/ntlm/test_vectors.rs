//! The published MS-NLMP section 4.2 example values (4.2.1 common values, 4.2.4
//! NTLMv2), shared by the unit tests.

pub(super) const USER: &str = "User";
pub(super) const DOMAIN: &str = "Domain";
pub(super) const PASSWORD: &str = "Password";
pub(super) const SERVER: &str = "Server";
pub(super) const WORKSTATION: &str = "COMPUTER";
pub(super) const RANDOM_SESSION_KEY: [u8; 16] = [0x55; 16];
pub(super) const TIME: u64 = 0;
pub(super) const CLIENT_CHALLENGE: [u8; 8] = [0xaa; 8];
pub(super) const SERVER_CHALLENGE: [u8; 8] = [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];

/// 4.2.4 Challenge Flags.
pub(super) const CHALLENGE_FLAGS: u32 = 0xe28a_8233;

/// 4.2.2.1.2 NTOWFv1("Password"), the NT hash.
pub(super) const NT_HASH: &str = "a4f49c406510bdcab6824ee7c30fd852";
/// 4.2.4.1.1 NTOWFv2("Password", "User", "Domain").
pub(super) const NTOWFV2: &str = "0c868a403bfd7a93a3001ef22ef02e3f";
/// 4.2.4.1.2 Session Base Key.
pub(super) const SESSION_BASE_KEY: &str = "8de40ccadbc14a82f15cb0ad0de95ca3";
/// 4.2.4.2.1 LMv2 Response.
pub(super) const LMV2_RESPONSE: &str = "86c35097ac9cec102554764a57cccc19 aaaaaaaaaaaaaaaa";
/// 4.2.4.2.2 NTLMv2 Response: NTProofStr then the temp blob.
pub(super) const NTLMV2_RESPONSE: &str = "
    68cd0ab851e51c96aabc927bebef6a1c
    0101000000000000 0000000000000000 aaaaaaaaaaaaaaaa 00000000
    02000c0044006f006d00610069006e00 01000c00530065007200760065007200 00000000
    00000000";
/// 4.2.4.2.3 Encrypted Session Key: RC4(SessionBaseKey, RandomSessionKey).
pub(super) const ENCRYPTED_SESSION_KEY: &str = "c5dad2544fc9799094ce1ce90bc9d03e";
/// 4.2.4: the server's AV pairs, MsvAvNbDomainName "Domain", MsvAvNbComputerName
/// "Server", MsvAvEOL.
pub(super) const TARGET_INFO: &str = "
    02000c0044006f006d00610069006e00 01000c00530065007200760065007200 00000000";
/// 4.2.4.3 CHALLENGE_MESSAGE.
pub(super) const CHALLENGE_MESSAGE: &str = "
    4e544c4d53535000 02000000 0c000c0038000000 33828ae2 0123456789abcdef 0000000000000000
    2400240044000000 060070170000000f
    530065007200760065007200
    02000c0044006f006d00610069006e00 01000c00530065007200760065007200 00000000";
/// 4.2.4.3 AUTHENTICATE_MESSAGE (published without a MIC field).
pub(super) const AUTHENTICATE_MESSAGE: &str = "
    4e544c4d53535000 03000000
    180018006c000000 5400540084000000 0c000c0048000000 0800080054000000
    100010005c000000 10001000d8000000 358288e2 0501280a0000000f
    44006f006d00610069006e00 5500730065007200 43004f004d0050005500540045005200
    86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa
    68cd0ab851e51c96aabc927bebef6a1c 0101000000000000 0000000000000000
    aaaaaaaaaaaaaaaa 00000000 02000c0044006f006d00610069006e00
    01000c00530065007200760065007200 00000000 00000000
    c5dad2544fc9799094ce1ce90bc9d03e";
/// 4.2.4.4: SEALKEY, client to server.
pub(super) const CLIENT_SEAL_KEY: &str = "59f600973cc4960a25480a7c196e4c58";
/// 4.2.4.4: SIGNKEY, client to server.
pub(super) const CLIENT_SIGN_KEY: &str = "4788dc861b4782f35d43fd98fe1a2d39";
/// 4.2.4.4: the plaintext, "Plaintext" in UTF-16LE.
pub(super) const PLAINTEXT: &str = "50006c00610069006e007400650078007400";
/// 4.2.4.4: the sealed data.
pub(super) const SEALED: &str = "54e50165bf1936dc996020c1811b0f06fb5f";
/// 4.2.4.4: the signature, sequence number 0.
pub(super) const MESSAGE_SIGNATURE: &str = "01000000 7fb38ec5c55d4976 00000000";

pub(super) use crate::crypto::test_util::unhex;

/// [`unhex`] into a fixed-size array.
pub(super) fn unhex16(text: &str) -> [u8; 16] {
    unhex(text).try_into().expect("16 bytes")
}
