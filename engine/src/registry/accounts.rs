//! Accounts: names with a salted argon2id digest and a profile.
//!
//! Invariants: a name has at most one account, and a name being registered is
//! reserved until its digest arrives, so two concurrent registrations of one
//! name cannot both succeed. Accounts are never deleted.

use std::collections::{BTreeMap, BTreeSet};

use crate::password::{PasswordCost, PasswordDigest, Salt};
use crate::record::AccountRecord;
use crate::wire::Name;
use crate::wire::registry::Profile;

/// All accounts of a registry.
#[derive(Debug, Default)]
pub struct Accounts {
    by_name: BTreeMap<Name, AccountRecord>,
    reserved: BTreeSet<Name>,
}

impl Accounts {
    /// Accounts restored from persisted records.
    pub fn restore(records: impl IntoIterator<Item = AccountRecord>) -> Self {
        let by_name = records.into_iter().map(|a| (a.name.clone(), a)).collect();
        Self {
            by_name,
            reserved: BTreeSet::new(),
        }
    }

    /// The account named `name`.
    pub fn get(&self, name: &Name) -> Option<&AccountRecord> {
        self.by_name.get(name)
    }

    /// Whether `name` has an account or is being registered.
    pub fn is_taken(&self, name: &Name) -> bool {
        self.by_name.contains_key(name) || self.reserved.contains(name)
    }

    /// Holds `name` while its password is hashed.
    pub fn reserve(&mut self, name: Name) {
        self.reserved.insert(name);
    }

    /// Creates the account reserved earlier and returns it for persisting.
    pub fn create(
        &mut self,
        name: Name,
        salt: Salt,
        cost: PasswordCost,
        digest: PasswordDigest,
    ) -> AccountRecord {
        self.reserved.remove(&name);
        let record = AccountRecord {
            name: name.clone(),
            salt,
            cost,
            digest,
            profile: Profile::default(),
        };
        self.by_name.insert(name, record.clone());
        record
    }

    /// Releases a reservation whose registration failed.
    pub fn unreserve(&mut self, name: &Name) {
        self.reserved.remove(name);
    }

    /// Replaces a profile and returns the account for persisting.
    pub fn set_profile(&mut self, name: &Name, profile: Profile) -> Option<AccountRecord> {
        let account = self.by_name.get_mut(name)?;
        account.profile = profile;
        Some(account.clone())
    }

    /// How many accounts exist.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// Whether there are no accounts.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}
