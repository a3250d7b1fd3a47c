mod cancel;
mod contract;
mod layout;
mod permissions;
mod refusal;
mod target;
