//! Integration tests of the Dataverse client: sample bodies, then the emulator over HTTP.

mod app_users;
mod faults;
mod identity;
mod lookup_names;
mod metadata;
mod pacing;
mod samples;
mod support;
mod sync;
mod tokens;
mod wire;
