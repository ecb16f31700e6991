//! Property tests for `.reg` files: random stores round-trip exactly; malformed or mutated
//! files never panic and never change the store.

use adjoin_registry::{Registry, Value};
use proptest::prelude::*;

fn name() -> impl Strategy<Value = String> {
    prop_oneof!["[A-Za-z0-9 _.\\-]{1,12}", "[a-z\"\\\\@\\[\\]=;,é€😀]{1,8}",]
}

/// Key names: anything but a backslash (the separator).
fn key_name() -> impl Strategy<Value = String> {
    prop_oneof!["[A-Za-z0-9 _.\\-]{1,12}", "[a-z\"@\\[\\]=;,é€😀]{1,8}"]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof!["[ -~]{0,20}", ".{0,12}", "[a\r\n\t\\\\\"]{0,8}"].prop_map(|s| s.replace('\0', ""))
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        text().prop_map(Value::Sz),
        text().prop_map(Value::ExpandSz),
        any::<u32>().prop_map(Value::Dword),
        any::<u64>().prop_map(Value::Qword),
        prop::collection::vec(text().prop_filter("non-empty", |s| !s.is_empty()), 0..4)
            .prop_map(Value::MultiSz),
        prop::collection::vec(any::<u8>(), 0..100).prop_map(Value::Binary),
    ]
}

/// A key (as its names below the hive) with some values.
type KeyContents = (Vec<String>, Vec<(String, Value)>);

/// Keys as paths of one to three names, each with a few values.
fn store_contents() -> impl Strategy<Value = Vec<KeyContents>> {
    let key = prop::collection::vec(key_name(), 1..4);
    let values = prop::collection::vec((prop_oneof![Just(String::new()), name()], value()), 0..5);
    prop::collection::vec((key, values), 1..6)
}

fn open() -> (tempfile::TempDir, Registry) {
    let dir = tempfile::tempdir().expect("tempdir");
    let reg = Registry::open(dir.path().join("registry.db")).expect("open");
    (dir, reg)
}

/// A small valid file to mutate.
const SEED: &str = "Windows Registry Editor Version 5.00\n\n[HKEY_THIS_MACHINE\\A]\n\"s\"=\"x\\\\y\"\n@=dword:0000002a\n\"q\"=hex(b):01,00,00,00,00,00,00,00\n\"m\"=hex(7):61,00,00,00,00,00\n\"e\"=hex(2):25,00,00,00\n\"b\"=hex:01,\\\n  02\n\"d\"=-\n\n[-HKEY_THIS_MACHINE\\B]\n";

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_stores_round_trip(contents in store_contents()) {
        let (_d, reg) = open();
        for (key, values) in &contents {
            let path = format!("HKEY_THIS_MACHINE\\{}", key.join("\\"));
            reg.create_key(&path).unwrap();
            for (n, v) in values {
                // Names that collide case-insensitively just overwrite: fine.
                reg.set_value(&path, n, v).unwrap();
            }
        }
        let first = reg.export(None).unwrap();
        let (_d2, other) = open();
        other.import(&first).unwrap();
        prop_assert_eq!(other.export(None).unwrap(), first);
    }

    #[test]
    fn mutated_files_never_panic_or_half_apply(
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, "[\\[\\]\"\\\\=,:@;\\-a-z0-9()\n ]"), 1..4)
    ) {
        let mut text = SEED.to_owned();
        for (at, op, s) in edits {
            let chars: Vec<char> = text.chars().collect();
            let i = at.index(chars.len() + 1);
            let mut out: String = chars[..i].iter().collect();
            match op {
                0 => { out.push_str(&s); out.extend(&chars[i..]); }
                1 => out.extend(chars.iter().skip(i + 1)),
                _ => { out.push_str(&s); out.extend(chars.iter().skip(i + 1)); }
            }
            text = out;
        }
        let (_d, reg) = open();
        reg.set_value("HKEY_THIS_MACHINE\\B", "keep", &Value::Dword(1)).unwrap();
        let before = reg.export(None).unwrap();
        if reg.import(&text).is_err() {
            prop_assert_eq!(reg.export(None).unwrap(), before);
        }
    }
}
