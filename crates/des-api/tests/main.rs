//! des-api tests: the router in process (tower `oneshot`) and over real HTTP, against the
//! emulator, the des-local adapters and the SQLite sink in temp dirs.

mod auth;
mod bodies;
mod checks;
mod conformance;
mod directory;
mod docs;
mod end_to_end;
mod failures;
mod internal;
mod keys;
mod listing;
mod logs;
mod metadata;
mod over_http;
mod permissions;
mod portal;
mod profiles;
mod refusals;
mod revocation;
mod rollover;
mod support;
mod waiting;
