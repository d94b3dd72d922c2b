//! [`Fail`]: an error that ends the program, worded for the person who ran it.
//! `main` prints it as `confab: error: ...` and exits with status 1.

use std::fmt;

/// A fatal error with a message that says what to do.
#[derive(Debug)]
pub struct Fail(pub String);

impl fmt::Display for Fail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Fail {}

macro_rules! from_display {
    ($($t:ty),*) => {$(
        impl From<$t> for Fail {
            fn from(e: $t) -> Self {
                Fail(e.to_string())
            }
        }
    )*};
}

from_display!(
    confab_mio::StoreError,
    confab_mio::ListenError,
    confab_mio::ShareError,
    confab_mio::DriverError,
    std::io::Error
);
