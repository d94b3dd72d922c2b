//! confab-mio: runs a confab engine on real TCP sockets, files and a redb
//! store, with a mio event loop.
//!
//! - [`Driver`] runs any [`confab_engine::Engine`] (registry or peer): listener,
//!   outgoing connects with a timeout, bounded write queues with backpressure,
//!   timers, password work on a worker thread, durable records, chunk I/O.
//! - [`DriverHandle`] feeds it commands and stop requests from other threads.
//! - [`Store`] keeps the engine's records; [`SharedIndex`] lists the shared
//!   folder with cached MD5s, and [`ShareWatch`] keeps that list current
//!   while a peer runs; [`TransferFiles`] is the file side of
//!   transfers (sources resolved strictly inside their folders and hashed on
//!   a worker thread, `.part` files, chunks at positions, no-clobber finish).
//! - [`listen`], [`advertised`], [`random_seed`] and [`on_stop_signal`] are the
//!   small pieces a program needs around a driver.
//!
//! The driver never decides anything about the protocol: that is the engine's
//! job. It moves bytes, keeps records and keeps time.

mod conn;
mod driver;
mod files;
mod handle;
mod listen;
mod password;
mod role;
mod share_watch;
mod shared;
mod signals;
mod store;

pub use driver::{Driver, DriverConfig, DriverError, multicast_interface_count};
pub use files::{FileAnswer, TransferFiles};
pub use handle::{COMMAND_QUEUE, DriverGone, DriverHandle};
pub use listen::{ListenError, advertised, listen, random_seed, route_ip};
pub use role::{Flow, Sink, Stoppable};
pub use share_watch::{EntryState, ShareEntry, ShareScan, ShareStatus, ShareWatch, WatchConfig};
pub use shared::{ShareError, SharedIndex, md5_of_file};
pub use signals::on_stop_signal;
pub use store::{Change, STORE_FILE, Store, StoreError};
