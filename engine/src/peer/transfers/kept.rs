//! `/pause`, `/resume` and the second `/cancel` of [`Transfers`]: the
//! downloads that ended keeping their `.part` (`kept`), and how they go on
//! or are deleted. Touches `kept`, and the sub-machines through `drive`.
//!
//! A kept download's record stays stored (marked kept, see
//! `SavedSide::Receive::kept`), so a restart lists it again and `/resume`
//! still continues it; the record goes when the entry does (deleted,
//! resumed by `/get` or `/resume` under a new id, or pushed out by newer
//! ones). A resumed download is a new transfer with a new id on both sides
//! (an id is never handed out twice in a run: a driver's late answer about
//! the paused one must not reach it); the notice says which id goes on.

use super::{Machine, TransferOut, Transfers};
use crate::api::{Output, TransferId};
use crate::error::{CommandError, SelfAction};
use crate::limits::MAX_TRANSFERS;
use crate::peer::io::Io;
use crate::transfer::progress::size_text;
use crate::transfer::status::KeptPart;
use crate::transfer::{ReceiveTransfer, TransferRecord};
use crate::wire::{FileName, Name};

impl Transfers {
    pub(super) fn keep(&mut self, io: &mut Io, id: TransferId, peer: Name, k: KeptPart) {
        self.kept.insert(id, (peer, k));
        self.trim_kept(io);
    }

    /// Forgets the oldest kept downloads beyond [`MAX_TRANSFERS`] (their
    /// `.part`s stay on disk; a `/get` of the file still resumes them).
    pub(super) fn trim_kept(&mut self, io: &mut Io) {
        while self.kept.len() > MAX_TRANSFERS {
            if let Some((id, _)) = self.kept.pop_first() {
                io.out.push_back(Output::Forget(TransferRecord::key_of(id)));
            }
        }
    }

    /// Forgets the kept downloads `which` picks, and their records.
    pub(super) fn forget_kept(&mut self, io: &mut Io, which: impl Fn(&KeptPart) -> bool) {
        let gone: Vec<TransferId> = self
            .kept
            .iter()
            .filter(|(_, (_, k))| which(k))
            .map(|(id, _)| *id)
            .collect();
        for id in gone {
            self.kept.remove(&id);
            io.out.push_back(Output::Forget(TransferRecord::key_of(id)));
        }
    }

    /// A second `/cancel` of a download that kept its `.part`.
    pub(super) fn delete_kept(
        &mut self,
        io: &mut Io,
        id: TransferId,
    ) -> Result<Vec<TransferOut>, CommandError> {
        let Some((_, k)) = self.kept.remove(&id) else {
            return Err(CommandError::NoSuchTransfer(id));
        };
        let root = k.path.as_str().split('/').next().unwrap_or_default();
        if let Some(other) = FileName::new(root).ok().and_then(|r| self.writing(&r)) {
            io.notice(format!(
                "{id}: {}.part is {other}'s now; not deleted",
                k.path
            ));
            let forget = Output::Forget(TransferRecord::key_of(id));
            return Ok(vec![TransferOut::Out(forget)]);
        }
        io.notice(format!("{id}: deleted {}.part", k.path));
        Ok(vec![
            TransferOut::Out(Output::DiscardPart {
                transfer: id,
                file: k.file,
                path: k.path,
            }),
            TransferOut::Out(Output::Forget(TransferRecord::key_of(id))),
        ])
    }

    /// `/pause ID`: stops it on both sides; a download keeps its
    /// `.part` for `/resume ID` or `/get`.
    pub fn pause(&mut self, io: &mut Io, id: TransferId) -> Result<Vec<TransferOut>, CommandError> {
        if !self.machines.contains_key(&id) {
            return Err(CommandError::NoSuchTransfer(id));
        }
        let mut refused = None;
        let outs = self.drive(io, id, |m, now| {
            let r = match m {
                Machine::Send(s) => s.pause(now),
                Machine::Receive(r) => r.pause(now),
            };
            refused = r.err();
        });
        match refused {
            Some(why) => Err(CommandError::CannotPause { id, why }),
            None => Ok(outs),
        }
    }

    /// `/resume ID` by `me` of a download that kept its `.part`: asks for
    /// the file again, under a new id, to [`Transfers::start`].
    pub fn resume(
        &mut self,
        io: &mut Io,
        me: &Name,
        id: TransferId,
    ) -> Result<(TransferId, Machine), CommandError> {
        if self.machines.contains_key(&id) {
            let why = "it is not paused (see /transfers)".to_owned();
            return Err(CommandError::CannotResume { id, why });
        }
        let Some((from, k)) = self.kept.get(&id).cloned() else {
            return Err(CommandError::NoSuchTransfer(id));
        };
        let Some(file) = k.fetch else {
            let why = format!("{from} offered it; {from} can /send it again to continue");
            return Err(CommandError::CannotResume { id, why });
        };
        self.check_remote(me, &from, SelfAction::DownloadFrom)?;
        if let Some(other) = self.writing(&file) {
            return Err(CommandError::AlreadyDownloading { file, id: other });
        }
        // Its record goes; the new download keeps its own.
        self.kept.remove(&id);
        io.out.push_back(Output::Forget(TransferRecord::key_of(id)));
        let (new, key) = self.mint(io, &from);
        let config = self.config.clone();
        io.notice(format!(
            "{id}: asking {from} for {file} again as {new}, resuming from {} in {}.part",
            size_text(k.bytes),
            k.path
        ));
        let m = ReceiveTransfer::fetch(io.now, new, key, from, file, config);
        Ok((new, Machine::Receive(m)))
    }
}
