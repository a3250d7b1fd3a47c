mod concurrency;
mod contract;
mod layout;
mod names;
mod permissions;
mod target;
mod throughput;
