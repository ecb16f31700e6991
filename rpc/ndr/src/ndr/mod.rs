//! NDR 2.0 transfer syntax (C706 chapter 14, MS-RPCE 2.2.5) for the types
//! the NETLOGON, LSA, SAMR and endpoint mapper interfaces use, and the PAC
//! (MS-RPCE 2.2.6 type serialization, [`decode_type_serialization_v1`]).
//!
//! Every NDR type implements [`Ndr`] in two phases, as the transfer syntax
//! lays them out: the *scalars* (the inline part, including the referent id
//! of an embedded pointer) and the *buffers* (the deferred referents of
//! those pointers, in the order the pointers appeared). A structure's
//! scalars are its fields' scalars; its buffers are its fields' buffers.
//! A referent is written whole (scalars then buffers) when its turn comes.
//!
//! Structures are declared with [`ndr_struct!`](crate::ndr_struct), which
//! generates both phases from the field list; operations' argument lists
//! with [`ndr_params!`](crate::ndr_params), where each argument is written
//! whole in turn (top-level `[ref]` pointers are transparent: list the
//! pointee). A unique pointer is `Option<T>`; a pointer to a conformant
//! array is `Option<ConformantArray<T>>`.
//!
//! Decoding never trusts a count: arrays grow element by element, so a
//! count larger than the data is a truncation error, not an allocation.
//!
//! A `size_is` count and its array must agree (C706 14.3.3.2, MS-RPCE
//! 2.2.5.3.4: the conformance on the wire is the value of the `size_is`
//! expression). The count lives in the enclosing structure and the array
//! behind a pointer, so a structure declares the pairs once, in a
//! `size_is { array: count }` clause of its macro, and decoding refuses a
//! mismatch with [`DecodeError::SizeIs`] once the deferred referents are
//! read; a null array must have a count of 0. Constant sizes (`size_is(1000)`,
//! `size_is(1260)`) are checked by their array types, and a count that is
//! not a plain field (`length_is((UnitsPerWeek+7)/8)`) by the [`SizeIs`]
//! rule of the array's type.

mod handle;
mod large_integer;
mod serialization;
mod string;

use crate::codec::{Reader, padding};
use crate::error::DecodeError;

pub use crate::sid::Sid;
pub use crate::uuid::Uuid;
pub use handle::ContextHandle;
pub use large_integer::OldLargeInteger;
pub use serialization::{decode_type_serialization_v1, encode_type_serialization_v1};
pub use string::{NetlogonString, UnicodeString, WideString};

/// The first referent id written for a non-null pointer (Windows and Samba
/// use the same base; any non-zero value is valid).
const FIRST_REFERENT: u32 = 0x0002_0000;

/// Appends NDR data to a stub buffer; alignment is relative to the stub's
/// first byte.
#[derive(Debug)]
pub struct NdrWriter {
    buf: Vec<u8>,
    next_referent: u32,
}

impl Default for NdrWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl NdrWriter {
    /// An empty stub.
    pub fn new() -> Self {
        Self {
            buf: Vec::new(),
            next_referent: FIRST_REFERENT,
        }
    }

    /// The encoded stub.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Pads with zeros to a multiple of `align`.
    pub fn align(&mut self, align: usize) {
        let pad = padding(self.buf.len(), align);
        self.buf.resize(self.buf.len() + pad, 0);
    }

    /// Raw bytes (no alignment).
    pub fn bytes(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// An aligned little-endian `u16`.
    pub fn u16(&mut self, v: u16) {
        self.align(2);
        self.bytes(&v.to_le_bytes());
    }

    /// An aligned little-endian `u32`.
    pub fn u32(&mut self, v: u32) {
        self.align(4);
        self.bytes(&v.to_le_bytes());
    }

    /// A pointer's referent id: 0 for null, a fresh id otherwise.
    pub fn referent(&mut self, present: bool) {
        let id = if present {
            let id = self.next_referent;
            self.next_referent = self.next_referent.wrapping_add(4);
            id
        } else {
            0
        };
        self.u32(id);
    }

    /// A count that NDR carries as a `u32` (conformance or variance).
    ///
    /// Lengths in this crate come from `Vec`s built in memory; one beyond
    /// `u32::MAX` elements cannot be sent in a 64 KiB-fragmented call anyway,
    /// so it saturates (the peer then rejects the call).
    pub fn count(&mut self, n: usize) {
        self.u32(u32::try_from(n).unwrap_or(u32::MAX));
    }
}

/// Reads NDR data from a stub; alignment is relative to the stub's first
/// byte.
#[derive(Debug, Clone)]
pub struct NdrReader<'a> {
    r: Reader<'a>,
}

impl<'a> NdrReader<'a> {
    /// A reader over a whole stub.
    pub fn new(stub: &'a [u8]) -> Self {
        Self {
            r: Reader::new("NDR stub", stub),
        }
    }

    /// Skips padding to a multiple of `align`.
    pub fn align(&mut self, align: usize) -> Result<(), DecodeError> {
        self.r.align(align)
    }

    /// The next `len` raw bytes.
    pub fn bytes(&mut self, len: usize) -> Result<&'a [u8], DecodeError> {
        self.r.take(len)
    }

    /// An aligned `u16`.
    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        self.align(2)?;
        self.r.u16()
    }

    /// An aligned `u32`.
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        self.align(4)?;
        self.r.u32()
    }

    /// A pointer's referent id; `true` if the pointer is not null.
    pub fn referent(&mut self) -> Result<bool, DecodeError> {
        Ok(self.u32()? != 0)
    }

    /// A conformance or variance count, as a `usize`.
    pub fn count(&mut self) -> Result<usize, DecodeError> {
        // u32 always fits in usize on the platforms this crate builds for.
        Ok(self.u32()? as usize)
    }

    /// A varying array's offset and actual count, checked against the
    /// conformance `max` (MS-RPCE 2.2.5.3.4.2: offset + actual <= max).
    pub fn variance(&mut self, what: &'static str, max: usize) -> Result<usize, DecodeError> {
        let offset = self.count()?;
        let actual = self.count()?;
        if offset != 0 || actual > max {
            return Err(DecodeError::Variance {
                what,
                offset,
                actual,
                max,
            });
        }
        Ok(actual)
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.r.remaining()
    }

    /// Fails if bytes other than final alignment padding are left.
    pub fn finish(&self) -> Result<(), DecodeError> {
        self.r.expect_empty()
    }
}

/// A type with an NDR representation.
pub trait Ndr: Sized {
    /// Alignment of the type's scalars (its largest primitive).
    const ALIGN: usize;

    /// Writes the inline part, aligned to [`Ndr::ALIGN`].
    fn encode_scalars(&self, w: &mut NdrWriter);

    /// Writes the referents of embedded pointers (after the enclosing
    /// structure's scalars).
    fn encode_buffers(&self, _w: &mut NdrWriter) {}

    /// Reads the inline part. A non-null embedded pointer comes back as a
    /// placeholder that [`Ndr::decode_buffers`] fills in.
    fn decode_scalars(r: &mut NdrReader<'_>) -> Result<Self, DecodeError>;

    /// Reads the referents announced by [`Ndr::decode_scalars`].
    fn decode_buffers(&mut self, _r: &mut NdrReader<'_>) -> Result<(), DecodeError> {
        Ok(())
    }

    /// Writes the whole value: scalars, then buffers.
    fn encode_ndr(&self, w: &mut NdrWriter) {
        self.encode_scalars(w);
        self.encode_buffers(w);
    }

    /// Reads a whole value: scalars, then buffers.
    fn decode_ndr(r: &mut NdrReader<'_>) -> Result<Self, DecodeError> {
        let mut value = Self::decode_scalars(r)?;
        value.decode_buffers(r)?;
        Ok(value)
    }
}

/// The larger of two alignments (for `const` structure alignments).
pub const fn max_align(a: usize, b: usize) -> usize {
    if a > b { a } else { b }
}

/// The NDR stub of an operation's `[in]` or `[out]` arguments.
pub trait NdrParams: Sized {
    /// Writes the arguments in order, each whole.
    fn encode_params(&self, w: &mut NdrWriter);

    /// Reads the arguments in order, each whole.
    fn decode_params(r: &mut NdrReader<'_>) -> Result<Self, DecodeError>;

    /// The stub as a new buffer.
    fn to_stub(&self) -> Vec<u8> {
        let mut w = NdrWriter::new();
        self.encode_params(&mut w);
        w.into_bytes()
    }

    /// Reads arguments that must fill `stub` exactly.
    fn from_stub(stub: &[u8]) -> Result<Self, DecodeError> {
        let mut r = NdrReader::new(stub);
        let value = Self::decode_params(&mut r)?;
        r.finish()?;
        Ok(value)
    }
}

macro_rules! ndr_int {
    ($($ty:ty => $align:literal),*) => {$(
        impl Ndr for $ty {
            const ALIGN: usize = $align;

            fn encode_scalars(&self, w: &mut NdrWriter) {
                w.align($align);
                w.bytes(&self.to_le_bytes());
            }

            fn decode_scalars(r: &mut NdrReader<'_>) -> Result<Self, DecodeError> {
                r.align($align)?;
                let mut raw = [0; $align];
                raw.copy_from_slice(r.bytes($align)?);
                Ok(<$ty>::from_le_bytes(raw))
            }
        }
    )*};
}

ndr_int!(u8 => 1, u16 => 2, u32 => 4, i32 => 4, u64 => 8);

/// A fixed-size byte array (`CHAR data[N]`, `UCHAR key[N]`).
impl<const N: usize> Ndr for [u8; N] {
    const ALIGN: usize = 1;

    fn encode_scalars(&self, w: &mut NdrWriter) {
        w.bytes(self);
    }

    fn decode_scalars(r: &mut NdrReader<'_>) -> Result<Self, DecodeError> {
        let mut out = [0; N];
        out.copy_from_slice(r.bytes(N)?);
        Ok(out)
    }
}

/// A fixed-size array of 32-bit values (`ULONG ExpansionRoom[10]`).
impl<const N: usize> Ndr for [u32; N] {
    const ALIGN: usize = 4;

    fn encode_scalars(&self, w: &mut NdrWriter) {
        for v in self {
            w.u32(*v);
        }
    }

    fn decode_scalars(r: &mut NdrReader<'_>) -> Result<Self, DecodeError> {
        let mut out = [0; N];
        for v in &mut out {
            *v = r.u32()?;
        }
        Ok(out)
    }
}

/// A unique (or full, without aliasing) pointer: a referent id in the
/// scalars, the referent in the buffers.
impl<T: Ndr + Default> Ndr for Option<T> {
    const ALIGN: usize = 4;

    fn encode_scalars(&self, w: &mut NdrWriter) {
        w.referent(self.is_some());
    }

    fn encode_buffers(&self, w: &mut NdrWriter) {
        if let Some(v) = self {
            v.encode_ndr(w);
        }
    }

    fn decode_scalars(r: &mut NdrReader<'_>) -> Result<Self, DecodeError> {
        Ok(r.referent()?.then(T::default))
    }

    fn decode_buffers(&mut self, r: &mut NdrReader<'_>) -> Result<(), DecodeError> {
        if let Some(v) = self {
            *v = T::decode_ndr(r)?;
        }
        Ok(())
    }
}

/// A conformant array as the referent of a pointer
/// (`[size_is(n)] T* p`): the maximum count, every element's scalars, then
/// every element's buffers.
///
/// The count field that `size_is` names lives in the enclosing structure,
/// which lists the pair in its `size_is { .. }` clause (see [`SizeIs`]).
#[derive(Clone, PartialEq, Eq, Default, Debug)]
pub struct ConformantArray<T>(pub Vec<T>);

impl<T: Ndr> Ndr for ConformantArray<T> {
    const ALIGN: usize = max_align(4, T::ALIGN);

    fn encode_scalars(&self, w: &mut NdrWriter) {
        w.count(self.0.len());
        for v in &self.0 {
            v.encode_scalars(w);
        }
    }

    fn encode_buffers(&self, w: &mut NdrWriter) {
        for v in &self.0 {
            v.encode_buffers(w);
        }
    }

    fn decode_scalars(r: &mut NdrReader<'_>) -> Result<Self, DecodeError> {
        let n = r.count()?;
        // Each element takes at least one byte: never reserve beyond the data.
        let mut out = Vec::with_capacity(n.min(r.remaining()));
        for _ in 0..n {
            out.push(T::decode_scalars(r)?);
        }
        Ok(Self(out))
    }

    fn decode_buffers(&mut self, r: &mut NdrReader<'_>) -> Result<(), DecodeError> {
        for v in &mut self.0 {
            v.decode_buffers(r)?;
        }
        Ok(())
    }
}

/// An array whose element count a field of the enclosing structure gives
/// (`[size_is(Count)]`, `[length_is(Count)]`), as named in a
/// [`ndr_struct!`](crate::ndr_struct) or [`ndr_params!`](crate::ndr_params)
/// `size_is { array: count }` clause.
pub trait SizeIs {
    /// The count the wire carries for the array: its conformance (its
    /// actual count where the field is a `length_is`); `None` for a null
    /// pointer.
    fn wire_count(&self) -> Option<usize>;

    /// Whether a count field holding `count` describes an array with
    /// `wire` elements (`None`: a null pointer). By default they are equal,
    /// and a null pointer goes with a count of 0.
    fn agrees(count: u32, wire: Option<usize>) -> bool {
        usize::try_from(count).ok() == Some(wire.unwrap_or(0))
    }
}

impl<T> SizeIs for ConformantArray<T> {
    fn wire_count(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

/// A pointer to an array: null, or the array's own count and rule.
impl<A: SizeIs> SizeIs for Option<A> {
    fn wire_count(&self) -> Option<usize> {
        self.as_ref()?.wire_count()
    }

    fn agrees(count: u32, wire: Option<usize>) -> bool {
        A::agrees(count, wire)
    }
}

/// The check behind a `size_is { array: count }` clause: the array `value`
/// (the field `array` of `what`) against the count field `field` holding
/// `count`.
pub fn check_size_is<A: SizeIs>(
    what: &'static str,
    array: &'static str,
    value: &A,
    field: &'static str,
    count: impl Into<u32>,
) -> Result<(), DecodeError> {
    let count = count.into();
    let wire = value.wire_count();
    if A::agrees(count, wire) {
        return Ok(());
    }
    Err(DecodeError::SizeIs {
        what,
        array,
        field,
        count,
        wire: wire.unwrap_or(0),
    })
}

/// The Rust side of [`ndr_struct!`](crate::ndr_struct) and
/// [`ndr_params!`](crate::ndr_params): the struct with the derives every NDR
/// value has.
#[doc(hidden)]
#[macro_export]
macro_rules! ndr_declare {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                $fvis:vis $field:ident : $ty:ty,
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        $vis struct $name {
            $(
                $(#[$fmeta])*
                $fvis $field: $ty,
            )*
        }
    };
}

/// Declares an NDR structure: the Rust struct (with `Debug`, `Clone`,
/// `Default`, `PartialEq`, `Eq`) and its [`Ndr`](crate::ndr::Ndr)
/// implementation, fields in wire order.
///
/// An optional clause after the fields ties each `size_is` array to its
/// count field (C706 14.3.3.2: the conformance on the wire is the count):
///
/// ```text
/// ndr_struct! {
///     pub struct ValidationSamInfo2 { .., group_count: u32, group_ids: Option<ConformantArray<..>>, .. }
///     size_is { group_ids: group_count, extra_sids: sid_count }
/// }
/// ```
///
/// Decoding checks every pair once the structure's deferred referents are
/// read and fails with [`DecodeError::SizeIs`](crate::error::DecodeError::SizeIs);
/// the array's [`SizeIs`](crate::ndr::SizeIs) rule decides (by default equal
/// counts, a null pointer with a count of 0). Encoding writes the fields as
/// they are: the count is not derived from the array, so values built by
/// hand must agree (the types' constructors do), which a `debug_assert`
/// checks.
#[macro_export]
macro_rules! ndr_struct {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                $fvis:vis $field:ident : $ty:ty,
            )*
        }
        $(size_is { $($array:ident : $count:ident),+ $(,)? })?
    ) => {
        $crate::ndr_declare! {
            $(#[$meta])*
            $vis struct $name {
                $(
                    $(#[$fmeta])*
                    $fvis $field: $ty,
                )*
            }
        }

        impl $crate::ndr::Ndr for $name {
            const ALIGN: usize = {
                let a = 1;
                $(let a = $crate::ndr::max_align(a, <$ty as $crate::ndr::Ndr>::ALIGN);)*
                a
            };

            fn encode_scalars(&self, w: &mut $crate::ndr::NdrWriter) {
                $crate::ndr_size_is!(debug_assert, $name, self, $($($array: $count),+)?);
                w.align(<Self as $crate::ndr::Ndr>::ALIGN);
                $($crate::ndr::Ndr::encode_scalars(&self.$field, w);)*
            }

            fn encode_buffers(&self, _w: &mut $crate::ndr::NdrWriter) {
                $($crate::ndr::Ndr::encode_buffers(&self.$field, _w);)*
            }

            fn decode_scalars(
                r: &mut $crate::ndr::NdrReader<'_>,
            ) -> Result<Self, $crate::error::DecodeError> {
                r.align(<Self as $crate::ndr::Ndr>::ALIGN)?;
                Ok(Self {
                    $($field: <$ty as $crate::ndr::Ndr>::decode_scalars(r)?,)*
                })
            }

            fn decode_buffers(
                &mut self,
                _r: &mut $crate::ndr::NdrReader<'_>,
            ) -> Result<(), $crate::error::DecodeError> {
                $($crate::ndr::Ndr::decode_buffers(&mut self.$field, _r)?;)*
                // The arrays behind pointers are read only now.
                $crate::ndr_size_is!(check, $name, self, $($($array: $count),+)?);
                Ok(())
            }
        }
    };
}

/// Declares an operation's argument list (its `[in]` or its `[out]`
/// arguments, in IDL order) and its [`NdrParams`](crate::ndr::NdrParams)
/// implementation: each argument is written whole before the next.
///
/// Takes the same optional `size_is { array: count }` clause as
/// [`ndr_struct!`](crate::ndr_struct), checked once every argument is read
/// (`[in, size_is(Count)] PRPC_UNICODE_STRING Names`).
#[macro_export]
macro_rules! ndr_params {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                $fvis:vis $field:ident : $ty:ty,
            )*
        }
        $(size_is { $($array:ident : $count:ident),+ $(,)? })?
    ) => {
        $crate::ndr_declare! {
            $(#[$meta])*
            $vis struct $name {
                $(
                    $(#[$fmeta])*
                    $fvis $field: $ty,
                )*
            }
        }

        impl $crate::ndr::NdrParams for $name {
            fn encode_params(&self, w: &mut $crate::ndr::NdrWriter) {
                $crate::ndr_size_is!(debug_assert, $name, self, $($($array: $count),+)?);
                $($crate::ndr::Ndr::encode_ndr(&self.$field, w);)*
            }

            fn decode_params(
                r: &mut $crate::ndr::NdrReader<'_>,
            ) -> Result<Self, $crate::error::DecodeError> {
                let value = Self {
                    $($field: <$ty as $crate::ndr::Ndr>::decode_ndr(r)?,)*
                };
                $crate::ndr_size_is!(check, $name, value, $($($array: $count),+)?);
                Ok(value)
            }
        }
    };
}

/// The `size_is` pairs of [`ndr_struct!`] and [`ndr_params!`]: `check`
/// returns the first mismatch, `debug_assert` panics on one (encoding a
/// value built inconsistently).
#[doc(hidden)]
#[macro_export]
macro_rules! ndr_size_is {
    (check, $name:ident, $v:ident, $($array:ident : $count:ident),*) => {
        $($crate::ndr::check_size_is(
            stringify!($name),
            stringify!($array),
            &$v.$array,
            stringify!($count),
            $v.$count,
        )?;)*
    };
    (debug_assert, $name:ident, $v:ident, $($array:ident : $count:ident),*) => {
        $(debug_assert_eq!(
            $crate::ndr::check_size_is(
                stringify!($name),
                stringify!($array),
                &$v.$array,
                stringify!($count),
                $v.$count,
            ),
            Ok(()),
            "encoding a count that disagrees with its array",
        );)*
    };
}

#[cfg(test)]
mod tests;
