mod cancel;
mod contract;
mod layout;
mod numbers;
mod permissions;
mod reports;
mod target;
