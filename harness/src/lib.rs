//! Harness library (placeholder).
