//! The media path of a call (issue 21), as pure values the peer's `calls`
//! room drives: no timers, no outputs, time passed in.
//!
//! - [`keys`]: the two media keys of a call, derived from both sides'
//!   random contributions (carried over the authenticated Noise link), and
//!   the sealing and opening of datagrams with a counter nonce and a replay
//!   window;
//! - [`datagram`]: the datagram's clear header and the media fragment
//!   inside it, parsed from borrowed bytes without allocating;
//! - [`fragment`]: a frame split into fragments that fit one datagram;
//! - [`jitter`]: the receiver's reassembly and jitter buffer, which shows a
//!   frame only complete, on time and in order, and its statistics;
//! - [`adapt`]: what the sender makes of the receiver's reports (quality and
//!   frame rate).
//!
//! Invariants: a datagram is authenticated before anything it claims is
//! believed, and nothing is allocated for it before that; a nonce is never
//! used twice under one key (each key is fresh per call and direction, and
//! the counter only grows); frames go out of the jitter buffer in strictly
//! increasing frame numbers.

pub mod adapt;
pub mod datagram;
pub mod fragment;
pub mod jitter;
pub mod keys;
