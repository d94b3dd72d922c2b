//! The key a record is stored under ([`RecordKey`]), shared by every
//! role's records. Touches nothing.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The key a record is stored under.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RecordKey(pub String);

impl fmt::Display for RecordKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
