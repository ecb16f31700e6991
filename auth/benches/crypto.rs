//! Kerberos crypto throughput on one core: `cargo bench -p adjoin-auth`.
//!
//! The headline figure is aes256-cts-hmac-sha1-96 decryptions per second of
//! a ticket-sized (1 KiB) blob, the inner cost of an AP-REQ acceptance
//! (issue 4 targets 50,000 AP-REQ/s per core), plus string-to-key latency.

use std::hint::black_box;
use std::time::{Duration, Instant};

use adjoin_auth::crypto::{EncryptionType, Key, KeyUsage, string_to_key};

/// How long each measurement runs.
const RUN: Duration = Duration::from_secs(2);
/// Ticket-sized plaintext.
const TICKET_LEN: usize = 1024;

fn main() {
    println!(
        "adjoin-auth crypto benchmark (one core, {}-byte plaintext)",
        TICKET_LEN
    );
    for etype in EncryptionType::SUPPORTED {
        bench_decrypt(etype);
    }
    bench_encrypt(EncryptionType::AES256_CTS_HMAC_SHA1_96);
    bench_string_to_key(
        EncryptionType::AES256_CTS_HMAC_SHA1_96,
        "default 4096 iterations",
    );
    bench_string_to_key(
        EncryptionType::AES128_CTS_HMAC_SHA1_96,
        "default 4096 iterations",
    );
    bench_string_to_key(
        EncryptionType::AES256_CTS_HMAC_SHA384_192,
        "default 32768 iterations",
    );
    bench_string_to_key(
        EncryptionType::AES128_CTS_HMAC_SHA256_128,
        "default 32768 iterations",
    );
    bench_string_to_key(EncryptionType::RC4_HMAC, "MD4 of UTF-16LE");
}

fn test_key(etype: EncryptionType) -> Key {
    let len = etype.key_length().unwrap_or(16);
    Key::new(etype, &vec![0x5a; len]).expect("benchmark key")
}

fn bench_decrypt(etype: EncryptionType) {
    let key = test_key(etype);
    let usage = KeyUsage::KDC_REP_TICKET;
    let ticket = key.encrypt(usage, &[0x42; TICKET_LEN]).expect("encrypt");
    let (ops, elapsed) = run(|| {
        black_box(key.decrypt(usage, black_box(&ticket)).expect("decrypt"));
    });
    report(&format!("decrypt {etype}"), ops, elapsed, ticket.len());
}

fn bench_encrypt(etype: EncryptionType) {
    let key = test_key(etype);
    let plaintext = [0x42; TICKET_LEN];
    let (ops, elapsed) = run(|| {
        black_box(
            key.encrypt(KeyUsage::KDC_REP_TICKET, black_box(&plaintext))
                .expect("encrypt"),
        );
    });
    report(&format!("encrypt {etype}"), ops, elapsed, TICKET_LEN);
}

fn bench_string_to_key(etype: EncryptionType, what: &str) {
    let (ops, elapsed) = run(|| {
        black_box(string_to_key(etype, "Passw0rd!", b"EXAMPLE.TESTalice", None).expect("s2k"));
    });
    let micros = elapsed.as_secs_f64() * 1e6 / ops as f64;
    println!("string_to_key {etype:<26} {micros:>12.1} us/call  ({what})");
}

/// Runs `f` repeatedly for [`RUN`]; returns the count and the time taken.
fn run(mut f: impl FnMut()) -> (u64, Duration) {
    f(); // warm-up
    let start = Instant::now();
    let mut ops = 0u64;
    while start.elapsed() < RUN {
        for _ in 0..16 {
            f();
        }
        ops += 16;
    }
    (ops, start.elapsed())
}

fn report(name: &str, ops: u64, elapsed: Duration, bytes: usize) {
    let secs = elapsed.as_secs_f64();
    let per_sec = ops as f64 / secs;
    let micros = secs * 1e6 / ops as f64;
    let mib = per_sec * bytes as f64 / (1024.0 * 1024.0);
    println!("{name:<40} {per_sec:>12.0} ops/s  {micros:>8.2} us/op  {mib:>8.1} MiB/s");
}
