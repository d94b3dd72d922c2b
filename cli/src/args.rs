//! The command line, as clap sees it. The `--help` texts are the user's first
//! manual: each says what the flag does and what the default is.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use confab_engine::password::PasswordCost;
use confab_engine::wire::Name;
use confab_engine::wire::identity::Fingerprint;

/// confab: chat and share files with the people on your local network.
///
/// One registry keeps track of who is online; peers talk to each other
/// directly. Start with `confab peer --name YOURNAME`: if no registry answers
/// on this machine, your peer hosts one and tells you how others join.
#[derive(Debug, Parser)]
#[command(name = "confab", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
// Parsed once at start and matched at once: boxing would only add noise.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Run a registry: accounts, who is online, and what they share.
    Registry(RegistryArgs),
    /// Run a peer: log in, chat, send and fetch files. On a terminal it opens
    /// a full-screen interface (F1 lists its keys); with --plain, --json, or
    /// when standard input or output is not a terminal, commands are read
    /// from standard input, one per line (type /help).
    Peer(PeerArgs),
}

#[derive(Debug, Args)]
pub struct RegistryArgs {
    /// Address to listen on. Use 127.0.0.1:PORT to accept only this machine.
    /// The default, `[::]:7300`, takes IPv6 and IPv4 (IPv4 only on a
    /// machine without IPv6).
    #[arg(long, value_name = "ADDR", default_value_t = SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, crate::paths::DEFAULT_PORT)))]
    pub listen: SocketAddr,
    /// Folder for the accounts database and the registry's keys
    /// (`registry.key`, made on first start, mode 600: peers trust this
    /// registry by its key, so keep the file and back it up) [default: the
    /// platform's data folder, e.g. ~/.local/share/confab/registry].
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// FOR BENCHMARKS AND TESTS ONLY. The argon2id cost given to accounts
    /// registered from now on (an account keeps the cost it was made with):
    /// `default` is 19 MiB and 2 passes, tens of milliseconds per log-in;
    /// `fast` is 8 KiB and 1 pass, which protects the stored passwords from
    /// almost nothing, so that benchmarks can log in thousands of peers.
    #[arg(
        long,
        value_name = "COST",
        value_enum,
        default_value_t = PasswordCostArg::Default,
        hide_short_help = true
    )]
    pub password_cost: PasswordCostArg,
    /// Whether to relay between peers that cannot connect to each other
    /// (behind a firewall or NAT, or `--listen off`). Relayed bytes stay
    /// end-to-end encrypted between the two peers; the registry sees who
    /// talks to whom and how much.
    #[arg(long, value_name = "on|off", value_enum, default_value_t = OnOff::On)]
    pub relay: OnOff,
    /// Most bytes per second one peer may send through the relay, all its
    /// streams together (0: no cap).
    #[arg(long, value_name = "BYTES", default_value_t = confab_engine::registry::RelayConfig::default().peer_rate)]
    pub relay_peer_rate: u64,
    /// Most bytes per second relayed for all peers together (0: no cap).
    #[arg(long, value_name = "BYTES", default_value_t = confab_engine::registry::RelayConfig::default().total_rate)]
    pub relay_total_rate: u64,
    /// Announce this registry on the local network by UDP multicast (its
    /// address, port and key fingerprint, signed by its key; every ~30 s
    /// and when a peer asks), so that `confab peer --registry lan` finds it
    /// with no address typed. It reveals nothing about accounts.
    #[arg(long, value_name = "on|off", value_enum, default_value_t = OnOff::On)]
    pub announce: OnOff,
    /// A multicast group and UDP port it announces on (the peers'
    /// --discovery-group; repeatable, the default is both the IPv4 and the
    /// IPv6 group). A group that cannot be joined is a warning.
    #[arg(long, value_name = "ADDR", default_values_t = [
        confab_engine::peer::DiscoveryConfig::DEFAULT_GROUP,
        confab_engine::peer::DiscoveryConfig::DEFAULT_GROUP_V6,
    ])]
    pub discovery_group: Vec<SocketAddr>,
}

/// `on` or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnOff {
    /// Enabled.
    On,
    /// Disabled.
    Off,
}

impl RegistryArgs {
    /// What `--relay`, `--relay-peer-rate` and `--relay-total-rate` ask for.
    pub fn relay_config(&self) -> confab_engine::registry::RelayConfig {
        confab_engine::registry::RelayConfig {
            on: self.relay == OnOff::On,
            peer_rate: self.relay_peer_rate,
            total_rate: self.relay_total_rate,
        }
    }
}

/// `confab peer --registry`: an address, or `lan` (one announced there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryAt {
    /// The first registry announced on the LAN (with --registry-key: the
    /// one with that key).
    Lan,
    /// The registry listening here.
    Addr(SocketAddr),
}

impl std::str::FromStr for RegistryAt {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("lan") {
            return Ok(RegistryAt::Lan);
        }
        s.parse()
            .map(RegistryAt::Addr)
            .map_err(|_| format!("`{s}` is neither an address (IP:PORT) nor `lan`"))
    }
}

/// `confab peer --listen`: an address, or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listen {
    /// No listener: reached through the registry's relay only.
    Off,
    /// Listen here.
    On(SocketAddr),
}

impl std::str::FromStr for Listen {
    type Err = std::net::AddrParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("off") {
            return Ok(Listen::Off);
        }
        s.parse().map(Listen::On)
    }
}

impl std::fmt::Display for Listen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Listen::Off => f.write_str("off"),
            Listen::On(a) => write!(f, "{a}"),
        }
    }
}

/// The values of `confab registry --password-cost`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PasswordCostArg {
    /// 19 MiB, 2 passes, 1 lane (OWASP's argon2id recommendation).
    Default,
    /// 8 KiB, 1 pass: the cheapest argon2 allows. Benchmarks and tests only.
    Fast,
}

impl PasswordCostArg {
    /// The argon2id parameters this stands for.
    pub fn cost(self) -> PasswordCost {
        match self {
            PasswordCostArg::Default => PasswordCost::DEFAULT,
            PasswordCostArg::Fast => PasswordCost::TESTING,
        }
    }
}

/// What `confab peer`'s exit status means (README says the same).
pub const PEER_EXIT_STATUS: &str = "\
Exit status:
  0    a normal stop: /quit, end of input, Ctrl-C or SIGTERM
  1    an error, explained on standard error: a refused log-in (wrong
       password, name taken), no registry at --registry, a registry whose
       key is not the one this peer trusts, a folder or key file that cannot
       be used, or this name logged in from somewhere else
  2    a mistake on the command line (unknown flag, invalid --name)
  130  a second Ctrl-C or SIGTERM while the first was still stopping

Commands read from a pipe wait until the log-in has succeeded; after a
refused log-in they are not carried out.";

#[derive(Debug, Args)]
#[command(after_help = peer_after_help())]
pub struct PeerArgs {
    /// Your name: lowercase letters, digits, '.', '_' and '-'. The first log-in
    /// of a new name registers it. The password comes from CONFAB_PASSWORD, or
    /// is asked for on the terminal.
    #[arg(long, value_name = "NAME", value_parser = parse_name)]
    pub name: Name,
    /// The registry's address, or `lan`: log in to the first registry
    /// announced on the local network (with --registry-key, the one with
    /// that key; its key is trusted on first use otherwise, as with an
    /// address), working from discovery alone until one is heard, and
    /// following it if it comes back elsewhere. Without --registry and with
    /// --discovery on (the default), no registry is used (one heard on the
    /// LAN is only mentioned). With --discovery off it defaults to
    /// 127.0.0.1:7300 (or the address in CONFAB_DEFAULT_REGISTRY), and if
    /// nothing answers there, this peer hosts the registry itself.
    #[arg(long, value_name = "ADDR|lan")]
    pub registry: Option<RegistryAt>,
    /// The registry's key fingerprint (32 hex digits), as its operator gave
    /// it (`confab registry` prints it, and so does a hosting peer's "Others
    /// join with:" line). The peer logs in only to a registry with this key.
    /// Without it, the key a registry shows on first contact is trusted and
    /// kept in DATA/known_registries, and a later different key is refused.
    #[arg(long, value_name = "FINGERPRINT")]
    pub registry_key: Option<Fingerprint>,
    /// Address to listen on for other peers (port 0: any free port), or
    /// `off` to take no incoming connections (behind a firewall or NAT):
    /// others then reach this peer through the registry's relay.
    /// The default, `[::]:0`, takes IPv6 and IPv4 (IPv4 only on a machine
    /// without IPv6).
    #[arg(long, value_name = "ADDR|off", default_value_t = Listen::On(SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, 0))))]
    pub listen: Listen,
    /// Folder whose files you share [default: DATA/share, created if missing].
    #[arg(long, value_name = "DIR")]
    pub share: Option<PathBuf>,
    /// Folder where received files go [default: ~/Downloads/confab/NAME].
    #[arg(long, value_name = "DIR")]
    pub downloads: Option<PathBuf>,
    /// Folder for this peer's history, friends and transfers, its identity
    /// key (`identity.key`, made on first start, mode 600: others know this
    /// peer by it) and the registry keys it trusts (`known_registries`)
    /// [default: the platform's data folder, e.g.
    /// ~/.local/share/confab/peers/NAME].
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Print one JSON object per line on standard output, for scripts.
    #[arg(long)]
    pub json: bool,
    /// Keep the line interface on a terminal: commands typed one per line,
    /// events printed one per line, instead of the full-screen interface
    /// (which is only used when standard input and output are terminals).
    #[arg(long, conflicts_with = "json")]
    pub plain: bool,
    /// What a call sends: `testsrc` (a moving test pattern numbering its
    /// frames; `testsrc:WIDTHxHEIGHT@FPS`, default 320x240@15), a Y4M file
    /// (`FILE.y4m`), or `-` for Y4M on standard input (e.g. a webcam:
    /// `ffmpeg -f v4l2 -i /dev/video0 -pix_fmt yuv420p -f yuv4mpegpipe -`).
    #[arg(long, value_name = "SOURCE", default_value = "testsrc")]
    pub video: crate::peer::call::Video,
    /// Save the video received in each call as DIR/ME-NAME-TIME.mjpeg
    /// (play it with `ffplay -f mjpeg FILE`); not saved without it.
    #[arg(long, value_name = "DIR")]
    pub media_out: Option<PathBuf>,
    /// FOR THE CALL BENCHMARK ONLY. Appends a line per test-pattern frame
    /// to FILE: `sent N US` when frame N is captured, `shown N US` when a
    /// received frame carrying N is decoded (US: wall clock, microseconds).
    #[arg(long, value_name = "FILE", hide = true)]
    pub call_probe: Option<PathBuf>,
    /// LAN discovery: announce this peer on the local network by UDP
    /// multicast and list the peers heard there (`/who`). With it on and no
    /// --registry, no registry is used or hosted at all: names are claims,
    /// and each peer is known by its key (trust on first use).
    #[arg(long, value_name = "on|off", default_value = "on")]
    pub discovery: OnOff,
    /// A multicast group and UDP port of LAN discovery, IPv4 or IPv6
    /// (repeatable; the default is both). Each is joined on every network
    /// interface that is up; a group that cannot be joined (no IPv6 here)
    /// is a warning, unless none can.
    #[arg(long, value_name = "ADDR", default_values_t = [
        confab_engine::peer::DiscoveryConfig::DEFAULT_GROUP,
        confab_engine::peer::DiscoveryConfig::DEFAULT_GROUP_V6,
    ])]
    pub discovery_group: Vec<SocketAddr>,
    /// A peer to join (its --listen address; repeatable): asked who is
    /// there and kept linked, so that its peers and this one learn of each
    /// other even where multicast does not reach (another segment, a VPN).
    #[arg(long, value_name = "ADDR")]
    pub join: Vec<SocketAddr>,
}

fn parse_name(s: &str) -> Result<Name, String> {
    Name::new(s).map_err(|e| e.to_string())
}

/// The end of `confab peer --help`: the commands typed once the peer runs
/// (what `/help` prints), then the exit statuses.
fn peer_after_help() -> String {
    format!(
        "Commands, typed once the peer runs (/help lists them too):\n{}\n\n{PEER_EXIT_STATUS}",
        crate::peer::parse::HELP
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn peer_help_lists_the_commands() {
        let help = Cli::command()
            .find_subcommand_mut("peer")
            .unwrap()
            .render_long_help()
            .to_string();
        assert!(
            help.contains("/whois NAME")
                && help.contains("/trust NAME FINGERPRINT")
                && help.contains("/forget NAME"),
            "{help}"
        );
    }

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn peer_flags_parse_and_names_are_checked() {
        let cli = Cli::try_parse_from(["confab", "peer", "--name", "alice", "--json"]).unwrap();
        let Command::Peer(p) = cli.command else {
            panic!("not a peer")
        };
        assert_eq!(p.name.as_str(), "alice");
        assert!(p.json && !p.plain && p.registry.is_none() && p.registry_key.is_none());
        let cli = Cli::try_parse_from(["confab", "peer", "--name", "a", "--plain"]).unwrap();
        let Command::Peer(p) = cli.command else {
            panic!("not a peer")
        };
        assert!(p.plain && !p.json);
        let fp = "00112233445566778899aabbccddeeff";
        let cli =
            Cli::try_parse_from(["confab", "peer", "--name", "a", "--registry-key", fp]).unwrap();
        let Command::Peer(p) = cli.command else {
            panic!("not a peer")
        };
        assert_eq!(p.registry_key.unwrap().to_string(), fp);
        assert!(
            Cli::try_parse_from(["confab", "peer", "--name", "a", "--registry-key", "abc"])
                .is_err()
        );
        assert!(Cli::try_parse_from(["confab", "peer", "--name", "Alice"]).is_err());
        assert!(
            Cli::try_parse_from(["confab", "peer"]).is_err(),
            "--name is required"
        );
    }

    #[test]
    fn discovery_joins_both_groups_by_default_or_those_given() {
        use confab_engine::peer::DiscoveryConfig;
        let peer = |extra: &[&str]| {
            let mut all = vec!["confab", "peer", "--name", "a"];
            all.extend_from_slice(extra);
            match Cli::try_parse_from(all).unwrap().command {
                Command::Peer(p) => p,
                _ => panic!("not a peer"),
            }
        };
        let p = peer(&[]);
        assert_eq!(
            p.discovery_group,
            [
                DiscoveryConfig::DEFAULT_GROUP,
                DiscoveryConfig::DEFAULT_GROUP_V6
            ]
        );
        assert_eq!(p.listen.to_string(), "[::]:0");
        let p = peer(&["--discovery-group", "[ff12::1]:9000"]);
        assert_eq!(p.discovery_group, ["[ff12::1]:9000".parse().unwrap()]);
        let p = peer(&[
            "--discovery-group",
            "239.1.2.3:9000",
            "--discovery-group",
            "[ff02::42%3]:9000",
        ]);
        assert_eq!(p.discovery_group.len(), 2);
    }

    #[test]
    fn the_registry_is_an_address_or_lan_and_registries_announce_by_default() {
        let parse = |v: &str| {
            let cli = Cli::try_parse_from(["confab", "peer", "--name", "a", "--registry", v]);
            cli.map(|c| match c.command {
                Command::Peer(p) => p.registry,
                _ => panic!("not a peer"),
            })
        };
        assert_eq!(parse("lan").unwrap(), Some(RegistryAt::Lan));
        assert_eq!(parse("LAN").unwrap(), Some(RegistryAt::Lan));
        assert_eq!(
            parse("10.0.0.1:7300").unwrap(),
            Some(RegistryAt::Addr("10.0.0.1:7300".parse().unwrap()))
        );
        assert!(parse("lan:7300").is_err());
        let Command::Registry(r) = Cli::try_parse_from(["confab", "registry"]).unwrap().command
        else {
            panic!("not a registry")
        };
        assert_eq!(r.announce, OnOff::On);
        let Command::Registry(r) = Cli::try_parse_from(["confab", "registry", "--announce", "off"])
            .unwrap()
            .command
        else {
            panic!("not a registry")
        };
        assert_eq!(r.announce, OnOff::Off);
    }

    #[test]
    fn peer_help_lists_the_exit_statuses() {
        let help = Cli::command()
            .find_subcommand_mut("peer")
            .unwrap()
            .render_long_help()
            .to_string();
        assert!(
            help.contains("Exit status:") && help.contains("130"),
            "{help}"
        );
    }

    #[test]
    fn the_registry_password_cost_defaults_to_the_real_one() {
        let cli = Cli::try_parse_from(["confab", "registry"]).unwrap();
        let Command::Registry(r) = cli.command else {
            panic!("not a registry")
        };
        assert_eq!(r.password_cost.cost(), PasswordCost::DEFAULT);
        let cli = Cli::try_parse_from(["confab", "registry", "--password-cost", "fast"]).unwrap();
        let Command::Registry(r) = cli.command else {
            panic!("not a registry")
        };
        assert_eq!(r.password_cost.cost(), PasswordCost::TESTING);
        assert!(Cli::try_parse_from(["confab", "registry", "--password-cost", "none"]).is_err());
    }
}
