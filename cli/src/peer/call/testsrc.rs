//! The test pattern (`--video testsrc`): moving colour gradients, with the
//! frame's number written into its top-left corner as 32 black or white
//! 16x16 blocks (8 across, 4 down, most significant bit first), aligned
//! with JPEG's blocks so that compression never flips one. [`read_number`]
//! reads it back from a decoded frame: the receiver's check of order and
//! integrity.

/// The smallest pattern: room for the number's blocks.
pub const MIN_SIZE: (u16, u16) = (128, 64);
const BLOCK: usize = 16;

/// Frame `n` of the pattern, as `width * height` RGB pixels.
pub fn frame(n: u32, width: u16, height: u16) -> Vec<u8> {
    let (w, h) = (width as usize, height as usize);
    let mut rgb = vec![0u8; w * h * 3];
    let shift = n as usize;
    for y in 0..h {
        for x in 0..w {
            let i = (y * w + x) * 3;
            rgb[i] = ((x + shift * 4) & 255) as u8;
            rgb[i + 1] = ((y + shift * 2) & 255) as u8;
            rgb[i + 2] = (((x + y) / 2 + shift * 3) & 255) as u8;
        }
    }
    for bit in 0..32 {
        let on = n >> (31 - bit) & 1 == 1;
        let (bx, by) = ((bit % 8) * BLOCK, (bit / 8) * BLOCK);
        for y in by..by + BLOCK {
            for x in bx..bx + BLOCK {
                let i = (y * w + x) * 3;
                rgb[i..i + 3].fill(if on { 255 } else { 0 });
            }
        }
    }
    rgb
}

/// The number in a decoded frame's corner, from its luma (or any one
/// channel): `pixels` holds `channels` bytes per pixel, `width` wide.
/// (`tests/call_e2e.rs` reads the saved frames the same way.)
pub fn read_number(pixels: &[u8], width: usize, channels: usize) -> Option<u32> {
    let mut n = 0u32;
    for bit in 0..32 {
        let (bx, by) = ((bit % 8) * BLOCK, (bit / 8) * BLOCK);
        let mut sum = 0u32;
        for y in by + 4..by + 12 {
            for x in bx + 4..bx + 12 {
                sum += u32::from(*pixels.get((y * width + x) * channels)?);
            }
        }
        let mean = sum / 64;
        // Anything between black and white means this is not the pattern.
        if (64..192).contains(&mean) {
            return None;
        }
        n = n << 1 | u32::from(mean >= 128);
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_survive_the_round_trip() {
        for n in [0, 1, 77, 0xDEAD_BEEF] {
            let rgb = frame(n, 160, 120);
            assert_eq!(read_number(&rgb, 160, 3), Some(n));
        }
    }
}
