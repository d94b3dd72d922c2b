//! The thread that sends one call's video: it takes frames from the
//! source at the source's rate (or as they come from a pipe), encodes each
//! as JPEG at the quality the engine last asked for (`call_adapt`), skips
//! frames over the rate it asked for, and hands them to the engine with
//! their capture time. It stops when the call ends or the source does.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use confab_engine::peer::PeerCommand;
use confab_engine::wire::Name;
use confab_mio::DriverHandle;
use jpeg_encoder::{ColorType, Encoder};

use super::probe::Probe;
use super::testsrc;
use super::video::Video;
use super::y4m;

/// A call's sending thread.
#[derive(Debug)]
pub struct Sender {
    quality: Arc<AtomicU32>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Sender {
    pub fn start(
        with: Name,
        video: Video,
        handle: DriverHandle<PeerCommand>,
        probe: Option<Probe>,
    ) -> Self {
        let quality = Arc::new(AtomicU32::new(80));
        let stop = Arc::new(AtomicBool::new(false));
        let (q, s) = (quality.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name(format!("confab-call-{with}"))
            .spawn(move || {
                if let Err(e) = run(&with, &video, &handle, &q, &s, probe.as_ref()) {
                    tracing::warn!(error = %e, "the call's video source stopped");
                }
            })
            .ok();
        Self {
            quality,
            stop,
            thread,
        }
    }

    /// The engine's new quality (the rate it enforces itself).
    pub fn adapt(&self, quality: u8, _fps: u32) {
        self.quality.store(u32::from(quality), Ordering::Relaxed);
    }

    /// Stops the thread (without waiting for it: a pipe read may block).
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        drop(self.thread.take());
    }
}

fn encode(pixels: &[u8], w: u16, h: u16, color: ColorType, quality: u8) -> io::Result<Vec<u8>> {
    let mut jpeg = Vec::with_capacity(pixels.len() / 8);
    Encoder::new(&mut jpeg, quality)
        .encode(pixels, w, h, color)
        .map_err(|e| io::Error::other(e.to_string()))?;
    Ok(jpeg)
}

fn run(
    with: &Name,
    video: &Video,
    handle: &DriverHandle<PeerCommand>,
    quality: &AtomicU32,
    stop: &AtomicBool,
    probe: Option<&Probe>,
) -> io::Result<()> {
    let start = Instant::now();
    let send = |jpeg: Vec<u8>, captured: Instant| {
        let cmd = PeerCommand::CallFrame {
            with: with.clone(),
            jpeg,
            captured,
        };
        handle.command(cmd).is_ok()
    };
    let q = || quality.load(Ordering::Relaxed).clamp(1, 100) as u8;
    match video {
        Video::TestSrc { width, height, fps } => {
            let gap = Duration::from_secs(1) / *fps;
            for n in 0u32.. {
                let due = start + gap * n;
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                if stop.load(Ordering::Relaxed) {
                    return Ok(());
                }
                let captured = Instant::now();
                if let Some(p) = probe {
                    p.mark("sent", n, Probe::now_us());
                }
                let rgb = testsrc::frame(n, *width, *height);
                let jpeg = encode(&rgb, *width, *height, ColorType::Rgb, q())?;
                if !send(jpeg, captured) {
                    return Ok(());
                }
            }
            Ok(())
        }
        Video::Y4m(path) => {
            let piped = path.as_os_str() == "-";
            let mut r: Box<dyn BufRead> = if piped {
                Box::new(BufReader::new(io::stdin()))
            } else {
                Box::new(BufReader::new(File::open(path)?))
            };
            let h = y4m::header(&mut r)?;
            // A file is paced at its rate; a pipe comes at the camera's.
            let gap = (!piped && h.fps > 0).then(|| Duration::from_secs(1) / h.fps);
            let mut n = 0u32;
            while let Some(frame) = y4m::frame(&mut r, h)? {
                if let Some(gap) = gap
                    && let Some(wait) = (start + gap * n).checked_duration_since(Instant::now())
                {
                    std::thread::sleep(wait);
                }
                n += 1;
                if stop.load(Ordering::Relaxed) {
                    return Ok(());
                }
                let captured = Instant::now();
                let jpeg = encode(&frame, h.width, h.height, ColorType::Ycbcr, q())?;
                if !send(jpeg, captured) {
                    return Ok(());
                }
            }
            Ok(())
        }
    }
}
