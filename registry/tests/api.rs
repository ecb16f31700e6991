//! The registry's public API: keys, values, case rules, schema, transactions, .reg files.

use adjoin_registry::{Error, Registry, Value, ValueType};

const TEST: &str = r"HKEY_THIS_MACHINE\Services\test";

fn open() -> (tempfile::TempDir, Registry) {
    let dir = tempfile::tempdir().expect("tempdir");
    let reg = Registry::open(dir.path().join("registry.db")).expect("open");
    (dir, reg)
}

fn every_type() -> Vec<(&'static str, Value)> {
    vec![
        ("Sz", Value::Sz("hello \"world\" C:\\dir\\".into())),
        ("Expand", Value::ExpandSz("%PATH%;/usr/bin".into())),
        ("Dword", Value::Dword(0xffff_ffff)),
        ("Qword", Value::Qword(0x0123_4567_89ab_cdef)),
        (
            "Multi",
            Value::MultiSz(vec!["one".into(), "två".into(), "三".into()]),
        ),
        ("Binary", Value::Binary(vec![0, 1, 2, 0xfe, 0xff])),
    ]
}

#[test]
fn set_get_every_type() {
    let (_d, reg) = open();
    for (name, v) in every_type() {
        reg.set_value(TEST, name, &v).unwrap();
        assert_eq!(reg.get_value(TEST, name).unwrap(), v);
    }
    let names: Vec<_> = reg
        .values(TEST)
        .unwrap()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, ["Binary", "Dword", "Expand", "Multi", "Qword", "Sz"]);
}

#[test]
fn names_are_case_insensitive_and_case_preserving() {
    let (_d, reg) = open();
    reg.create_key(r"HKEY_THIS_MACHINE\Services\MyService")
        .unwrap();
    reg.create_key(r"hkey_this_machine\SERVICES\myservice\Sub")
        .unwrap();
    assert_eq!(
        reg.subkeys(r"HKEY_THIS_MACHINE\services").unwrap(),
        ["MyService"]
    );
    assert_eq!(
        reg.open_key(r"HKEY_THIS_MACHINE\SERVICES\MYSERVICE\SUB")
            .unwrap(),
        r"HKEY_THIS_MACHINE\Services\MyService\Sub"
    );
    reg.set_value(TEST, "Greeting", &Value::Sz("a".into()))
        .unwrap();
    reg.set_value(TEST, "GREETING", &Value::Sz("b".into()))
        .unwrap();
    assert_eq!(
        reg.get_value(TEST, "greeting").unwrap(),
        Value::Sz("b".into())
    );
    assert_eq!(reg.values(TEST).unwrap()[0].0, "Greeting");
}

#[test]
fn delete_key_tree_and_value() {
    let (_d, reg) = open();
    reg.set_value(&format!(r"{TEST}\a\b"), "x", &Value::Dword(1))
        .unwrap();
    assert!(matches!(
        reg.delete_key(TEST),
        Err(Error::KeyHasSubkeys { .. })
    ));
    reg.delete_tree(&format!(r"{TEST}\a")).unwrap();
    assert!(!reg.key_exists(&format!(r"{TEST}\a\b")).unwrap());
    assert!(reg.key_exists(TEST).unwrap());
    reg.set_value(TEST, "v", &Value::Dword(1)).unwrap();
    reg.delete_value(TEST, "V").unwrap();
    assert!(matches!(
        reg.delete_value(TEST, "v"),
        Err(Error::ValueNotFound { .. })
    ));
    reg.delete_key(TEST).unwrap();
    assert!(matches!(reg.subkeys(TEST), Err(Error::KeyNotFound { .. })));
    assert!(matches!(
        reg.delete_tree("HKEY_THIS_MACHINE"),
        Err(Error::RootKey { .. })
    ));
    // A sibling whose name sorts inside the deleted range survives.
    reg.create_key(r"HKEY_THIS_MACHINE\k\x").unwrap();
    reg.create_key(r"HKEY_THIS_MACHINE\k]").unwrap();
    reg.create_key(r"HKEY_THIS_MACHINE\k x").unwrap();
    reg.delete_tree(r"HKEY_THIS_MACHINE\k").unwrap();
    assert_eq!(
        reg.subkeys("HKEY_THIS_MACHINE").unwrap(),
        ["k x", "k]", "Services"]
    );
}

#[test]
fn schema_defaults_and_ranges() {
    let (_d, reg) = open();
    let kerberos = r"HKEY_THIS_MACHINE\Kerberos";
    assert_eq!(
        reg.get_value(kerberos, "ClockSkewSeconds").unwrap(),
        Value::Dword(300)
    );
    assert_eq!(
        reg.stored_value(kerberos, "ClockSkewSeconds").unwrap(),
        None
    );
    let err = reg
        .set_value(kerberos, "ClockSkewSeconds", &Value::Dword(4000))
        .unwrap_err();
    assert!(err.to_string().contains("0..=3600"), "{err}");
    let err = reg
        .set_value(kerberos, "ClockSkewSeconds", &Value::Qword(1))
        .unwrap_err();
    assert!(matches!(
        err,
        Error::TypeMismatch {
            expected: ValueType::Dword,
            ..
        }
    ));
    reg.set_value(kerberos, "clockskewseconds", &Value::Dword(60))
        .unwrap();
    assert_eq!(
        reg.get_value(kerberos, "ClockSkewSeconds").unwrap(),
        Value::Dword(60)
    );
    let err = reg
        .get_value(r"HKEY_THIS_MACHINE\Join", "MachineName")
        .unwrap_err();
    assert!(matches!(err, Error::ValueNotFound { .. }));
    let adjoind = r"HKEY_THIS_MACHINE\Services\adjoind";
    assert_eq!(
        reg.get_value(adjoind, "LogLevel").unwrap(),
        Value::Sz("info".into())
    );
    assert!(
        reg.set_value(adjoind, "LogLevel", &Value::Sz("loud".into()))
            .is_err()
    );
    assert_eq!(
        reg.get_value(r"HKEY_THIS_MACHINE\Join", "DnsServers")
            .unwrap(),
        Value::MultiSz(vec![])
    );
}

#[test]
fn transactions_are_atomic() {
    let (_d, mut reg) = open();
    let tx = reg.transaction().unwrap();
    tx.set_value(TEST, "a", &Value::Dword(1)).unwrap();
    tx.set_value(r"HKEY_THIS_MACHINE\Secrets\X", "p", &Value::Sz("s".into()))
        .unwrap();
    assert_eq!(tx.get_value(TEST, "a").unwrap(), Value::Dword(1));
    drop(tx);
    assert!(!reg.key_exists(TEST).unwrap());
    let tx = reg.transaction().unwrap();
    tx.set_value(TEST, "a", &Value::Dword(1)).unwrap();
    tx.set_value(r"HKEY_THIS_MACHINE\Secrets\X", "p", &Value::Sz("s".into()))
        .unwrap();
    tx.commit().unwrap();
    assert_eq!(
        reg.get_value(r"HKEY_THIS_MACHINE\Secrets\x", "P").unwrap(),
        Value::Sz("s".into())
    );
    // A refused write inside a transaction leaves the transaction usable; rollback drops all.
    let tx = reg.transaction().unwrap();
    tx.set_value(TEST, "b", &Value::Dword(2)).unwrap();
    assert!(
        tx.set_value(
            r"HKEY_THIS_MACHINE\Kerberos",
            "ClockSkewSeconds",
            &Value::Dword(9999)
        )
        .is_err()
    );
    tx.rollback();
    assert!(reg.stored_value(TEST, "b").unwrap().is_none());
}

#[test]
fn export_import_export_is_identical() {
    let (_d, reg) = open();
    for (name, v) in every_type() {
        reg.set_value(TEST, name, &v).unwrap();
        reg.set_value(r"HKEY_THIS_MACHINE\Secrets\Machine", name, &v)
            .unwrap();
    }
    reg.set_value(TEST, "", &Value::Sz("default".into()))
        .unwrap();
    reg.set_value(TEST, "Lines", &Value::Sz("a\r\nb\tc".into()))
        .unwrap();
    reg.set_value(TEST, "Long", &Value::Binary(vec![0xab; 1000]))
        .unwrap();
    reg.set_value(TEST, "Empty", &Value::MultiSz(vec![]))
        .unwrap();
    reg.create_key(r"HKEY_THIS_MACHINE\Empty\Key").unwrap();
    for key in [None, Some(TEST)] {
        let first = reg.export(key).unwrap();
        let (_d2, other) = open();
        other.import(&first).unwrap();
        assert_eq!(other.export(key).unwrap(), first);
    }
}

#[test]
fn malformed_import_changes_nothing() {
    let (_d, reg) = open();
    reg.set_value(TEST, "keep", &Value::Dword(1)).unwrap();
    let before = reg.export(None).unwrap();
    let text = "Windows Registry Editor Version 5.00\n\n[-HKEY_THIS_MACHINE\\Services]\n\n[HKEY_THIS_MACHINE\\New]\n\"x\"=dword:1\n\"y\"=hex:1,2,zz\n";
    match reg.import(text) {
        Err(Error::Parse { line, column, .. }) => assert_eq!((line, column), (7, 13)),
        other => panic!("{other:?}"),
    }
    // A well-formed file that the schema refuses also changes nothing.
    let text = "Windows Registry Editor Version 5.00\n\n[-HKEY_THIS_MACHINE\\Services]\n\n[HKEY_THIS_MACHINE\\Kerberos]\n\"ClockSkewSeconds\"=dword:00010000\n";
    match reg.import(text) {
        Err(Error::Import { line, .. }) => assert_eq!(line, 6),
        other => panic!("{other:?}"),
    }
    assert_eq!(reg.export(None).unwrap(), before);
}

#[test]
fn import_deletions() {
    let (_d, reg) = open();
    reg.set_value(TEST, "a", &Value::Dword(1)).unwrap();
    reg.set_value(TEST, "b", &Value::Dword(2)).unwrap();
    reg.create_key(r"HKEY_THIS_MACHINE\Gone\Sub").unwrap();
    let text = "Windows Registry Editor Version 5.00\n\n[HKEY_THIS_MACHINE\\Services\\test]\n\"a\"=-\n\"nothere\"=-\n\n[-HKEY_THIS_MACHINE\\Gone]\n[-HKEY_THIS_MACHINE\\NeverWas]\n";
    let summary = reg.import(text).unwrap();
    assert_eq!((summary.values_deleted, summary.keys_deleted), (1, 1));
    assert_eq!(reg.values(TEST).unwrap().len(), 1);
    assert!(!reg.key_exists(r"HKEY_THIS_MACHINE\Gone").unwrap());
}

#[test]
fn invalid_data_is_refused() {
    let (_d, reg) = open();
    assert!(reg.set_value(TEST, "x", &Value::Sz("a\0b".into())).is_err());
    assert!(
        reg.set_value(TEST, "x", &Value::MultiSz(vec![String::new()]))
            .is_err()
    );
    assert!(reg.set_value(TEST, "x\n", &Value::Dword(1)).is_err());
    assert!(
        reg.set_value(r"HKEY_LOCAL_MACHINE\x", "x", &Value::Dword(1))
            .is_err()
    );
    assert!(reg.create_key(r"HKEY_THIS_MACHINE\a\\b").is_err());
}

#[test]
fn reopen_sees_committed_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.db");
    Registry::open(&path)
        .unwrap()
        .set_value(TEST, "x", &Value::Qword(7))
        .unwrap();
    let reg = Registry::open(&path).unwrap();
    assert_eq!(reg.get_value(TEST, "x").unwrap(), Value::Qword(7));
    assert!(reg.integrity_check().unwrap().is_empty());
}

/// Found by the round-trip property test: a column of NUMERIC affinity turned the string
/// "0" into an integer. Strings that look like numbers must come back as strings.
#[test]
fn numeric_looking_strings_stay_strings() {
    let (_d, reg) = open();
    for s in ["0", "42", "-7", "1.5", "1e3", " 12 "] {
        reg.set_value(TEST, "n", &Value::Sz(s.into())).unwrap();
        assert_eq!(reg.get_value(TEST, "n").unwrap(), Value::Sz(s.into()));
        reg.set_value(TEST, "e", &Value::ExpandSz(s.into()))
            .unwrap();
        assert_eq!(reg.get_value(TEST, "e").unwrap(), Value::ExpandSz(s.into()));
    }
}
