//! `confab peer`: a person's confab on the command line.
//!
//! [`run`] prepares everything a peer needs (folders, its identity key, the
//! password, a registry and the key it must show, the store, the shared
//! index, the listener), builds the engine
//! ([`confab_engine::Peer`]), then runs it on a driver while the input thread feeds it
//! commands and the [`PeerSink`] prints what it says: as lines (the line
//! interface, or `--json`), or to the full-screen interface ([`screen`]) on a
//! terminal, which then also gives the input thread its lines. It ends when the engine
//! reports `Stopped` (after `/quit`, end of input, Ctrl-C or SIGTERM, or a
//! fatal refusal like a wrong password), with status 0 only for a normal stop.

mod avatar;
pub mod call;
mod call_json;
mod chats;
mod columns;
mod context;
mod conversation;
mod human;
mod input;
mod json;
mod known;
mod lan;
mod pace;
pub(crate) mod parse;
mod printer;
mod rate;
mod resume;
mod screen;
mod secret;
mod trust;
mod words;

use std::io::IsTerminal;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use confab_engine::CommandError;
use confab_engine::peer::{DiscoveryConfig, LanRegistryConfig, PeerCommand, PeerConfig, PeerEvent};
use confab_engine::secure::SecureConfig;
use confab_engine::wire::ErrorCode;
use confab_engine::wire::identity::Fingerprint;
use confab_engine::wire::registry::Password;
use confab_mio::{
    Driver, DriverConfig, Flow, ShareScan, Sink, Store, WatchConfig, advertised, listen,
    random_seed,
};

use self::conversation::Conversation;
use self::known::KnownRegistries;
use self::pace::{Pace, Question};
use self::printer::{Context, Printer};
use self::trust::RegistryTrust;
use crate::args::{OnOff, PeerArgs, RegistryAt};
use crate::fail::Fail;
use crate::paths;
use crate::registry::{Embedded, join_command};

/// How long to wait for a registry to answer a connect.
const REGISTRY_PROBE: Duration = Duration::from_secs(2);

/// The folders a peer works with, resolved and checked.
#[derive(Debug, Clone)]
pub struct Folders {
    /// Records (and an embedded registry's, in `registry/`).
    pub data: PathBuf,
    /// What this peer shares.
    pub share: PathBuf,
    /// Where received files go.
    pub downloads: PathBuf,
}

impl Folders {
    /// Resolves the defaults and checks: the share folder must exist (the
    /// default one is created), downloads must be writable.
    pub fn resolve(args: &PeerArgs) -> Result<Self, Fail> {
        let name = args.name.as_str();
        let data = args.data.clone().unwrap_or_else(|| paths::peer_data(name));
        let share = match &args.share {
            Some(dir) if dir.is_dir() => dir.clone(),
            Some(dir) => {
                return Err(Fail(format!(
                    "the share folder {} does not exist; create it or pick another with --share",
                    dir.display()
                )));
            }
            None => {
                let dir = data.join("share");
                std::fs::create_dir_all(&dir).map_err(|e| {
                    Fail(format!(
                        "cannot create the share folder {}: {e}; pick one with --share",
                        dir.display()
                    ))
                })?;
                dir
            }
        };
        let downloads = args
            .downloads
            .clone()
            .unwrap_or_else(|| paths::peer_downloads(name));
        paths::writable_dir(&downloads, "--downloads")?;
        Ok(Self {
            data,
            share,
            downloads,
        })
    }
}

/// Whether `confab peer` opens the full-screen interface: on a terminal
/// (standard input and output both), unless `--plain` or `--json`.
fn full_screen(args: &PeerArgs) -> bool {
    !args.plain && !args.json && std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

/// In full-screen mode, logs go to `DATA/confab.log` instead of the screen.
fn divert_logs(data: &Path) -> Result<(), Fail> {
    let path = data.join("confab.log");
    std::fs::create_dir_all(data)
        .and_then(|()| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
        })
        .map(crate::logging::divert)
        .map_err(|e| Fail(format!("cannot write the log file {}: {e}", path.display())))
}

/// `confab peer`.
pub fn run(args: PeerArgs) -> Result<ExitCode, Fail> {
    let folders = Folders::resolve(&args)?;
    // The screen's channel is made first, so that what is said before the
    // screen starts (an embedded registry's join line) waits for it there.
    let full = full_screen(&args).then(mpsc::channel);
    let printer = match &full {
        Some((feed, _)) => {
            divert_logs(&folders.data)?;
            Printer::screen(feed.clone())
        }
        None => Printer::new(args.json),
    };
    // Before the password: a key file to fix is said without asking first.
    let identity = crate::keys::peer_key(&folders.data)?;
    // Discovery on and no registry named: no registry at all (issue 20),
    // so no password either (nobody keeps accounts).
    let lan_only = args.discovery == OnOff::On && args.registry.is_none();
    // `--registry lan`: the password now, the registry once announced.
    let lan_registry = args.registry == Some(RegistryAt::Lan);
    if lan_registry && args.discovery == OnOff::Off {
        return Err(Fail(
            "--registry lan finds the registry by LAN discovery: drop --discovery off, \
             or give --registry ADDR"
                .into(),
        ));
    }
    let none = SocketAddr::from(([0, 0, 0, 0], 0));
    let (password, (registry, embedded)) = if lan_only {
        (Password(Default::default()), (none, None))
    } else if lan_registry {
        (secret::password(&args.name, &folders.data)?, (none, None))
    } else {
        let given = match args.registry {
            Some(RegistryAt::Addr(a)) => Some(a),
            _ => None,
        };
        (
            secret::password(&args.name, &folders.data)?,
            find_registry(given, args.registry_key, &folders.data, &printer)?,
        )
    };
    let trust = RegistryTrust::decide(
        registry,
        KnownRegistries::in_folder(&folders.data),
        args.registry_key,
        embedded.as_ref().map(|e| e.key),
    );
    let trust = match trust {
        Ok(t) => t,
        Err(e) => {
            if let Some(registry) = embedded {
                registry.stop();
            }
            return Err(e);
        }
    };

    let store = Store::open(&folders.data)?;
    let records = store.load()?;
    let conversation = Conversation::default();
    if let Some(said) = conversation.restore(&records) {
        printer.notice(&said);
    }
    for said in resume::after_restart(&records) {
        printer.notice(&said);
    }
    // Files still being written are left for the watch to list once quiet.
    let shared = ShareScan::new(&folders.share, &store, WatchConfig::default())?;
    let count = shared.files().len();
    printer.notice(&format!(
        "sharing {count} file{} from {}; downloads go to {}",
        if count == 1 { "" } else { "s" },
        folders.share.display(),
        folders.downloads.display()
    ));
    // The engine sends "to the LAN" to the first group; the driver
    // carries it to every group joined.
    let group = args.discovery_group[0];
    let toward = if lan_only || lan_registry {
        group
    } else {
        registry
    };
    let (listener, reach) = match args.listen {
        crate::args::Listen::On(addr) => {
            let listener = listen(addr)?;
            let reach = advertised(listener.local_addr()?, toward);
            (Some(listener), reach)
        }
        // Port 0 tells the registry, and so other peers, that this peer
        // takes no connections: they reach it through the relay.
        crate::args::Listen::Off => (None, SocketAddr::from(([0, 0, 0, 0], 0))),
    };
    let mut config = PeerConfig::new(args.name.clone(), password, registry, reach);
    if args.discovery == OnOff::On {
        config.discovery = Some(DiscoveryConfig {
            group,
            ..DiscoveryConfig::default()
        });
        config.without_registry = lan_only;
        // On two segments or more: bridges them (the groups are joined on
        // every interface this counts).
        config.lan_bridge = confab_mio::multicast_interface_count() >= 2;
        config.join = args.join.clone();
    }
    if lan_registry {
        let known = KnownRegistries::in_folder(&folders.data).all()?;
        config.registry_lan = Some(LanRegistryConfig { known });
    }
    config.shared = shared.files();
    config.unix_ms_at_start = crate::clock::unix_ms();
    config.secure = SecureConfig {
        static_key: Some(identity),
        signing_key: None,
        registry_pin: trust.pin(),
        entropy: Some(crate::keys::os_random()?),
    };
    let engine = confab_engine::Peer::new(config, records, Instant::now(), random_seed());
    let mut driver = Driver::new(engine, listener, Some(store), DriverConfig::default())?;
    // Call media: UDP on the listener's own address and port number.
    if let Some(local) = driver.local_addr() {
        driver.bind_udp(local).map_err(|e| {
            Fail(format!(
                "cannot open UDP port {} for calls: {e}; pick another --listen port",
                local.port()
            ))
        })?;
    }
    if args.discovery == OnOff::On {
        join_groups(&mut driver, &args.discovery_group, lan_only, &printer)?;
    }
    // The file side: `/get` of our files resolves names strictly inside the
    // share folder (digests from the same MD5 cache the index filled);
    // received files land in the downloads folder.
    driver
        .files_mut()
        .serve(&folders.share, &folders.downloads)
        .map_err(|e| Fail(format!("{e}; check --share and --downloads")))?;

    let handle = driver.handle();
    let share = watch_share(shared, handle.clone(), printer.clone())?;
    let pace = Pace::default();
    let view = full.as_ref().map(|_| call::decoder::Latest::default());
    let (screen, lines) = match full {
        Some((feed, shown)) => {
            let (lines, entered) = mpsc::channel();
            let pictures = view.clone().unwrap_or_default();
            let screen =
                screen::start(shown, feed, lines, handle.clone(), pictures).map_err(|e| {
                    Fail(format!(
                        "cannot open the full-screen interface: {e}; try --plain"
                    ))
                })?;
            (Some(screen), Some(entered))
        }
        None => (None, None),
    };
    input::spawn(
        move || -> Box<dyn std::io::BufRead> {
            match lines {
                Some(entered) => Box::new(screen::Lines::new(entered)),
                None => Box::new(std::io::stdin().lock()),
            }
        },
        handle.clone(),
        printer.clone(),
        conversation.clone(),
        pace.clone(),
        folders.downloads.clone(),
        Some(share.clone()),
    )?;
    let stopper = handle.clone();
    let before_exit: fn() = if screen.is_some() {
        screen::restore
    } else {
        || {}
    };
    crate::signals::stop_on_signals(move || stopper.stop(), before_exit)?;
    let mut calls = call::Calls::new(
        args.name.clone(),
        args.video.clone(),
        args.media_out.clone(),
        handle.clone(),
    );
    if let Some(view) = view {
        calls = calls.with_view(view);
    }
    if let Some(path) = &args.call_probe {
        let probe = call::probe::Probe::open(path)
            .map_err(|e| Fail(format!("cannot open {}: {e}", path.display())))?;
        calls = calls.with_probe(probe);
    }
    let mut sink = PeerSink {
        calls,
        data: folders.data.clone(),
        trust,
        printer,
        conversation,
        pace,
        stopped: None,
        lan_registry,
        logged_in: false,
    };
    let result = driver.run(&mut sink);
    // The terminal is given back before anything is printed on it.
    let shown = screen.map_or(Ok(()), screen::Screen::finish);
    share.stop();
    if let Some(registry) = embedded {
        registry.stop();
    }
    result?;
    shown.map_err(|e| {
        Fail(format!(
            "the full-screen interface failed: {e}; try --plain"
        ))
    })?;
    sink.outcome()
}

/// Starts the share watch: each new list goes to the engine (which
/// publishes it) and is announced as `share_updated`.
/// Joins every discovery group it can. One that cannot be joined (no IPv6
/// on this machine) is a warning while another was; if none was: without a
/// registry, discovery is all there is, so the peer stops; with one, it
/// goes on without hearing the LAN (its own announcements and --join still
/// go out).
fn join_groups(
    driver: &mut Driver<confab_engine::Peer>,
    groups: &[SocketAddr],
    lan_only: bool,
    printer: &Printer,
) -> Result<(), Fail> {
    let mut failed = Vec::new();
    for &group in groups {
        match driver.join_group(group) {
            Ok(interfaces) => tracing::info!(%group, interfaces, "joined the discovery group"),
            Err(e) => failed.push(format!("cannot join the discovery group {group}: {e}")),
        }
    }
    let why = failed.join("; ");
    if failed.len() < groups.len() {
        for f in &failed {
            printer.notice(&format!("{f}; discovery goes on with the other group"));
        }
    } else if lan_only {
        return Err(Fail(format!(
            "{why}; give another --discovery-group, or --registry ADDR"
        )));
    } else {
        printer.notice(&format!("{why}; going on with the registry only"));
    }
    Ok(())
}

fn watch_share(
    scan: ShareScan,
    handle: confab_mio::DriverHandle<PeerCommand>,
    printer: Printer,
) -> Result<confab_mio::ShareWatch, Fail> {
    let dir = scan.status().dir;
    scan.watch(move |files| {
        printer.share_updated(&dir, files);
        handle.command(PeerCommand::Publish(files.to_vec())).is_ok()
    })
    .map_err(|e| Fail(format!("cannot start watching the share folder: {e}")))
}

/// The registry to use: the one given (which must answer), else the default
/// address, else one hosted here (whose key must be `key`, if given).
fn find_registry(
    given: Option<SocketAddr>,
    key: Option<Fingerprint>,
    data: &Path,
    printer: &Printer,
) -> Result<(SocketAddr, Option<Embedded>), Fail> {
    if let Some(addr) = given {
        TcpStream::connect_timeout(&addr, REGISTRY_PROBE).map_err(|e| {
            Fail(format!(
                "cannot reach the registry at {addr}: {e}; check --registry, \
                 or start one with `confab registry`"
            ))
        })?;
        return Ok((addr, None));
    }
    let (default, overridden) = paths::default_registry()?;
    if TcpStream::connect_timeout(&default, REGISTRY_PROBE).is_ok() {
        return Ok((default, None));
    }
    // The usual default is hosted on every interface, so that others on the
    // network can join; an address given in CONFAB_DEFAULT_REGISTRY is hosted
    // exactly there.
    let host = if overridden {
        default
    } else {
        SocketAddr::from(([0, 0, 0, 0], default.port()))
    };
    let embedded = Embedded::start(host, data.join("registry")).map_err(|e| {
        Fail(format!(
            "no registry answers at {default} and this peer cannot host one ({e}); \
             give --registry ADDR"
        ))
    })?;
    if let Some(key) = key
        && key != embedded.key
    {
        let hosted = embedded.key;
        embedded.stop();
        return Err(Fail(format!(
            "no registry answers at {default}; this peer could host one, but its key \
             {hosted} is not --registry-key {key}: give --registry ADDR of the registry \
             that key belongs to"
        )));
    }
    printer.notice(&format!(
        "no registry answered at {default}, so this peer hosts one. \
         Others join with: {}",
        join_command(embedded.addr, embedded.key)
    ));
    Ok((default, Some(embedded)))
}

/// Prints a peer's events and notices when it has stopped.
#[derive(Debug)]
pub struct PeerSink {
    calls: call::Calls,
    data: PathBuf,
    trust: RegistryTrust,
    printer: Printer,
    conversation: Conversation,
    pace: Pace,
    stopped: Option<(ErrorCode, String)>,
    /// `--registry lan`: `ready` comes at start, the log-in later (its
    /// first `registry_back`).
    lan_registry: bool,
    /// Whether the registry's log-in was remembered (once).
    logged_in: bool,
}

impl PeerSink {
    /// Status 0 after a normal stop; after a fatal one, an error that says
    /// what to do (printed on standard error by `main`, status 1).
    pub fn outcome(&self) -> Result<ExitCode, Fail> {
        match &self.stopped {
            None | Some((ErrorCode::Normal, _)) => Ok(ExitCode::SUCCESS),
            Some((ErrorCode::UntrustedKey, reason)) => Err(Fail(self.trust.untrusted(reason))),
            Some((code, reason)) => Err(Fail(fatal_stop(*code, reason))),
        }
    }
}

/// The message for a stop the peer cannot recover from.
fn fatal_stop(code: ErrorCode, reason: &str) -> String {
    let hint = match code {
        ErrorCode::WrongPassword => {
            "; check CONFAB_PASSWORD (or what you typed), or pick another --name"
        }
        ErrorCode::NameTaken => "; pick another --name",
        ErrorCode::InvalidName | ErrorCode::InvalidPassword => "; see confab peer --help",
        ErrorCode::SessionReplaced => "; the same name logged in from somewhere else",
        _ => "",
    };
    format!("{}{hint}", words::plain(reason))
}

impl Sink<PeerEvent> for PeerSink {
    fn event(&mut self, event: PeerEvent) -> Flow {
        let context = Context {
            now_current: self.conversation.follow(&event),
            asked: self.pace.follow(&event),
        };
        if let (Some(Question::Avatar(_)), PeerEvent::Whois { info, .. }) = (&context.asked, &event)
        {
            let bytes = &info.profile.avatar;
            let saved = avatar::save(&self.data.join("avatars"), &info.name, bytes);
            self.printer.avatar(&info.name, bytes.len(), &saved);
            return Flow::Continue;
        }
        if let Some(Question::Account(_)) = &context.asked {
            // The input thread says what came of it.
            return Flow::Continue;
        }
        if let PeerEvent::RegistryKey {
            registry,
            fingerprint,
        } = &event
        {
            let kept = self.trust.first_contact(*registry, fingerprint);
            self.printer.registry_key(*registry, fingerprint, &kept);
            return Flow::Continue;
        }
        if let PeerEvent::RegistryHeard {
            registry,
            used: true,
            ..
        } = &event
        {
            self.trust.announced_at(*registry);
        }
        let (print, saved) = self.calls.follow(&event);
        if !print {
            return Flow::Continue;
        }
        if let PeerEvent::CallEnded { .. } = &event {
            self.printer.call_ended(&event, &context, saved.as_deref());
            return Flow::Continue;
        }
        self.printer.event(&event, &context);
        let log_in = match event {
            PeerEvent::Ready { .. } => !self.lan_registry,
            PeerEvent::RegistryBack => self.lan_registry,
            _ => false,
        };
        if log_in && !self.logged_in {
            self.logged_in = true;
            secret::remember_log_in(&self.data);
            if let Some(said) = self.trust.logged_in() {
                self.printer.notice(&said);
            }
        }
        if let PeerEvent::Stopped { code, reason } = event {
            self.stopped = Some((code, reason));
            return Flow::Finish;
        }
        Flow::Continue
    }

    fn refused(&mut self, error: CommandError) {
        let message = error.to_string();
        if !self.pace.refused(&message) {
            self.printer.error(&message);
        }
    }
}
