mod connect;
mod contract;
mod fixture;
mod golden;
mod parse;
mod redirect;
mod statements;
mod target;
