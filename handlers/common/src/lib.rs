//! The Azure Functions side of DES: three custom-handler apps (`api`, `poller`, `applier`)
//! that run the shared engine on the Azure adapters. This library holds what they share:
//!
//! - [`protocol`], [`queue_message`]: the host's invocation payload and answer;
//! - [`logs`]: log lines at the level the host reads them, with the invocation id;
//! - [`server`]: the port, the readiness answer, background wiring;
//! - [`settings`], [`secrets`], [`sources`], [`wiring`]: app settings to engine ports;
//! - [`poll`], [`apply`] (with [`hosted_queue`]), [`poison`]: the functions' work;
//! - [`apps`]: each app's process, called by its thin `main`.

pub mod apply;
pub mod apps;
pub mod figures;
pub mod hosted_queue;
pub mod identity;
pub mod logs;
pub mod poison;
pub mod poll;
pub mod protocol;
pub mod queue_message;
pub mod secrets;
pub mod server;
pub mod settings;
pub mod wiring;
