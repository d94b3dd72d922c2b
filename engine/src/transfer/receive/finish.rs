//! How a [`ReceiveTransfer`] finishes a file, and how it survives a crash
//! in the middle of that.
//!
//! A verified file is renamed by the driver (`FinishFile`), and the engine
//! notes it done when `FileFinished` comes back. A crash between the two
//! used to leave a record saying the file was not finished while its
//! `.part` was already renamed: the restarted receiver reopened the `.part`
//! (created empty), fetched the whole file again and saved a second copy,
//! `name (1).ext`.
//!
//! So, before asking for `FinishFile`, the receiver saves its record with
//! the `finishing` mark. The driver carries out a transfer's outputs in the
//! order given and a `Persist` means "store durably" (see "Files" in
//! [`crate::api`]), so the mark is stored before the rename starts. A driver
//! that batches records must honour this too: io-mio's `Driver::drain`
//! collects `Persist`s and commits them once the drain is over, while it
//! renames during the drain, so it has to commit what it holds before it
//! carries out a `FinishFile`.
//!
//! After a restart with the mark, the file is opened with `fresh: false`, and
//! its length tells what happened, since a driver answers `PartOpened` for a
//! `.part` it had to create with length 0:
//! - **0**: the `.part` had been renamed (the driver just made this empty
//!   one): the file is in place. The empty `.part` is discarded and the file
//!   counted as finished, without any byte fetched again.
//! - **more than 0**: the rename never happened (a renamed `.part` leaves no
//!   bytes behind): it resumes as any `.part` does. Whole, it is re-read,
//!   verified and finished once; shorter (bytes lost with the machine), the
//!   rest is fetched; longer, it starts over.
//!
//! Two cases cannot be told apart through the driver contract, and are
//! taken as "renamed", the far likelier reading (the mark is stored right
//! before the rename): an empty file (its `.part` is empty either way), and
//! a `.part` whose unsynced bytes (`ChunkWritten` does not promise `fsync`)
//! were all lost to a power cut in the instant between the mark's commit and
//! the rename. Read wrongly, the first leaves a missing empty file instead
//! of a second one; the second reports a file that is not there. Closing the
//! second would need the contract to say more (for instance `PartOpened`
//! telling whether it created the `.part`).

use crate::api::Output;
use crate::transfer::outbox::TransferEvent;
use crate::transfer::status::Direction;
use crate::wire::transfer::TransferMessage;

use super::{Phase, ReceiveTransfer};

impl ReceiveTransfer {
    /// Once every byte of the current file is written: finish it if its
    /// digest matches, otherwise start over once (if it was resumed) or fail.
    pub(super) fn maybe_verify(&mut self) {
        let Phase::Receiving(r) = &self.phase else {
            return;
        };
        if !r.complete() {
            return;
        }
        let Some(entry) = self
            .manifest
            .as_ref()
            .and_then(|m| m.entries.get(self.next_file as usize))
        else {
            return;
        };
        let want = entry.md5;
        let path = self
            .local_path(self.next_file)
            .map_or_else(|| entry.path.to_string(), |p| p.to_string());
        let got = self.hasher.digest();
        let (id, file) = (self.id, self.next_file);
        if got == want {
            self.phase = Phase::Finishing;
            // The mark, stored before the rename; see the module docs.
            self.save();
            self.boxed
                .out
                .push_back(Output::FinishFile { transfer: id, file });
        } else if self.resumed && !self.retried {
            self.retried = true;
            self.boxed.event(TransferEvent::Notice(format!(
                "{path}: the part already downloaded does not match; downloading it again"
            )));
            self.start_over();
        } else {
            self.fail(
                format!(
                    "{path} failed verification: MD5 {got} instead of {want}; the partial file was removed"
                ),
                true,
            );
        }
    }

    pub(super) fn handle_finished(&mut self, file: u32, path: String) {
        if !matches!(self.phase, Phase::Finishing) || file != self.next_file {
            return;
        }
        self.file_done(path);
    }

    /// The first `PartOpened` (`len` bytes) of a file restored with the
    /// `finishing` mark: `true` if it shows the file was already renamed,
    /// which is then counted finished; `false` to resume as usual. See the
    /// module documentation.
    pub(super) fn finished_before_restart(&mut self, len: u64) -> bool {
        if len > 0 {
            return false;
        }
        let Some(path) = self.local_path(self.next_file) else {
            return false;
        };
        // Discarded before the record moves on: after a crash in between,
        // the mark is still there and the same answer comes again.
        self.boxed.out.push_back(Output::DiscardPart {
            transfer: self.id,
            file: self.next_file,
            path: path.clone(),
        });
        // The driver's answer naming where it went was lost with the crash:
        // the intended path (relative to the downloads folder) is the best
        // there is; the driver may have given the file a `name (n).ext`.
        self.file_done(path.to_string());
        true
    }

    /// File `next_file` is in place at `path`: on to the next, or complete.
    fn file_done(&mut self, path: String) {
        self.first_path.get_or_insert(path);
        self.next_file += 1;
        self.retried = false;
        self.resumed = false;
        self.checkpoint = None;
        self.next_checkpoint = None;
        self.phase = Phase::Idle;
        self.save();
        // Between files, completing does not need the sender's word again.
        let files = self.manifest.as_ref().map_or(0, |m| m.entries.len() as u32);
        if self.next_file == files {
            return self.complete();
        }
        self.advance();
    }

    pub(super) fn complete(&mut self) {
        let Some(m) = &self.manifest else {
            return;
        };
        let (name, md5, folder) = (m.name.to_string(), m.digest(), m.folder);
        let (files, size) = (m.entries.len() as u64, m.total());
        let root = self
            .local_root
            .as_ref()
            .map_or_else(|| name.clone(), |r| r.to_string());
        let path = match (&self.first_path, folder) {
            (Some(first), false) => first.clone(),
            (None, _) => root,
            // A folder's own path: the first file's as the driver reported
            // it, less the components below the folder (a rename into a free
            // name changes only the last component, never how many).
            (Some(first), true) => {
                let below = self
                    .local_path(0)
                    .map_or(0, |p| p.components().count().saturating_sub(1));
                let mut parts: Vec<&str> = first.split('/').collect();
                if below > 0 && parts.len() > below {
                    parts.truncate(parts.len() - below);
                    parts.join("/")
                } else {
                    root
                }
            }
        };
        // Saved as complete, so a restart neither reports it twice nor
        // leaves the sender waiting; over once the sender echoes Complete.
        self.phase = Phase::Completing;
        self.save();
        self.boxed.event(TransferEvent::Done {
            direction: Direction::Receive,
            name,
            path,
            md5,
            folder,
            files,
            size,
        });
        let key = self.key;
        self.send(TransferMessage::Complete { key });
    }
}
