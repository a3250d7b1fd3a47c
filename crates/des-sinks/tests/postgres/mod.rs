mod concurrency;
mod contract;
mod layout;
mod names;
mod permissions;
mod stage;
mod target;
mod throughput;
