mod connect;
mod contract;
mod fixture;
mod golden;
mod parse;
mod statements;
mod target;
