mod cancel;
mod contract;
mod layout;
mod numbers;
mod permissions;
mod refusal;
mod reports;
mod target;
