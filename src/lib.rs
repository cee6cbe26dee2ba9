//! amhash: salted SHA-512 values for the ForgeRock / Ping AM special secret store.
#![forbid(unsafe_code)]

pub mod store;
