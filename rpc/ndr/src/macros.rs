//! Macros for wire enums, shared by the crates above this one.

/// Defines an open wire enum (after rustls' `enum_builder!`): a newtype over
/// an integer with one named constant per known value.
///
/// Values we do not know stay representable. `Debug` prints the constant's
/// name, or the type and the number; `Display` prints the specification's
/// name, or the number. Numbers print in hex (NTSTATUS, opnums, commands),
/// or in decimal when the invocation starts with `decimal` (Kerberos
/// enctypes and key usages, which admins know by their decimal numbers).
///
/// Exported for the crates above this one (auth's Kerberos and NTLM codes,
/// rpc's opnums and NTSTATUS, smb's commands and dialects; adjoin-rpc
/// re-exports it).
#[macro_export]
macro_rules! open_enum {
    (decimal $($rest:tt)*) => {
        $crate::open_enum!(@format "{}" $($rest)*);
    };
    (
        @format $fmt:literal
        $(#[$meta:meta])*
        $vis:vis struct $name:ident($repr:ty) {
            $(
                $(#[$cmeta:meta])*
                $konst:ident = $value:literal => $text:literal,
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis struct $name($repr);

        impl $name {
            $(
                $(#[$cmeta])*
                pub const $konst: Self = Self($value);
            )*

            /// Wraps a value read off the wire.
            pub const fn new(value: $repr) -> Self {
                Self(value)
            }

            /// The number carried on the wire.
            pub const fn value(self) -> $repr {
                self.0
            }

            /// The specification's name of a known value; `None` for others.
            pub const fn name(self) -> Option<&'static str> {
                match self {
                    $(Self::$konst => Some($text),)*
                    _ => None,
                }
            }

            const fn const_name(self) -> Option<&'static str> {
                match self {
                    $(Self::$konst => Some(stringify!($konst)),)*
                    _ => None,
                }
            }
        }

        impl From<$repr> for $name {
            fn from(value: $repr) -> Self {
                Self(value)
            }
        }

        impl From<$name> for $repr {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match self.const_name() {
                    Some(name) => f.write_str(name),
                    None => {
                        write!(f, "{}(", stringify!($name))?;
                        write!(f, $fmt, self.0)?;
                        f.write_str(")")
                    }
                }
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match self.name() {
                    Some(name) => f.pad(name),
                    None => f.pad(&format!($fmt, self.0)),
                }
            }
        }
    };
    ($($rest:tt)*) => {
        $crate::open_enum!(@format "{:#x}" $($rest)*);
    };
}

/// The NDR form of an [`open_enum!`] type: its integer, aligned to its size
/// (an NDR `enum` is 16 bits, a `v1_enum` or NTSTATUS 32), and the zero
/// value as `Default` (what a structure holds before it is decoded).
#[macro_export]
macro_rules! ndr_enum {
    ($($name:ident => $repr:ident),* $(,)?) => {$(
        impl $crate::ndr::Ndr for $name {
            const ALIGN: usize = core::mem::size_of::<$repr>();

            fn encode_scalars(&self, w: &mut $crate::ndr::NdrWriter) {
                w.$repr(self.value());
            }

            fn decode_scalars(
                r: &mut $crate::ndr::NdrReader<'_>,
            ) -> Result<Self, $crate::error::DecodeError> {
                r.$repr().map(Self::new)
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new(0)
            }
        }
    )*};
}

#[cfg(test)]
mod tests {
    crate::open_enum! {
        /// A hex-printed code.
        pub struct Hex(u32) {
            /// One.
            ONE = 1 => "one",
        }
    }

    crate::open_enum! {
        decimal
        /// A decimal-printed code.
        pub struct Dec(i32) {
            /// One.
            ONE = 1 => "one",
        }
    }

    #[test]
    fn unknown_values_print_in_the_chosen_base() {
        assert_eq!(format!("{} {:?}", Hex::ONE, Hex::ONE), "one ONE");
        assert_eq!(
            format!("{} {:?}", Hex::new(26), Hex::new(26)),
            "0x1a Hex(0x1a)"
        );
        assert_eq!(format!("{} {:?}", Dec::new(26), Dec::new(26)), "26 Dec(26)");
        assert_eq!(format!("{:>5}|", Dec::new(7)), "    7|");
    }
}
