//! The file contract from the driver's side: which file work the engine
//! asked for ([`Work`]), which sources and `.part`s it may read or write
//! ([`Files`]), and the answers an [`Op::File`] gives. Checks each file output
//! against what was asked and answered before; touches nothing else.

use std::collections::BTreeMap;
use std::time::Instant;

use confab_engine::{Engine, Input, Output, Source, SourceFile, SourceInfo, TransferId};

use crate::generate::{self, SIZE_POOL};

/// One piece of file work asked for and not answered yet.
#[derive(Debug, Clone)]
pub enum Work {
    OpenSource {
        transfer: TransferId,
        source: Source,
    },
    OpenPart {
        transfer: TransferId,
        file: u32,
        size: u64,
        fresh: bool,
    },
    ReadChunk {
        transfer: TransferId,
        file: u32,
        offset: u64,
        len: u32,
    },
    WriteChunk {
        transfer: TransferId,
        file: u32,
        offset: u64,
    },
    FinishFile {
        transfer: TransferId,
        file: u32,
    },
}

impl Work {
    pub(super) fn transfer(&self) -> TransferId {
        match self {
            Work::OpenSource { transfer, .. }
            | Work::OpenPart { transfer, .. }
            | Work::ReadChunk { transfer, .. }
            | Work::WriteChunk { transfer, .. }
            | Work::FinishFile { transfer, .. } => *transfer,
        }
    }
}

/// A `.part` as the driver knows it.
#[derive(Debug, Clone)]
pub struct Part {
    /// The final size announced by `OpenPart`.
    pub size: u64,
    /// The length reported by `PartOpened`, once answered.
    pub opened: Option<u64>,
    /// `FinishFile` was asked for.
    pub finished: bool,
}

/// The driver's view of the file contract.
#[derive(Debug, Default)]
pub struct Files {
    /// Sources asked for with `OpenSource` since the transfer last released
    /// its files: the file sizes reported, once answered.
    pub sources: BTreeMap<TransferId, Option<Vec<u64>>>,
    /// `.part`s asked for with `OpenPart`, by transfer and file.
    pub parts: BTreeMap<(TransferId, u32), Part>,
    /// File work not answered yet, oldest first.
    pub work: Vec<Work>,
    /// Every transfer named by file work, for [`Op::StorageFailed`].
    pub named: Vec<TransferId>,
}

impl Files {
    pub(super) fn name(&mut self, t: TransferId) {
        if !self.named.contains(&t) {
            self.named.push(t);
        }
    }

    /// How long file `file` of `transfer` is, as the driver reported it.
    pub(super) fn size_of(&self, transfer: TransferId, file: u32) -> Option<u64> {
        if let Some(Some(sizes)) = self.sources.get(&transfer) {
            return sizes.get(file as usize).copied();
        }
        let p = self.parts.get(&(transfer, file))?;
        Some(p.size.max(p.opened.unwrap_or(0)))
    }

    /// Models (and checks) one file output.
    pub(super) fn output<E: std::fmt::Debug>(&mut self, out: &Output<E>) {
        match out {
            Output::OpenSource { transfer, source } => {
                self.name(*transfer);
                self.sources.insert(*transfer, None);
                self.work.push(Work::OpenSource {
                    transfer: *transfer,
                    source: source.clone(),
                });
            }
            Output::OpenPart {
                transfer,
                file,
                size,
                fresh,
                ..
            } => {
                self.name(*transfer);
                let part = Part {
                    size: *size,
                    opened: None,
                    finished: false,
                };
                self.parts.insert((*transfer, *file), part);
                self.work.push(Work::OpenPart {
                    transfer: *transfer,
                    file: *file,
                    size: *size,
                    fresh: *fresh,
                });
            }
            Output::ReadChunk {
                transfer,
                file,
                offset,
                len,
            } => {
                let t = (*transfer, *file);
                let limit = match (self.sources.get(transfer), self.parts.get(&t)) {
                    (Some(Some(sizes)), _) => {
                        sizes.get(*file as usize).copied().unwrap_or_else(|| {
                            panic!(
                                "ReadChunk of file {file} of {transfer}, whose source has {} files",
                                sizes.len()
                            )
                        })
                    }
                    (
                        _,
                        Some(Part {
                            opened: Some(len), ..
                        }),
                    ) => *len,
                    _ => panic!(
                        "ReadChunk of {transfer} file {file}, whose source or .part is not open: {out:?}"
                    ),
                };
                assert!(*len > 0, "an empty ReadChunk: {out:?}");
                assert!(
                    offset
                        .checked_add(u64::from(*len))
                        .is_some_and(|end| end <= limit),
                    "ReadChunk past the end ({limit} bytes): {out:?}"
                );
                self.work.push(Work::ReadChunk {
                    transfer: *transfer,
                    file: *file,
                    offset: *offset,
                    len: *len,
                });
            }
            Output::WriteChunk {
                transfer,
                file,
                offset,
                data,
            } => {
                let Some(part) = self.parts.get(&(*transfer, *file)) else {
                    panic!("WriteChunk to {transfer} file {file}, whose .part was never opened");
                };
                assert!(
                    part.opened.is_some(),
                    "WriteChunk to {transfer} file {file} before its .part is open"
                );
                assert!(
                    !part.finished,
                    "WriteChunk to {transfer} file {file} after FinishFile"
                );
                assert!(
                    offset
                        .checked_add(data.len() as u64)
                        .is_some_and(|end| end <= part.size),
                    "WriteChunk of {} bytes at {offset} past the announced size {} of {transfer} file {file}",
                    data.len(),
                    part.size
                );
                self.work.push(Work::WriteChunk {
                    transfer: *transfer,
                    file: *file,
                    offset: *offset,
                });
            }
            Output::FinishFile { transfer, file } => {
                let Some(part) = self.parts.get_mut(&(*transfer, *file)) else {
                    panic!("FinishFile of {transfer} file {file}, whose .part was never opened");
                };
                assert!(
                    part.opened.is_some() && !part.finished,
                    "FinishFile of {transfer} file {file}: {part:?}"
                );
                part.finished = true;
                self.work.push(Work::FinishFile {
                    transfer: *transfer,
                    file: *file,
                });
            }
            Output::DiscardPart { transfer, file, .. } => {
                self.parts.remove(&(*transfer, *file));
            }
            Output::ReleaseFiles { transfer } => {
                self.sources.remove(transfer);
                self.parts.retain(|(t, _), _| t != transfer);
            }
            other => panic!("not a file output: {other:?}"),
        }
    }

    /// Answers work number `pick` in the manner `how`.
    pub(super) fn answer<E: Engine>(&mut self, engine: &mut E, now: Instant, pick: u8, how: u8) {
        if self.work.is_empty() {
            return;
        }
        let work = self.work.remove(usize::from(pick) % self.work.len());
        let transfer = work.transfer();
        if how & 0x0f == 0x0f {
            let error = format!("the disk failed ({work:?})");
            return engine.handle_input(now, Input::StorageFailed { transfer, error });
        }
        match work {
            Work::OpenSource { transfer, source } => {
                let name = match &source {
                    Source::Shared(n) => n.to_string(),
                    Source::Local(p) => p.rsplit('/').next().unwrap_or(p).to_owned(),
                };
                let size = SIZE_POOL[usize::from(how >> 4) % SIZE_POOL.len()];
                let file = |path: String, size: u64, right: bool| SourceFile {
                    path,
                    size,
                    md5: if right {
                        generate::content_md5(size)
                    } else {
                        confab_engine::wire::Md5([0xee; 16])
                    },
                };
                let info = match how & 0x03 {
                    0 | 1 => SourceInfo {
                        folder: false,
                        files: vec![file(name.clone(), size, true)],
                        name,
                    },
                    2 => SourceInfo {
                        folder: false,
                        files: vec![file(name.clone(), size, false)],
                        name,
                    },
                    _ => SourceInfo {
                        folder: true,
                        files: vec![
                            file(format!("{name}/a.txt"), size, true),
                            file(format!("{name}/sub/b"), 3, true),
                        ],
                        name,
                    },
                };
                if how & 0x04 != 0 {
                    let (hashed, total) = (size / 2, size);
                    engine.handle_input(
                        now,
                        Input::SourceHashing {
                            transfer,
                            hashed,
                            total,
                        },
                    );
                }
                if let Some(s) = self.sources.get_mut(&transfer) {
                    *s = Some(info.files.iter().map(|f| f.size).collect());
                }
                engine.handle_input(
                    now,
                    Input::SourceOpened {
                        transfer,
                        source: info,
                    },
                );
            }
            Work::OpenPart {
                transfer,
                file,
                size,
                fresh,
            } => {
                let len = match (fresh, how & 0x03) {
                    (true, _) | (_, 0) => 0,
                    (_, 1) => size / 2,
                    (_, 2) => size,
                    _ => size.saturating_add(7),
                };
                if let Some(p) = self.parts.get_mut(&(transfer, file)) {
                    p.opened = Some(len);
                }
                engine.handle_input(
                    now,
                    Input::PartOpened {
                        transfer,
                        file,
                        len,
                    },
                );
            }
            Work::ReadChunk {
                transfer,
                file,
                offset,
                len,
            } => {
                let size = self.size_of(transfer, file).unwrap_or(0);
                let n = u64::from(len).min(size.saturating_sub(offset)) as usize;
                let mut data = generate::content(offset, n);
                match how & 0x03 {
                    2 => data.truncate(n / 2),
                    3 => {
                        if let Some(b) = data.first_mut() {
                            *b ^= 0xff;
                        }
                    }
                    _ => {}
                }
                engine.handle_input(
                    now,
                    Input::ChunkRead {
                        transfer,
                        file,
                        offset,
                        data: &data,
                    },
                );
            }
            Work::WriteChunk {
                transfer,
                file,
                offset,
            } => {
                let offset = if how & 0x03 == 3 {
                    offset.wrapping_add(1)
                } else {
                    offset
                };
                engine.handle_input(
                    now,
                    Input::ChunkWritten {
                        transfer,
                        file,
                        offset,
                    },
                );
            }
            Work::FinishFile { transfer, file } => {
                let path = format!("downloads/{transfer}-{file}");
                engine.handle_input(
                    now,
                    Input::FileFinished {
                        transfer,
                        file,
                        path,
                    },
                );
            }
        }
    }
}
