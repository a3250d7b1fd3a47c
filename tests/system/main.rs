//! System tests: the whole engine against the emulator, real SQLite files and real local
//! adapters, with faults injected by wrapping those adapters.

mod convergence;
mod failure_lines;
mod refusals;
mod scenario;
mod turn;
