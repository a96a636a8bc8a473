//! # schooltas-cli
//!
//! The `schooltas` command for schools, parents and verifiers. **Not built yet**: it will hold
//! only argument parsing and file handling over the library crates (`key`, `did`, `issue`,
//! `present`, `verify`, `status`, `wallet` subcommands); no logic an app would need lives here.
#![forbid(unsafe_code)]
