//! MS-RPCE 2.2.4.2 / C706 context handles: the 20 opaque bytes
//! a server hands out (SAMR's and LSA's policy handles) and a client sends
//! back on every call that names the object.

use crate::uuid::Uuid;

crate::ndr_struct! {
    /// MS-RPCE 2.2.4.2 context handle (C706 `ndr_context_handle`): a
    /// 32-bit attributes word and a UUID, 4-byte aligned.
    ///
    /// ```text
    /// context_handle_attributes u32 | context_handle_uuid uuid_t (16)
    /// ```
    ///
    /// The all-zero handle is the null handle a server returns when it
    /// closes one (MS-SAMR 3.1.5.13.1).
    #[derive(Copy, Hash)]
    pub struct ContextHandle {
        /// `context_handle_attributes` (0 in handles servers return).
        pub attributes: u32,
        /// `context_handle_uuid`.
        pub uuid: Uuid,
    }
}

impl ContextHandle {
    /// The null handle (all zeros).
    pub const NULL: Self = Self {
        attributes: 0,
        uuid: Uuid::NIL,
    };

    /// Whether this is the null handle: what a closed handle, or an open
    /// call that failed, comes back as.
    pub fn is_null(&self) -> bool {
        *self == Self::NULL
    }
}
