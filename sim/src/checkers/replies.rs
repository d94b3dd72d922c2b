//! Replies: every reply answers the oldest open request on its connection,
//! one for one (the clients check this as replies arrive and report a
//! `Breach`); the registry never refuses what a well-behaved client asks in
//! the right state; the workload never gives a scripted client a command it
//! refuses. (Peers may refuse: their workload chooses from what the peer
//! reported, and the engine can move on in the tick before the command runs,
//! say a chat request expiring.)

use confab_engine::wire::ErrorCode;

use super::view::{Checker, View};
use crate::client::ClientEvent;
use crate::observe::{Observation, Observed, SimCommand, SimEvent};

/// See the module documentation.
#[derive(Debug, Default)]
pub struct Replies;

impl Checker for Replies {
    fn name(&self) -> &'static str {
        "replies"
    }

    fn observe(&mut self, obs: &Observation, _view: &View<'_>) -> Result<(), String> {
        match &obs.what {
            Observed::Event(SimEvent::Client(ClientEvent::Breach { what })) => {
                Err(format!("h{}: {what}", obs.host))
            }
            Observed::Event(SimEvent::Client(ClientEvent::Refused { what, code }))
                if !matches!(
                    code,
                    ErrorCode::NotFound | ErrorCode::UnknownName | ErrorCode::NameTaken
                ) =>
            {
                Err(format!(
                    "h{}: the registry refused {what} with {code}",
                    obs.host
                ))
            }
            Observed::Command {
                cmd: cmd @ SimCommand::Client(_),
                refused: Some(why),
            } => Err(format!(
                "h{}: a command was refused: {cmd:?}: {why}",
                obs.host
            )),
            _ => Ok(()),
        }
    }
}
