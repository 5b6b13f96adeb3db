//! The service under test (placeholder; filled by issue 3).
