//! [`Calls`]: what the interface knows of video calls: each one's stage
//! (ringing, asked, up), the last `call_stats` and the last picture
//! decoded of a call that is up. The video panel shows the first call
//! that is up (a peer has at most a few). Pure state: the pictures come
//! decoded from the call's decoding thread, never decoded here.

use std::collections::BTreeMap;

use confab_engine::peer::CallStats;
use confab_engine::wire::Name;

use crate::peer::call::decoder::Picture;

/// Where a call stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// This person called; no answer yet.
    Ringing,
    /// The other side calls; this person has not answered.
    Asked,
    Up,
}

/// One call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub stage: Stage,
    pub stats: Option<CallStats>,
    pub picture: Option<Picture>,
}

#[derive(Debug, Clone, Default)]
pub struct Calls(BTreeMap<Name, Call>);

impl Calls {
    /// `name`'s call is at `stage` (a new call starts with no video).
    pub fn set(&mut self, name: &Name, stage: Stage) {
        let c = self.0.entry(name.clone()).or_insert(Call {
            stage,
            stats: None,
            picture: None,
        });
        c.stage = stage;
    }

    pub fn ended(&mut self, name: &Name) {
        self.0.remove(name);
    }

    pub fn stats(&mut self, name: &Name, stats: CallStats) {
        if let Some(c) = self.0.get_mut(name) {
            c.stats = Some(stats);
        }
    }

    /// A decoded picture of `name`'s call (dropped if the call is not up).
    pub fn picture(&mut self, name: &Name, p: Picture) {
        if let Some(c) = self.0.get_mut(name).filter(|c| c.stage == Stage::Up) {
            c.picture = Some(p);
        }
    }

    pub fn stage(&self, name: &Name) -> Option<Stage> {
        self.0.get(name).map(|c| c.stage)
    }

    /// The call the video panel shows: the first that is up.
    pub fn shown(&self) -> Option<(&Name, &Call)> {
        self.0.iter().find(|(_, c)| c.stage == Stage::Up)
    }
}
