//! Registry benchmark: prints a table of figures (not a timed test).
//!
//! Run with `cargo bench -p adjoin-registry`. Measures warm `get_value` latency (median and
//! p99 over many single calls), a 20-write transaction, and importing a 100,000-value
//! `.reg` file into an empty store.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use adjoin_registry::{Registry, Value};

/// Single `get_value` calls timed for the latency figures.
const GET_SAMPLES: usize = 100_000;
/// 20-write transactions timed.
const TX_SAMPLES: usize = 50;
/// Values in the import file.
const IMPORT_VALUES: usize = 100_000;

fn main() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let reg = Registry::open(dir.path().join("registry.db")).expect("open store");
    println!(
        "adjoin-registry benchmark (store in {})",
        dir.path().display()
    );
    println!("{:<44} {:>12} {:>12}", "measurement", "median", "p99");
    warm_get(&reg);
    secret_get(&reg);
    transaction(&dir);
    import(&dir);
}

/// Warm `get_value` of a public value.
fn warm_get(reg: &Registry) {
    let key = r"HKEY_THIS_MACHINE\Services\bench";
    reg.set_value(key, "Greeting", &Value::Sz("hello".into()))
        .expect("set");
    let times = sample(GET_SAMPLES, || {
        reg.get_value(key, "Greeting").expect("get");
    });
    row("get_value (public, warm)", &times);
    let times = sample(GET_SAMPLES, || {
        reg.get_value(r"HKEY_THIS_MACHINE\Kerberos", "ClockSkewSeconds")
            .expect("get");
    });
    row("get_value (unset, schema default)", &times);
}

/// Warm `get_value` of a secret value (second file).
fn secret_get(reg: &Registry) {
    let key = r"HKEY_THIS_MACHINE\Secrets\MachineAccount";
    reg.set_value(key, "Password", &Value::Sz("s3cret".into()))
        .expect("set");
    let times = sample(GET_SAMPLES, || {
        reg.get_value(key, "Password").expect("get");
    });
    row("get_value (secret, warm)", &times);
}

/// A transaction of 20 writes, ten public and ten secret, committed with fsync.
fn transaction(dir: &tempfile::TempDir) {
    let mut reg = Registry::open(dir.path().join("tx.db")).expect("open store");
    let mut round = 0u32;
    let mut run = |secret_too: bool| {
        round += 1;
        let tx = reg.transaction().expect("begin");
        for i in 0..20 {
            let key = if secret_too && i % 2 == 1 {
                r"HKEY_THIS_MACHINE\Secrets\Bench"
            } else {
                r"HKEY_THIS_MACHINE\Join\Bench"
            };
            tx.set_value(key, &format!("V{i}"), &Value::Dword(round))
                .expect("set");
        }
        tx.commit().expect("commit");
    };
    let public = sample(TX_SAMPLES, || run(false));
    row("transaction of 20 writes (one file)", &public);
    let both = sample(TX_SAMPLES, || run(true));
    row("transaction of 20 writes (both files)", &both);
}

/// Import of a generated 100,000-value file into an empty store.
fn import(dir: &tempfile::TempDir) {
    let text = import_file();
    let reg = Registry::open(dir.path().join("import.db")).expect("open store");
    let start = Instant::now();
    let summary = reg.import(&text).expect("import");
    let elapsed = start.elapsed();
    assert_eq!(summary.values_set, IMPORT_VALUES);
    println!(
        "{:<44} {:>12} {:>12}",
        format!("import {IMPORT_VALUES} values ({} KiB)", text.len() / 1024),
        fmt(elapsed),
        "-"
    );
    let start = Instant::now();
    let exported = reg.export(None).expect("export");
    println!(
        "{:<44} {:>12} {:>12}",
        "export of the same store",
        fmt(start.elapsed()),
        "-"
    );
    assert!(exported.len() > text.len() / 2);
}

/// 1,000 keys of 100 values each, of every type.
fn import_file() -> String {
    let mut text = String::from("Windows Registry Editor Version 5.00\n\n");
    for k in 0..IMPORT_VALUES / 100 {
        let _ = writeln!(text, "[HKEY_THIS_MACHINE\\Bench\\Group{}\\Key{k}]", k % 10);
        for v in 0..100 {
            let _ = match v % 4 {
                0 => writeln!(text, "\"S{v}\"=\"value {k} {v}\""),
                1 => writeln!(text, "\"D{v}\"=dword:{:08x}", k * v),
                2 => writeln!(text, "\"Q{v}\"=hex(b):{:02x},00,00,00,00,00,00,01", v),
                _ => writeln!(text, "\"B{v}\"=hex:de,ad,be,ef,{:02x}", v),
            };
        }
        text.push('\n');
    }
    text
}

/// Times `n` calls of `f`, sorted.
fn sample(n: usize, mut f: impl FnMut()) -> Vec<Duration> {
    for _ in 0..n.min(1000) {
        f();
    }
    let mut times: Vec<Duration> = (0..n)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort_unstable();
    times
}

/// Prints the median and p99 of sorted times.
fn row(what: &str, sorted: &[Duration]) {
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q) as usize];
    println!("{what:<44} {:>12} {:>12}", fmt(at(0.5)), fmt(at(0.99)));
}

/// A duration with a sensible unit.
fn fmt(d: Duration) -> String {
    let ns = d.as_nanos();
    match ns {
        0..=9_999 => format!("{ns} ns"),
        10_000..=9_999_999 => format!("{:.1} µs", ns as f64 / 1e3),
        10_000_000..=9_999_999_999 => format!("{:.1} ms", ns as f64 / 1e6),
        _ => format!("{:.2} s", ns as f64 / 1e9),
    }
}
