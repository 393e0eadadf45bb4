//! Who is calling (tokens, passwords, the `Principal` extractor) and what they may do (`policy`).

pub mod cursors;
pub mod password;
pub mod policy;
pub mod principal;
pub mod token;

pub use principal::Principal;
