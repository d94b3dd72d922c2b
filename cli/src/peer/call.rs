//! The command line's side of video calls (issue 21): where frames come
//! from (`--video`: [`testsrc`] or [`y4m`]), the thread per call that
//! captures and JPEG-encodes them and hands them to the engine
//! ([`sender`]), and the `.mjpeg` file per call that `--media-out` keeps
//! ([`media_out`]), the thread that decodes what is received when
//! something shows it ([`decoder`]), and the benchmark's `--call-probe`
//! file ([`probe`]). [`Calls`] starts and stops those as the engine's call
//! events arrive. Capture, encoding, decoding and file writes run on their
//! own threads, never on the driver's loop: the sink only sends on channels
//! (never waiting) and flips flags.

pub mod decoder;
pub mod media_out;
pub mod probe;
pub mod sender;
pub mod testsrc;
pub mod video;
pub mod y4m;

use std::collections::BTreeMap;
use std::path::PathBuf;

use confab_engine::peer::{PeerCommand, PeerEvent};
use confab_engine::wire::Name;
use confab_mio::DriverHandle;

use self::decoder::{Decoder, Latest};
use self::media_out::MediaOut;
use self::probe::Probe;
use self::sender::Sender;
pub use self::video::Video;

/// The calls in progress on the command line's side.
#[derive(Debug)]
pub struct Calls {
    me: Name,
    video: Video,
    media_out: Option<PathBuf>,
    handle: DriverHandle<PeerCommand>,
    probe: Option<Probe>,
    view: Option<Latest>,
    senders: BTreeMap<Name, Sender>,
    files: BTreeMap<Name, MediaOut>,
    decoders: BTreeMap<Name, Decoder>,
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
            probe: None,
            view: None,
            senders: BTreeMap::new(),
            files: BTreeMap::new(),
            decoders: BTreeMap::new(),
        }
    }

    /// `--call-probe`: marks each test-pattern frame sent and decoded.
    pub fn with_probe(mut self, probe: Probe) -> Self {
        self.probe = Some(probe);
        self
    }

    /// The full-screen interface shows the video: decoded pictures go to
    /// `view`.
    pub fn with_view(mut self, view: Latest) -> Self {
        self.view = Some(view);
        self
    }

    /// A decoder for `with`'s video, when something shows it.
    fn decoder(&self, with: &Name) -> Option<Decoder> {
        if self.probe.is_none() && self.view.is_none() {
            return None;
        }
        let (probe, view, name) = (self.probe.clone(), self.view.clone(), with.clone());
        let show = move |p: decoder::Picture| {
            if let Some(probe) = &probe {
                let us = Probe::now_us();
                if let Some(n) = testsrc::read_number(&p.rgb, p.width, 3) {
                    probe.mark("shown", n, us);
                }
            }
            if let Some(view) = &view {
                view.put(&name, p);
            }
        };
        Decoder::start(with.as_str(), show)
            .inspect_err(|e| tracing::warn!(error = %e, "cannot decode the call"))
            .ok()
    }

    /// Follows a call event. Returns `false` for events not to print
    /// (frames), and for `call_ended` the file the call was saved in.
    pub fn follow(&mut self, event: &PeerEvent) -> (bool, Option<PathBuf>) {
        match event {
            PeerEvent::CallStarted { with } => {
                let s = Sender::start(
                    with.clone(),
                    self.video.clone(),
                    self.handle.clone(),
                    self.probe.clone(),
                );
                self.senders.insert(with.clone(), s);
                if let Some(d) = self.decoder(with) {
                    self.decoders.insert(with.clone(), d);
                }
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
                if let Some(d) = self.decoders.get(with) {
                    d.offer(jpeg.clone());
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
                if let Some(d) = self.decoders.remove(with) {
                    // The benchmark reads the probe once it sees the end:
                    // its last lines must be written by then. Otherwise the
                    // thread ends by itself, without the loop waiting.
                    if self.probe.is_some() {
                        d.finish();
                    }
                }
                let path = self.files.remove(with).map(MediaOut::finish);
                (true, path)
            }
            _ => (true, None),
        }
    }
}
