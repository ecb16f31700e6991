//! adjoin-registry: see ../shared/DESIGN.md (to be built by its issue).
