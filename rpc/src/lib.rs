//! adjoin-rpc: see ../shared/DESIGN.md (to be built by its issue).
