//! The `--json` objects and the human lines of the call events (issue 21),
//! kept apart from `json` and `human` so those stay one match each. Names
//! are checked on the wire; reasons come from the other side and go
//! through [`Shown`] for people.

use std::path::Path;

use confab_engine::peer::PeerEvent;
use serde_json::{Value, json};

use super::words::plain;
use crate::safe::Shown;

/// Milliseconds with one decimal, from microseconds.
fn ms(us: u64) -> f64 {
    (us as f64 / 100.0).round() / 10.0
}

/// The JSON object of a call event (`Value::Null` for any other).
pub fn event(e: &PeerEvent) -> Value {
    match e {
        PeerEvent::CallRequest { id, from } => {
            json!({"event": "call_request", "id": id.0, "from": from.as_str()})
        }
        PeerEvent::CallStarted { with } => json!({"event": "call_started", "with": with.as_str()}),
        PeerEvent::CallStats { with, stats: s } => {
            let seen = s.frames + s.lost;
            let loss = if seen == 0 {
                0.0
            } else {
                (s.lost as f64 * 1000.0 / seen as f64).round() / 10.0
            };
            json!({
                "event": "call_stats",
                "with": with.as_str(),
                "fps": s.fps,
                "frames": s.frames,
                "lost": s.lost,
                "loss_pct": loss,
                "jitter_ms": ms(s.jitter_us),
                "latency_ms": ms(s.latency_us),
                "kbps": s.kbps,
            })
        }
        PeerEvent::CallEnded {
            with,
            reason,
            frames_received,
            frames_lost,
        } => json!({
            "event": "call_ended",
            "with": with.as_str(),
            "reason": reason,
            "frames_received": frames_received,
            "frames_lost": frames_lost,
        }),
        PeerEvent::CallFrame {
            with,
            frame,
            captured_us,
            jpeg,
        } => json!({
            "event": "call_frame",
            "with": with.as_str(),
            "frame": frame,
            "captured_us": captured_us,
            "bytes": jpeg.len(),
        }),
        PeerEvent::CallAdapt { with, quality, fps } => json!({
            "event": "call_adapt", "with": with.as_str(), "quality": quality, "fps": fps,
        }),
        _ => Value::Null,
    }
}

/// `call_ended` with the file the call was saved in, if it was.
pub fn ended(e: &PeerEvent, path: Option<&Path>) -> Value {
    let mut v = event(e);
    if let Some(p) = path {
        v["path"] = json!(p.display().to_string());
    }
    v
}

/// The line for people, or `None` for what is not shown.
pub fn line(e: &PeerEvent, path: Option<&Path>) -> Option<String> {
    Some(match e {
        PeerEvent::CallRequest { id, from } => {
            format!("{from} is calling: /accept {id} or /decline {id}")
        }
        PeerEvent::CallStarted { with } => {
            format!("call with {with} started; /hangup {with} ends it")
        }
        PeerEvent::CallEnded {
            with,
            reason,
            frames_received,
            frames_lost,
        } => {
            let saved = path.map_or(String::new(), |p| {
                format!("; saved to {}", Shown(&p.display().to_string()))
            });
            format!(
                "call with {with} ended ({}): {frames_received} frames received, {frames_lost} lost{saved}",
                Shown(&plain(reason))
            )
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use confab_engine::peer::CallStats;
    use confab_engine::wire::Name;

    #[test]
    fn stats_are_in_the_documented_units() {
        let e = PeerEvent::CallStats {
            with: Name::new("bob").unwrap(),
            stats: CallStats {
                fps: 30,
                frames: 99,
                lost: 1,
                period_lost: 0,
                jitter_us: 1234,
                latency_us: 20_000,
                kbps: 900,
            },
        };
        let v = event(&e);
        assert_eq!(v["loss_pct"], 1.0);
        assert_eq!(v["jitter_ms"], 1.2);
        assert_eq!(v["latency_ms"], 20.0);
    }
}
