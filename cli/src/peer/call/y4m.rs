//! Y4M input (`--video FILE.y4m`, `--video -`): YUV 4:2:0 frames as
//! `ffmpeg -f v4l2 -i /dev/video0 -f yuv4mpegpipe -` writes them, so a
//! real webcam works. Only 4:2:0 with 8 bits per sample (`C420`,
//! `C420jpeg`, `C420paldv`, `C420mpeg2`, or no `C` at all) is read; each
//! frame becomes interleaved YCbCr for the JPEG encoder.

use std::io::{self, BufRead, Read};

/// A Y4M stream's frame size and rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub width: u16,
    pub height: u16,
    /// Frames a second (rounded; 0 if the stream does not say).
    pub fps: u32,
}

fn bad(why: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why.into())
}

/// Reads the stream header line.
pub fn header(r: &mut impl BufRead) -> io::Result<Header> {
    let mut line = Vec::new();
    r.take(1024).read_until(b'\n', &mut line)?;
    let line = String::from_utf8_lossy(&line);
    let mut words = line.split_ascii_whitespace();
    if words.next() != Some("YUV4MPEG2") {
        return Err(bad("not a Y4M stream (no YUV4MPEG2 header)"));
    }
    let (mut width, mut height, mut fps) = (0u16, 0u16, 0u32);
    for w in words {
        let (tag, v) = w.split_at(1);
        match tag {
            "W" => width = v.parse().map_err(|_| bad("bad width"))?,
            "H" => height = v.parse().map_err(|_| bad("bad height"))?,
            "F" => {
                let (n, d) = v.split_once(':').unwrap_or((v, "1"));
                let (n, d): (u32, u32) = (n.parse().unwrap_or(0), d.parse().unwrap_or(1));
                fps = n.checked_div(d.max(1)).unwrap_or(0);
            }
            "C" if !matches!(v, "420" | "420jpeg" | "420paldv" | "420mpeg2") => {
                return Err(bad(format!(
                    "colour space C{v} is not 4:2:0 8-bit; use -pix_fmt yuv420p"
                )));
            }
            _ => {}
        }
    }
    if width == 0 || height == 0 || width > 3840 || height > 2160 {
        return Err(bad(format!(
            "frame size {width}x{height} is not 1x1 to 3840x2160"
        )));
    }
    Ok(Header { width, height, fps })
}

/// The next frame as interleaved YCbCr, or `None` at the end of the stream.
pub fn frame(r: &mut impl BufRead, h: Header) -> io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    if r.take(256).read_until(b'\n', &mut line)? == 0 {
        return Ok(None);
    }
    if !line.starts_with(b"FRAME") {
        return Err(bad("expected FRAME"));
    }
    let (w, hh) = (h.width as usize, h.height as usize);
    let (cw, ch) = (w.div_ceil(2), hh.div_ceil(2));
    let mut planes = vec![0u8; w * hh + 2 * cw * ch];
    r.read_exact(&mut planes)?;
    let (y, uv) = planes.split_at(w * hh);
    let (u, v) = uv.split_at(cw * ch);
    let mut out = vec![0u8; w * hh * 3];
    for row in 0..hh {
        for col in 0..w {
            let i = (row * w + col) * 3;
            let c = (row / 2) * cw + col / 2;
            out[i] = y[row * w + col];
            out[i + 1] = u[c];
            out[i + 2] = v[c];
        }
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_two_frame_stream() {
        let mut s = b"YUV4MPEG2 W4 H2 F30:1 Ip A1:1 C420jpeg\n".to_vec();
        for n in 0..2u8 {
            s.extend_from_slice(b"FRAME\n");
            s.extend_from_slice(&[n; 8]); // Y
            s.extend_from_slice(&[100, 101]); // U
            s.extend_from_slice(&[200, 201]); // V
        }
        let mut r = io::BufReader::new(&s[..]);
        let h = header(&mut r).unwrap();
        assert_eq!(
            h,
            Header {
                width: 4,
                height: 2,
                fps: 30
            }
        );
        let f = frame(&mut r, h).unwrap().unwrap();
        assert_eq!(&f[..6], &[0, 100, 200, 0, 100, 200]);
        assert_eq!(&f[6..9], &[0, 101, 201]);
        assert_eq!(frame(&mut r, h).unwrap().unwrap()[0], 1);
        assert!(frame(&mut r, h).unwrap().is_none());
    }

    #[test]
    fn refuses_other_formats() {
        let mut r = io::BufReader::new(&b"YUV4MPEG2 W4 H2 C444\n"[..]);
        assert!(header(&mut r).is_err());
        let mut r = io::BufReader::new(&b"P6 4 2\n"[..]);
        assert!(header(&mut r).is_err());
    }
}
