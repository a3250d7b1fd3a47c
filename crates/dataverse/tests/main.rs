//! Integration tests of the Dataverse client: sample bodies, then the emulator over HTTP.

mod samples;
