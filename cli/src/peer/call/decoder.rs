//! Decodes one call's received JPEG frames on a thread of its own, for the
//! full-screen interface's video panel and the call benchmark's probe. The
//! driver's loop only offers a frame ([`Decoder::offer`], which never
//! blocks): when the thread is still busy with earlier frames, the new one
//! is dropped, so a slow decoder shows fewer frames, never late ones, and
//! never holds up the loop.

use std::collections::BTreeMap;
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use confab_engine::wire::Name;

/// A decoded frame: `width * height` RGB pixels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    pub width: usize,
    pub height: usize,
    pub rgb: Vec<u8>,
}

/// The last picture decoded of each call, for the full-screen interface:
/// the decoding threads put, the interface's thread takes what is there
/// when it draws. A picture not taken before the next one is replaced, so
/// an interface that falls behind skips pictures and holds up nothing.
#[derive(Debug, Clone, Default)]
pub struct Latest(Arc<Mutex<BTreeMap<Name, Picture>>>);

impl Latest {
    pub fn put(&self, with: &Name, p: Picture) {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        m.insert(with.clone(), p);
    }

    /// The pictures put since the last take.
    pub fn take(&self) -> BTreeMap<Name, Picture> {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        std::mem::take(&mut *m)
    }
}

/// Frames waiting for the thread at most (beyond it, offers are dropped).
const QUEUE: usize = 2;

/// One call's decoding thread.
#[derive(Debug)]
pub struct Decoder {
    frames: SyncSender<Vec<u8>>,
    thread: Option<JoinHandle<()>>,
}

impl Decoder {
    /// Starts the thread; `show` gets each frame that decodes.
    pub fn start(
        name: &str,
        mut show: impl FnMut(Picture) + Send + 'static,
    ) -> std::io::Result<Self> {
        let (frames, rx) = mpsc::sync_channel::<Vec<u8>>(QUEUE);
        let thread = std::thread::Builder::new()
            .name(format!("confab-decode-{name}"))
            .spawn(move || {
                for jpeg in rx {
                    if let Some(p) = decode(&jpeg) {
                        show(p);
                    }
                }
            })?;
        Ok(Self {
            frames,
            thread: Some(thread),
        })
    }

    /// Hands a frame to the thread; `false` when it was dropped (the
    /// thread is behind, or gone).
    pub fn offer(&self, jpeg: Vec<u8>) -> bool {
        match self.frames.try_send(jpeg) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
        }
    }

    /// The call is over: waits for the frames already queued.
    pub fn finish(mut self) {
        let thread = self.thread.take();
        drop(self);
        if let Some(t) = thread {
            let _ = t.join();
        }
    }
}

/// Decodes a JPEG to RGB; `None` when it does not decode (a frame from the
/// network is hostile: zune-jpeg checks its sizes against the data).
pub fn decode(jpeg: &[u8]) -> Option<Picture> {
    let options = zune_jpeg::zune_core::options::DecoderOptions::default()
        .jpeg_set_out_colorspace(zune_jpeg::zune_core::colorspace::ColorSpace::RGB)
        .set_max_width(4096)
        .set_max_height(4096);
    let mut d = zune_jpeg::JpegDecoder::new_with_options(std::io::Cursor::new(jpeg), options);
    let rgb = d.decode().ok()?;
    let (width, height) = d.dimensions()?;
    (rgb.len() == width * height * 3).then_some(Picture { width, height, rgb })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::peer::call::testsrc;

    fn jpeg(n: u32) -> Vec<u8> {
        let rgb = testsrc::frame(n, 160, 128);
        let mut out = vec![];
        jpeg_encoder::Encoder::new(&mut out, 80)
            .encode(&rgb, 160, 128, jpeg_encoder::ColorType::Rgb)
            .unwrap();
        out
    }

    #[test]
    fn a_frame_decodes_with_its_number() {
        let p = decode(&jpeg(1234)).unwrap();
        assert_eq!((p.width, p.height), (160, 128));
        assert_eq!(testsrc::read_number(&p.rgb, 160, 3), Some(1234));
    }

    #[test]
    fn the_latest_picture_replaces_the_one_not_taken() {
        let l = Latest::default();
        let bob = Name::new("bob").unwrap();
        let p = |width| Picture {
            width,
            height: 1,
            rgb: vec![0; width * 3],
        };
        l.put(&bob, p(1));
        l.put(&bob, p(2));
        assert_eq!(l.take().get(&bob).map(|p| p.width), Some(2));
        assert!(l.take().is_empty());
    }

    #[test]
    fn garbage_does_not_decode() {
        assert_eq!(decode(b"not a jpeg"), None);
        let mut cut = jpeg(1);
        cut.truncate(cut.len() / 3);
        // A cut frame may decode to something or to nothing, never panic.
        let _ = decode(&cut);
    }

    #[test]
    fn frames_reach_the_thread_in_order_and_extra_ones_are_dropped() {
        let (tx, rx) = mpsc::channel();
        let d = Decoder::start("t", move |p| {
            let _ = tx.send(testsrc::read_number(&p.rgb, p.width, 3));
        })
        .unwrap();
        let offered: Vec<bool> = (0..50).map(|n| d.offer(jpeg(n))).collect();
        d.finish();
        let got: Vec<u32> = rx.try_iter().map(Option::unwrap).collect();
        let kept: Vec<u32> = (0..50).filter(|&n| offered[n as usize]).collect();
        assert_eq!(got, kept, "every frame taken is shown, in order");
        assert!(!kept.is_empty());
    }
}
