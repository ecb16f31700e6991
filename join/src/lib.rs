//! DC discovery, computer account and machine secret management.
