//! Emulator tests over real HTTP against an in-process emulator.

mod auth;
mod batch;
mod csdl;
mod faults;
mod limits;
mod lookup_parts;
mod metadata;
mod paging;
mod persist;
mod queries;
mod shapes_data;
mod shapes_metadata;
mod signin;
mod support;
mod system_columns;
mod tracking;
mod users;
mod writes;
