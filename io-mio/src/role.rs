//! What the driver needs to know about a role beyond [`confab_engine::Engine`]:
//! how to ask it to wind down ([`Stoppable`]), and where its events go
//! ([`Sink`], which also says when the role is finished).

use confab_engine::peer::PeerCommand;
use confab_engine::{CommandError, RegistryCommand};

/// A command type with a "wind down" command: say goodbye, log out.
pub trait Stoppable {
    /// The command that stops the role gracefully.
    fn stop() -> Self;
}

impl Stoppable for RegistryCommand {
    fn stop() -> Self {
        RegistryCommand::Shutdown
    }
}

impl Stoppable for PeerCommand {
    fn stop() -> Self {
        PeerCommand::Quit
    }
}

/// Whether the driver goes on after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Keep running.
    Continue,
    /// The role is finished (a peer's `Stopped`): flush what is queued and end.
    Finish,
}

/// Where a driver delivers what its engine says. Called on the driver's thread,
/// after the records that came before the event are durable.
pub trait Sink<E> {
    /// An event from the engine.
    fn event(&mut self, event: E) -> Flow;
    /// The engine refused a command from a [`crate::DriverHandle`].
    fn refused(&mut self, error: CommandError);
}
