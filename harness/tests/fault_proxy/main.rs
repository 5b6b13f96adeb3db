//! The fault proxy over real TCP, real HTTP and a real PostgreSQL: an upstream on 127.0.0.1, a
//! client through the proxy, and what toxics, disabling, re-pointing and the HTTP API do. Times
//! are only ever lower bounds; the `GUARD` timeouts exist so a broken proxy fails the test
//! instead of hanging it.

mod api;
mod control;
mod down;
mod postgres;
mod stack;
mod support;
mod toxics;
