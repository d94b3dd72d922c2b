//! `--media-out DIR`: the video received in one call, as the JPEG frames
//! one after another (`ME-WITH-UNIXMS.mjpeg`, which `ffplay -f mjpeg`
//! plays). Frames go to a writer thread over a channel, so the driver's
//! loop never waits for the disk; [`MediaOut::finish`] waits for the last
//! write and says where the file is.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Sender};
use std::thread::JoinHandle;

use confab_engine::wire::Name;

/// One call's file.
#[derive(Debug)]
pub struct MediaOut {
    path: PathBuf,
    frames: Sender<Vec<u8>>,
    writer: JoinHandle<()>,
}

impl MediaOut {
    /// Creates the call's file in `dir` (creating `dir` if needed).
    pub fn create(dir: &Path, me: &Name, with: &Name) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let ms = crate::clock::unix_ms();
        let path = dir.join(format!("{me}-{with}-{ms}.mjpeg"));
        let mut out = BufWriter::new(File::create_new(&path)?);
        let (frames, rx) = mpsc::channel::<Vec<u8>>();
        let shown = path.display().to_string();
        let writer = std::thread::Builder::new()
            .name("confab-media-out".into())
            .spawn(move || {
                for jpeg in rx {
                    if let Err(e) = out.write_all(&jpeg) {
                        tracing::warn!(error = %e, path = %shown, "saving the call stopped");
                        return;
                    }
                }
                if let Err(e) = out.flush() {
                    tracing::warn!(error = %e, path = %shown, "saving the call failed");
                }
            })?;
        Ok(Self {
            path,
            frames,
            writer,
        })
    }

    /// Queues a frame for the file.
    pub fn write(&self, jpeg: Vec<u8>) {
        let _ = self.frames.send(jpeg);
    }

    /// The call is over: waits for the queued frames to be written.
    pub fn finish(self) -> PathBuf {
        drop(self.frames);
        let _ = self.writer.join();
        self.path
    }
}
