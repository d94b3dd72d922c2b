//! The output side of a settle: carries out what the engine asked for, in
//! order (connects, queued writes, closes, file work, records to keep, events),
//! and commits the records before anything that depends on them is written.
//! Touches the driver's connections, file handles and store, never a socket
//! write (that waits for the settle).

use std::time::Instant;

use confab_engine::{Engine, Input, Output};

use super::{ChunkRequest, Driver, DriverError};
use crate::role::Stoppable;
use crate::store::Change;

/// The record store failed; the error itself waits in the driver's
/// `store_failure` until the settle stops the driver.
pub(super) struct StoreFailed;

impl<E> Driver<E>
where
    E: Engine,
    E::Command: Stoppable,
{
    /// Commits the records the engine asked to persist so far. On failure the
    /// error waits in `store_failure` for [`Self::settle`] to stop the driver:
    /// nothing that depends on those records may happen after it.
    pub(super) fn commit_changes(&mut self) -> Result<(), StoreFailed> {
        if self.store_failure.is_some() {
            return Err(StoreFailed);
        }
        if self.changes.is_empty() {
            return Ok(());
        }
        let changes = std::mem::take(&mut self.changes);
        let kept = match (&mut self.keeper, &self.store) {
            (Some(keeper), _) => keeper.write(&changes),
            (None, Some(store)) => store.commit(&changes),
            (None, None) => {
                tracing::warn!(n = changes.len(), "no store: records not kept");
                Ok(())
            }
        };
        kept.map_err(|e| {
            self.store_failure = Some(DriverError::Store(e));
            StoreFailed
        })
    }

    /// Commits the records so far and waits until they are durable (only an
    /// engine that waits for durability itself has any not yet durable).
    pub(super) fn commit_durable(&mut self) -> Result<(), StoreFailed> {
        self.commit_changes()?;
        let Some(keeper) = self.keeper.as_mut() else {
            return Ok(());
        };
        keeper.sync().map_err(|e| {
            self.store_failure = Some(DriverError::Store(e));
            StoreFailed
        })
    }

    /// Carries out every pending output. Socket writes and events wait for
    /// [`Self::settle`].
    pub(super) fn drain(&mut self, now: Instant) {
        while let Some(output) = self.engine.poll_output() {
            match output {
                Output::Connect { conn, addr } => self.start_connect(now, conn, addr),
                Output::Send { conn, bytes } => {
                    if let Some(c) = self.conns.get_mut(&conn) {
                        c.push(bytes);
                        self.to_write.insert(conn);
                    }
                }
                Output::Close { conn } => self.close(now, conn),
                Output::ReadChunk {
                    transfer,
                    file,
                    offset,
                    len,
                } => self.chunk_reads.push_back(ChunkRequest {
                    transfer,
                    file,
                    offset,
                    len,
                }),
                Output::OpenSource { transfer, source } => {
                    self.serve_reads_of(now, transfer);
                    self.wait_writes_of(now, transfer);
                    if let Err(error) = self.files.open_source(transfer, source) {
                        self.engine
                            .handle_input(now, Input::StorageFailed { transfer, error });
                    }
                }
                Output::OpenPart {
                    transfer,
                    file,
                    path,
                    fresh,
                    ..
                } => {
                    self.serve_reads_of(now, transfer);
                    self.wait_writes_of(now, transfer);
                    let input = match self.files.open_part(transfer, file, &path, fresh) {
                        Ok(len) => Input::PartOpened {
                            transfer,
                            file,
                            len,
                        },
                        Err(error) => Input::StorageFailed { transfer, error },
                    };
                    self.engine.handle_input(now, input);
                }
                Output::WriteChunk {
                    transfer,
                    file,
                    offset,
                    data,
                } => {
                    self.serve_reads_of(now, transfer);
                    // Answered once written, by `take_file_answers` (or by
                    // `wait_writes_of` before a later output of this transfer).
                    if let Err(error) = self.files.submit_write(transfer, file, offset, data) {
                        self.engine
                            .handle_input(now, Input::StorageFailed { transfer, error });
                    }
                }
                Output::FinishFile { transfer, file } => {
                    self.serve_reads_of(now, transfer);
                    self.wait_writes_of(now, transfer);
                    // The receiver stored a "finishing" mark just before asking
                    // for this rename. It must be on disk before the rename:
                    // otherwise a crash in between makes the restarted peer
                    // fetch the file again and keep two copies.
                    let input = match self.commit_durable() {
                        Err(StoreFailed) => Input::StorageFailed {
                            transfer,
                            error: "the record store failed; not renaming".into(),
                        },
                        Ok(()) => match self.files.finish(transfer, file) {
                            Ok(path) => Input::FileFinished {
                                transfer,
                                file,
                                path,
                            },
                            Err(error) => Input::StorageFailed { transfer, error },
                        },
                    };
                    self.engine.handle_input(now, input);
                }
                Output::DiscardPart {
                    transfer,
                    file,
                    path,
                } => {
                    self.serve_reads_of(now, transfer);
                    self.wait_writes_of(now, transfer);
                    self.files.discard(transfer, file, &path);
                }
                Output::ReleaseFiles { transfer } => {
                    self.chunk_reads.retain(|r| r.transfer != transfer);
                    self.wait_writes_of(now, transfer);
                    self.files.release(transfer);
                }
                Output::DerivePassword { job, work } => self.passwords.submit(job, work),
                Output::Persist(record) => self.changes.push(Change::Persist(record)),
                Output::Forget(key) => self.changes.push(Change::Forget(key)),
                Output::SendDatagram { to, bytes } => self.send_datagram(to, &bytes),
                Output::Event(event) => {
                    tracing::debug!(?event, "event");
                    self.events.push(event);
                }
            }
        }
    }
}
