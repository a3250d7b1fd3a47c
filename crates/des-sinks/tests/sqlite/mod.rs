mod contract;
mod target;
