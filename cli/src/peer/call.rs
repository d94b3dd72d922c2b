//! The command line's side of video calls (issue 21): where frames come
//! from (`--video`: [`testsrc`] or [`y4m`]), the thread per call that
//! captures and JPEG-encodes them and hands them to the engine
//! ([`sender`]), and the `.mjpeg` file per call that `--media-out` keeps
//! ([`media_out`]). [`Calls`] starts and stops those as the engine's call
//! events arrive. Capture, encoding and file writes run on their own
//! threads, never on the driver's loop: the sink only sends on channels
//! and flips flags.

pub mod media_out;
pub mod sender;
pub mod testsrc;
pub mod video;
pub mod y4m;

use std::collections::BTreeMap;
use std::path::PathBuf;

use confab_engine::peer::{PeerCommand, PeerEvent};
use confab_engine::wire::Name;
use confab_mio::DriverHandle;

use self::media_out::MediaOut;
use self::sender::Sender;
pub use self::video::Video;

/// The calls in progress on the command line's side.
#[derive(Debug)]
pub struct Calls {
    me: Name,
    video: Video,
    media_out: Option<PathBuf>,
    handle: DriverHandle<PeerCommand>,
    senders: BTreeMap<Name, Sender>,
    files: BTreeMap<Name, MediaOut>,
}

impl Calls {
    pub fn new(
        me: Name,
        video: Video,
        media_out: Option<PathBuf>,
        handle: DriverHandle<PeerCommand>,
    ) -> Self {
        Self {
            me,
            video,
            media_out,
            handle,
            senders: BTreeMap::new(),
            files: BTreeMap::new(),
        }
    }

    /// Follows a call event. Returns `false` for events not to print
    /// (frames), and for `call_ended` the file the call was saved in.
    pub fn follow(&mut self, event: &PeerEvent) -> (bool, Option<PathBuf>) {
        match event {
            PeerEvent::CallStarted { with } => {
                let s = Sender::start(with.clone(), self.video.clone(), self.handle.clone());
                self.senders.insert(with.clone(), s);
                if let Some(dir) = &self.media_out {
                    match MediaOut::create(dir, &self.me, with) {
                        Ok(f) => {
                            self.files.insert(with.clone(), f);
                        }
                        Err(e) => tracing::warn!(error = %e, "cannot save the call"),
                    }
                }
                (true, None)
            }
            PeerEvent::CallFrame { with, jpeg, .. } => {
                if let Some(f) = self.files.get(with) {
                    f.write(jpeg.clone());
                }
                (false, None)
            }
            PeerEvent::CallAdapt { with, quality, fps } => {
                if let Some(s) = self.senders.get(with) {
                    s.adapt(*quality, *fps);
                }
                (true, None)
            }
            PeerEvent::CallEnded { with, .. } => {
                if let Some(s) = self.senders.remove(with) {
                    s.stop();
                }
                let path = self.files.remove(with).map(MediaOut::finish);
                (true, path)
            }
            _ => (true, None),
        }
    }
}
