//! What the attacker shows when it claims to be another peer: the
//! certificate in its handshake ([`Credential`], [`certificate`]) and what
//! it then sends under the stolen name ([`false_messages`]).
//!
//! Every credential must be refused by a correct peer, each for its own
//! reason: none at all; one signed by the attacker's own key; the
//! attacker's real certificate with the name changed (its signature no
//! longer matches); the attacker's real certificate shown with a hello
//! claiming another name; a copy of the claimed peer's own certificate
//! (for another Noise key than the attacker's). The messages after it are
//! one of each kind a peer would attribute to the claimed name, each
//! distinctive (`forged:` texts, `#forged` groups, `forged-` files), so a
//! checker can tell that it was shown.
//!
//! Pure: builds values from what it is given.

use std::collections::BTreeMap;

use confab_engine::bounded::{List, Text};
use confab_engine::secure::SigningSecret;
use confab_engine::secure::certificate::issue;
use confab_engine::wire::identity::{Certificate, PublicKey};
use confab_engine::wire::peer::{Conv, Payload, PeerMessage};
use confab_engine::wire::{
    FileName, GroupName, Hello, Manifest, ManifestEntry, Md5, Message, Name, PROTOCOL_VERSION,
    RelPath, Role, TransferKey, TransferMessage,
};

/// How long a forged certificate claims to be valid, in seconds.
const FORGED_LIFETIME: u64 = 3600;

/// What the attacker proves in its handshake when it claims another name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// No certificate at all.
    Nothing,
    /// A certificate for the claimed name, signed by the attacker's key.
    SelfSigned,
    /// The attacker's own certificate with the claimed name written in.
    Altered,
    /// The attacker's own, valid certificate; the hello claims another name.
    Own,
    /// A copy of the claimed peer's certificate (another Noise key).
    Copied,
}

impl Credential {
    /// Every credential, in drawing order.
    pub const ALL: [Credential; 5] = [
        Credential::Nothing,
        Credential::SelfSigned,
        Credential::Altered,
        Credential::Own,
        Credential::Copied,
    ];

    /// A short name for traces.
    pub fn label(self) -> &'static str {
        match self {
            Credential::Nothing => "no certificate",
            Credential::SelfSigned => "a certificate signed by its own key",
            Credential::Altered => "its own certificate with the name changed",
            Credential::Own => "its own valid certificate",
            Credential::Copied => "a copy of that peer's certificate",
        }
    }
}

/// What the attacker holds to forge with.
#[derive(Debug)]
pub struct Kit<'a> {
    /// Its own signing key (a registry nobody trusts).
    pub signing: &'a SigningSecret,
    /// Its Noise static key.
    pub key: PublicKey,
    /// The certificate the real registry issued to its own account.
    pub own: Option<&'a Certificate>,
    /// Certificates copied from other peers' handshakes.
    pub captured: &'a BTreeMap<Name, Certificate>,
    /// Unix seconds now.
    pub unix_now: u64,
}

/// Whether `kit` holds what `credential` needs to claim `claimed`.
pub fn can(credential: Credential, kit: &Kit<'_>, claimed: &Name) -> bool {
    match credential {
        Credential::Nothing | Credential::SelfSigned => true,
        Credential::Altered | Credential::Own => kit.own.is_some(),
        Credential::Copied => kit.captured.contains_key(claimed),
    }
}

/// The certificate to show claiming `claimed` (`None`: show none, or the
/// kit lacks what `credential` needs).
pub fn certificate(credential: Credential, kit: &Kit<'_>, claimed: &Name) -> Option<Certificate> {
    match credential {
        Credential::Nothing => None,
        Credential::SelfSigned => Some(issue(
            kit.signing,
            claimed.clone(),
            kit.key,
            kit.unix_now,
            FORGED_LIFETIME,
        )),
        Credential::Altered => kit.own.map(|c| {
            let mut c = c.clone();
            c.body.name = claimed.clone();
            c
        }),
        Credential::Own => kit.own.cloned(),
        Credential::Copied => kit.captured.get(claimed).cloned(),
    }
}

/// The stream a false `claimed` sends `victim` once through the handshake:
/// its hello and session, then a chat request, a group invitation, a direct
/// message, a file offer and a download request (of `file`, one of the
/// victim's shared files, if it has any). `n` makes the texts and names
/// unique in the run; `key` numbers the transfers.
pub fn false_messages(
    claimed: &Name,
    victim: &Name,
    n: u64,
    key: u64,
    file: Option<FileName>,
) -> Vec<Message> {
    let mut out = vec![
        Message::Hello(Hello {
            version: PROTOCOL_VERSION,
            role: Role::Peer,
            name: Some(claimed.clone()),
        }),
        Message::Peer(PeerMessage::Session { epoch: key }),
        Message::Peer(PeerMessage::ChatRequest),
    ];
    if let Ok(group) = GroupName::new(&format!("#forged-{n}")) {
        let members = List::new(vec![claimed.clone()]).unwrap_or_default();
        out.push(Message::Peer(PeerMessage::GroupInvite { group, members }));
    }
    // Numbered far ahead, with everything before it given up, so that a
    // receiver that took the connection would show it at once.
    let seq = 1 << 40 | n;
    let text = Text::truncate(&format!("forged:{claimed}>{victim}#{n}"));
    out.push(Message::Peer(PeerMessage::Data {
        conv: Conv::Direct,
        seq,
        low: seq,
        payload: Payload::Text(text),
    }));
    let name = format!("forged-{n}.bin");
    if let (Ok(file_name), Ok(path)) = (FileName::new(&name), RelPath::new(&name)) {
        let entry = ManifestEntry {
            path,
            size: 1000,
            md5: Md5([0x66; 16]),
        };
        let manifest = Manifest {
            name: file_name,
            folder: false,
            entries: List::new(vec![entry]).unwrap_or_default(),
        };
        out.push(Message::Transfer(TransferMessage::Offer {
            key: TransferKey(key),
            manifest,
        }));
    }
    if let Some(name) = file {
        out.push(Message::Transfer(TransferMessage::Get {
            key: TransferKey(key.wrapping_add(1)),
            name,
        }));
    }
    out
}
