//! Test helpers for the byte-exact checks against Samba's pidl marshalling: the
//! `<name> <hex>` reference files in `rpc/testdata/ndr/` (made by the `gen-*.py`
//! scripts there with python3-samba).

use crate::ndr::NdrParams;

/// The stub called `name` in a reference file's text.
pub(crate) fn reference(file: &str, name: &str) -> Vec<u8> {
    let hex = file
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no reference {name}"));
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// Our encoding of `value` is Samba's `wire`, and `wire` decodes to `value`.
pub(crate) fn check<T: NdrParams + PartialEq + core::fmt::Debug>(
    name: &str,
    wire: &[u8],
    value: &T,
) {
    assert_eq!(
        value.to_stub(),
        wire,
        "{name}: encoding differs from Samba's"
    );
    assert_eq!(&T::from_stub(wire).unwrap(), value, "{name}: decoding");
}
