//! Codec tests against captured traffic and property-based round trips.
