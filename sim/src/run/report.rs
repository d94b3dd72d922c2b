//! The outcome of a run and its report: what was exercised, how fast, the
//! trace hash, and on failure what broke and how to replay it.

use std::fmt;
use std::time::Duration;

use super::config::SimConfig;
use super::stats::Stats;
use crate::checkers::Violation;

/// What a run did and found.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The seed.
    pub seed: u64,
    /// The shape.
    pub config: SimConfig,
    /// What the seed drew (latency, fault plan, workload mix).
    pub describe: String,
    /// What was exercised.
    pub stats: Stats,
    /// Simulated time reached.
    pub sim_time: Duration,
    /// Wall time taken.
    pub wall: Duration,
    /// The trace hash.
    pub trace_hash: u64,
    /// Trace lines.
    pub trace_lines: u64,
    /// The last trace lines.
    pub tail: Vec<String>,
    /// Every trace line, when kept.
    pub full_trace: Option<Vec<String>>,
    /// The first property that failed.
    pub failure: Option<Violation>,
}

impl Outcome {
    /// Whether every check held.
    pub fn ok(&self) -> bool {
        self.failure.is_none()
    }

    /// Simulated seconds per wall-clock second.
    pub fn speed(&self) -> f64 {
        self.sim_time.as_secs_f64() / self.wall.as_secs_f64().max(1e-9)
    }

    /// The command that replays this run.
    pub fn replay(&self) -> String {
        self.config.replay_command(self.seed)
    }

    /// One line, for runs of many seeds.
    pub fn line(&self) -> String {
        let verdict = match &self.failure {
            None => "ok".to_string(),
            Some(v) => format!("FAILED {v}"),
        };
        format!(
            "seed {:>20}  {}  {:>5} msgs  {:>5} shown  {:>3} xfers {:>3} done {:>3} failed {:>8} B  {:>2} calls {:>5} frames  {:>5.1} s sim  {:>6.2} s wall  trace {:016x}",
            self.seed,
            verdict,
            self.stats.sent,
            self.stats.shown,
            self.stats.xfer_started,
            self.stats.xfer_received,
            self.stats.xfer_failed,
            self.stats.xfer_bytes,
            self.stats.calls,
            self.stats.call_frames,
            self.sim_time.as_secs_f64(),
            self.wall.as_secs_f64(),
            self.trace_hash
        ) + &if self.config.hybrid {
            format!(
                "  registry down {:.1} s, {} msgs meanwhile, {} LAN /who",
                self.stats.registry_down_ms as f64 / 1000.0,
                self.stats.sent_registry_down,
                self.stats.lan_lookups
            )
        } else {
            String::new()
        }
    }

    /// What broke, the trace leading up to it, and the replay command.
    pub fn failure_report(&self) -> Option<String> {
        let v = self.failure.as_ref()?;
        let mut s = format!("FAILED seed {}: {v}\n", self.seed);
        s += "last trace lines:\n";
        for line in &self.tail {
            s += &format!("  {line}\n");
        }
        s += &format!("replay: {}\n", self.replay());
        Some(s)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.stats;
        let c = &self.config;
        writeln!(
            f,
            "confab-sim seed {}: {}",
            self.seed,
            if self.ok() { "ok" } else { "FAILED" }
        )?;
        writeln!(f, "  drawn       {}", self.describe)?;
        if c.hybrid {
            writeln!(
                f,
                "  hosts       1 registry (coming and going), {} peers with discovery on, {} scripted registry clients",
                c.peers, c.clients
            )?;
        } else if c.lan {
            writeln!(
                f,
                "  hosts       no registry (LAN run), {} peers, no scripted clients",
                c.peers
            )?;
        } else {
            writeln!(
                f,
                "  hosts       1 registry, {} peers, {} scripted registry clients",
                c.peers, c.clients
            )?;
        }
        writeln!(
            f,
            "  clients     {} requests ({} heartbeats), {} replies, {} presence pushes; {} commands",
            s.requests, s.heartbeats, s.replies, s.presence, s.commands
        )?;
        writeln!(
            f,
            "  sessions    {} registrations, {} logins; ended: {}",
            s.registrations,
            s.logins,
            s.offline_line()
        )?;
        writeln!(
            f,
            "  relay       {} streams relayed, {} bytes through closed ones",
            s.relayed, s.relayed_bytes
        )?;
        writeln!(
            f,
            "  network     {} connections, {} links lost, {} bytes received",
            s.connections, s.losses, s.bytes
        )?;
        writeln!(
            f,
            "  messages    {} sent ({} queued), {} shown, {} delivered",
            s.sent, s.queued, s.shown, s.delivered
        )?;
        writeln!(
            f,
            "  chats       {} requests, {} opened, {} closed; groups {} created, {} invitations, {} joins",
            s.chat_requests, s.chats_opened, s.chats_closed, s.groups_created, s.invites, s.joins
        )?;
        writeln!(
            f,
            "  peers       {} quits, {} restarts, {} commands refused",
            s.quits, s.restarts, s.refused
        )?;
        writeln!(
            f,
            "  transfers   {} started ({} offers), {} received, {} sent, {} failed, {} cancels; {} bytes written",
            s.xfer_started,
            s.xfer_offers,
            s.xfer_received,
            s.xfer_sent,
            s.xfer_failed,
            s.xfer_cancels,
            s.xfer_bytes
        )?;
        writeln!(
            f,
            "  calls       {} up (counted at each end), {} frames shown",
            s.calls, s.call_frames
        )?;
        writeln!(f, "  faults      {}", s.faults_line())?;
        if c.hybrid || c.lan {
            writeln!(
                f,
                "  registry    down {:.1} s in all ({} partitions away); meanwhile {} messages sent, {} shown, {} chunks \
                 written; {} LAN /who answers, {} sessions restored",
                s.registry_down_ms as f64 / 1000.0,
                s.registry_away,
                s.sent_registry_down,
                s.shown_registry_down,
                s.chunks_registry_down,
                s.lan_lookups,
                s.registry_back
            )?;
        }
        writeln!(
            f,
            "  attacker    {}, {} certificates copied; the registry closed {} connections for violations",
            s.attacks_line(),
            s.captured,
            s.violations
        )?;
        writeln!(
            f,
            "  time        {:.1} s simulated ({:.0} faulty + {:.0} heal), {:.2} s wall, {:.1} sim-s per wall-s",
            self.sim_time.as_secs_f64(),
            c.duration.as_secs_f64(),
            c.heal.as_secs_f64(),
            self.wall.as_secs_f64(),
            self.speed()
        )?;
        if let Some(report) = self.failure_report() {
            write!(f, "{report}")?;
        }
        write!(f, "trace {:016x}", self.trace_hash)
    }
}
