//! A frame split into the fragments that each fit one datagram
//! ([`FRAGMENT_PAYLOAD`] bytes of JPEG each, the last one shorter).

use crate::call::datagram::{FRAGMENT_PAYLOAD, Fragment, MAX_FRAGMENTS};

/// The fragments of `jpeg` as frame `frame` captured at `captured_us`, or
/// `None` if it is empty or needs more than [`MAX_FRAGMENTS`].
pub fn split(frame: u32, captured_us: u64, jpeg: &[u8]) -> Option<Vec<Fragment<'_>>> {
    let count = jpeg.len().div_ceil(FRAGMENT_PAYLOAD);
    if count == 0 || count > MAX_FRAGMENTS {
        return None;
    }
    Some(
        jpeg.chunks(FRAGMENT_PAYLOAD)
            .enumerate()
            .map(|(i, payload)| Fragment {
                frame,
                index: i as u16,
                count: count as u16,
                captured_us,
                payload,
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::MAX_CALL_FRAME_LEN;

    #[test]
    fn splits_cover_the_frame_exactly() {
        for len in [
            1,
            FRAGMENT_PAYLOAD - 1,
            FRAGMENT_PAYLOAD,
            FRAGMENT_PAYLOAD + 1,
            40_000,
        ] {
            let jpeg: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let parts = split(4, 10, &jpeg).unwrap();
            assert_eq!(parts.len(), len.div_ceil(FRAGMENT_PAYLOAD));
            let joined: Vec<u8> = parts.iter().flat_map(|f| f.payload.to_vec()).collect();
            assert_eq!(joined, jpeg);
            for (i, f) in parts.iter().enumerate() {
                assert_eq!((f.index as usize, f.count as usize), (i, parts.len()));
                let mut plain = vec![];
                f.write(&mut plain);
                assert_eq!(Fragment::parse(&plain).as_ref(), Some(f));
            }
        }
    }

    #[test]
    fn refuses_empty_and_oversized_frames() {
        assert!(split(0, 0, &[]).is_none());
        assert!(split(0, 0, &vec![0; MAX_CALL_FRAME_LEN]).is_some());
        let too_big = vec![0; MAX_FRAGMENTS * FRAGMENT_PAYLOAD + 1];
        assert!(split(0, 0, &too_big).is_none());
    }
}
