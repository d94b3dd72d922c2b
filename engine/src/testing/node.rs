//! [`Node`]: any engine, seen by the harness through one object-safe interface.

use std::any::Any;
use std::net::SocketAddr;
use std::time::Instant;

use crate::api::{ConnId, Engine, Input, Output};
use crate::peer::PeerEvent;
use crate::registry::RegistryEvent;
use crate::testing::script::ScriptEvent;

/// The events of every role, so one world can hold several kinds of engine.
#[derive(Debug, Clone, PartialEq)]
pub enum AnyEvent {
    /// From a [`crate::Registry`].
    Registry(RegistryEvent),
    /// From a [`crate::testing::ScriptClient`].
    Script(ScriptEvent),
    /// From a [`crate::peer::Peer`].
    Peer(PeerEvent),
}

impl From<PeerEvent> for AnyEvent {
    fn from(e: PeerEvent) -> Self {
        AnyEvent::Peer(e)
    }
}

impl From<RegistryEvent> for AnyEvent {
    fn from(e: RegistryEvent) -> Self {
        AnyEvent::Registry(e)
    }
}

impl From<ScriptEvent> for AnyEvent {
    fn from(e: ScriptEvent) -> Self {
        AnyEvent::Script(e)
    }
}

/// An engine with its command and event types erased.
pub trait Node: Any {
    /// See [`Engine::accept`].
    fn accept(&mut self, now: Instant, remote: SocketAddr) -> ConnId;
    /// See [`Engine::handle_input`].
    fn handle_input(&mut self, now: Instant, input: Input<'_>);
    /// See [`Engine::handle_timeout`].
    fn handle_timeout(&mut self, now: Instant);
    /// See [`Engine::poll_output`].
    fn poll_output(&mut self) -> Option<Output<AnyEvent>>;
    /// See [`Engine::poll_timeout`].
    fn poll_timeout(&self) -> Option<Instant>;
    /// The concrete engine, for commands and inspection.
    fn as_any_mut(&mut self) -> &mut dyn Any;
    /// The concrete engine, for inspection.
    fn as_any(&self) -> &dyn Any;
}

impl<E> Node for E
where
    E: Engine + 'static,
    E::Event: Into<AnyEvent>,
{
    fn accept(&mut self, now: Instant, remote: SocketAddr) -> ConnId {
        Engine::accept(self, now, remote)
    }
    fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        Engine::handle_input(self, now, input)
    }
    fn handle_timeout(&mut self, now: Instant) {
        Engine::handle_timeout(self, now)
    }
    fn poll_output(&mut self) -> Option<Output<AnyEvent>> {
        Engine::poll_output(self).map(|o| o.map_event(Into::into))
    }
    fn poll_timeout(&self) -> Option<Instant> {
        Engine::poll_timeout(self)
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
