//! Password hashing with argon2id, as work the engine hands to its driver.
//!
//! Hashing is slow on purpose, so the registry never does it inside a handler:
//! it emits [`crate::Output::DerivePassword`] with a [`PasswordWork`], and the
//! driver calls [`PasswordWork::run`] wherever it likes (a worker thread) and
//! feeds the digest back. The password lives only inside `PasswordWork`, whose
//! `Debug` hides it; what is stored is the salt, the cost and the digest.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::wire::registry::Password;

/// Bytes of salt per account.
pub const SALT_LEN: usize = 16;
/// Bytes of derived digest.
pub const DIGEST_LEN: usize = 32;

/// argon2id cost parameters. Stored with each account, so raising the default
/// later does not lock out existing accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordCost {
    /// Memory, in KiB (at least 8 per lane).
    pub memory_kib: u32,
    /// Passes over the memory.
    pub iterations: u32,
    /// Degree of parallelism.
    pub lanes: u32,
}

impl PasswordCost {
    /// The default for real registries: OWASP's argon2id recommendation
    /// (19 MiB, 2 passes, 1 lane), tens of milliseconds per log-in.
    pub const DEFAULT: Self = Self {
        memory_kib: 19 * 1024,
        iterations: 2,
        lanes: 1,
    };
    /// The cheapest argon2 allows, for tests and simulations only.
    pub const TESTING: Self = Self {
        memory_kib: 8,
        iterations: 1,
        lanes: 1,
    };
}

impl Default for PasswordCost {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A per-account salt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Salt(pub [u8; SALT_LEN]);

/// The output of argon2id for one password, salt and cost.
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordDigest(pub [u8; DIGEST_LEN]);

impl PasswordDigest {
    /// Compares in time independent of where the digests differ.
    pub fn matches(&self, other: &PasswordDigest) -> bool {
        self.0
            .iter()
            .zip(other.0.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

impl fmt::Debug for PasswordDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordDigest(<hidden>)")
    }
}

/// The password work could not be done (bad cost parameters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordError(pub String);

impl fmt::Display for PasswordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PasswordError {}

/// One password to derive a digest from. `Debug` never shows the password.
#[derive(Clone)]
pub struct PasswordWork {
    password: Password,
    /// The account's salt.
    pub salt: Salt,
    /// The account's cost.
    pub cost: PasswordCost,
}

impl fmt::Debug for PasswordWork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordWork")
            .field("password", &"<redacted>")
            .field("cost", &self.cost)
            .finish()
    }
}

impl PasswordWork {
    /// Work for `password` with `salt` and `cost`.
    pub fn new(password: Password, salt: Salt, cost: PasswordCost) -> Self {
        Self {
            password,
            salt,
            cost,
        }
    }

    /// Derives the digest. CPU and memory bound; no I/O.
    pub fn run(&self) -> Result<PasswordDigest, PasswordError> {
        let params = argon2::Params::new(
            self.cost.memory_kib,
            self.cost.iterations,
            self.cost.lanes,
            Some(DIGEST_LEN),
        )
        .map_err(|e| PasswordError(format!("bad password cost {:?}: {e}", self.cost)))?;
        let argon =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut out = [0u8; DIGEST_LEN];
        argon
            .hash_password_into(self.password.0.as_bytes(), &self.salt.0, &mut out)
            .map_err(|e| PasswordError(format!("password hashing failed: {e}")))?;
        Ok(PasswordDigest(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounded::Text;

    fn work(pw: &str, salt: u8) -> PasswordWork {
        PasswordWork::new(
            Password(Text::new(pw).unwrap()),
            Salt([salt; SALT_LEN]),
            PasswordCost::TESTING,
        )
    }

    #[test]
    fn same_input_same_digest_and_salt_matters() {
        let a = work("hunter2", 1).run().unwrap();
        assert!(a.matches(&work("hunter2", 1).run().unwrap()));
        assert!(!a.matches(&work("hunter3", 1).run().unwrap()));
        assert!(!a.matches(&work("hunter2", 2).run().unwrap()));
    }

    #[test]
    fn debug_hides_the_password() {
        let s = format!("{:?}", work("hunter2", 1));
        assert!(!s.contains("hunter2"), "{s}");
    }

    #[test]
    fn bad_cost_is_an_error_not_a_panic() {
        let mut w = work("x", 1);
        w.cost.memory_kib = 0;
        assert!(w.run().is_err());
    }
}
