//! The driver's side of keeping records for an engine that waits for
//! durability itself: handing each settle's batch to the store's
//! [`Keeper`](crate::store::keeper::Keeper) (journal, then committer) and
//! telling the engine how far its records are durable
//! ([`Input::RecordsDurable`]).

use std::time::Instant;

use confab_engine::{Engine, Input};

use super::{Driver, DriverError};
use crate::role::Stoppable;

impl<E> Driver<E>
where
    E: Engine,
    E::Command: Stoppable,
{
    /// Hands what the journal got in this settle to the committer.
    pub(super) fn hand_over(&mut self) -> Result<(), DriverError> {
        match self.keeper.as_mut() {
            Some(keeper) => keeper.hand_over().map_err(DriverError::Store),
            None => Ok(()),
        }
    }

    /// Tells the engine how far its records are durable, if further than
    /// before. A store failure stops the driver.
    pub(super) fn take_durable(&mut self, now: Instant) -> Result<(), DriverError> {
        let Some(keeper) = self.keeper.as_mut() else {
            return Ok(());
        };
        match keeper.news() {
            Ok(Some(upto)) => {
                self.engine
                    .handle_input(now, Input::RecordsDurable { upto });
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(e) => Err(DriverError::Store(e)),
        }
    }
}
