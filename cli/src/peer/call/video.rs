//! What `--video` names: the test pattern at a size and rate, or a Y4M
//! file or pipe. Parsing only; the sources themselves are `testsrc` and
//! `y4m`.

use std::path::PathBuf;
use std::str::FromStr;

use super::testsrc;

/// Where a call's video comes from (`--video`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Video {
    /// `testsrc[:WxH[@FPS]]`: the moving test pattern (default 320x240 at 15).
    TestSrc { width: u16, height: u16, fps: u32 },
    /// `FILE.y4m`, or `-` for standard input.
    Y4m(PathBuf),
}

impl Default for Video {
    fn default() -> Self {
        Video::TestSrc {
            width: 320,
            height: 240,
            fps: 15,
        }
    }
}

impl FromStr for Video {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let Some(rest) = s.strip_prefix("testsrc") else {
            return Ok(Video::Y4m(PathBuf::from(s)));
        };
        let Video::TestSrc {
            mut width,
            mut height,
            mut fps,
        } = Video::default()
        else {
            unreachable!()
        };
        if let Some(spec) = rest.strip_prefix(':') {
            let (size, rate) = spec.split_once('@').unwrap_or((spec, ""));
            let (w, h) = size
                .split_once('x')
                .ok_or_else(|| format!("testsrc size is WIDTHxHEIGHT, not {size:?}"))?;
            let num = |v: &str| v.parse::<u16>().map_err(|_| format!("not a size: {v:?}"));
            (width, height) = (num(w)?, num(h)?);
            if !rate.is_empty() {
                fps = rate
                    .parse()
                    .map_err(|_| format!("not a frame rate: {rate:?}"))?;
            }
        } else if !rest.is_empty() {
            return Err(format!("--video testsrc[:WxH[@FPS]], not {s:?}"));
        }
        let min = testsrc::MIN_SIZE;
        if width < min.0 || height < min.1 || width > 3840 || height > 2160 {
            return Err(format!(
                "testsrc is {}x{} to 3840x2160, not {width}x{height}",
                min.0, min.1
            ));
        }
        if !(1..=60).contains(&fps) {
            return Err(format!(
                "testsrc runs at 1 to 60 frames a second, not {fps}"
            ));
        }
        Ok(Video::TestSrc { width, height, fps })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn video_flag_parses() {
        assert_eq!("testsrc".parse::<Video>().unwrap(), Video::default());
        assert_eq!(
            "testsrc:640x480@30".parse::<Video>().unwrap(),
            Video::TestSrc {
                width: 640,
                height: 480,
                fps: 30
            }
        );
        assert_eq!(
            "cam.y4m".parse::<Video>().unwrap(),
            Video::Y4m("cam.y4m".into())
        );
        assert_eq!("-".parse::<Video>().unwrap(), Video::Y4m("-".into()));
        assert!("testsrc:10x10".parse::<Video>().is_err());
        assert!("testsrc:640x480@0".parse::<Video>().is_err());
        assert!("testsrcx".parse::<Video>().is_err());
    }
}
