//! Which Noise resolver and cipher confab should use, measured on this CPU:
//! `cargo bench -p confab-engine --bench noise`.
//!
//! Pattern `Noise_XX_25519_{CIPHER}_{HASH}` through the `snow` crate, with
//! two resolvers: snow's default one (pure Rust: RustCrypto's `chacha20poly1305`,
//! `aes-gcm`, `sha2`, `blake2`, and `curve25519-dalek`) and its ring resolver
//! (ring's ciphers and SHA-256; ring has no X25519 for static keys nor BLAKE2s, so
//! those fall back to the default resolver, as snow's own `ring-accelerated` does).
//! Randomness comes from a seeded ChaCha20 stream, as in the sans-IO engine,
//! never from the operating system.
//!
//! - `transport/{resolver}_{cipher}/{65519,200}`: one record encrypted by one
//!   side and decrypted by the other; 65,519 bytes is the largest plaintext
//!   of a 65,535-byte Noise message, 200 bytes a chat message.
//! - `decrypt/{resolver}_{cipher}/65519`: decryption alone (the receiver of a
//!   transfer), the same ciphertext read again with its nonce reset.
//! - `handshake/{resolver}_{hash}`: a whole XX handshake, both sides in
//!   memory, from building the states to transport mode.
//! - `md5/{65536,200}`: the reference, MD5 (`md-5`, as the receiver of a
//!   transfer hashes every byte) of a buffer of the same size.
//!
//! Throughput is in MB/s (10^6 bytes) of plaintext. Nothing asserts on timing.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use md5::Digest as _;
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng as _, SeedableRng};
use snow::params::{CipherChoice, DHChoice, HashChoice, NoiseParams};
use snow::resolvers::{
    BoxedCryptoResolver, CryptoResolver, DefaultResolver, FallbackResolver, RingResolver,
};
use snow::types::{Cipher, Dh, Hash, Random};
use snow::{Builder, Keypair, TransportState};

/// The largest Noise message, and the largest plaintext it carries (minus the 16-byte tag).
const NOISE_MAX: usize = 65_535;
const BIG: usize = NOISE_MAX - 16;
/// A chat-sized record.
const SMALL: usize = 200;

#[derive(Clone, Copy)]
enum Provider {
    Default,
    Ring,
}

impl Provider {
    fn name(self) -> &'static str {
        match self {
            Provider::Default => "default",
            Provider::Ring => "ring",
        }
    }
}

/// A seeded stream in place of the operating system's randomness.
struct SeededRandom(ChaCha20Rng);

impl Random for SeededRandom {
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), snow::Error> {
        self.0.fill_bytes(dest);
        Ok(())
    }
}

/// A resolver whose randomness is seeded and the rest from `inner`.
struct Seeded {
    seed: u64,
    inner: BoxedCryptoResolver,
}

impl CryptoResolver for Seeded {
    fn resolve_rng(&self) -> Option<Box<dyn Random>> {
        Some(Box::new(SeededRandom(ChaCha20Rng::seed_from_u64(
            self.seed,
        ))))
    }

    fn resolve_dh(&self, choice: &DHChoice) -> Option<Box<dyn Dh>> {
        self.inner.resolve_dh(choice)
    }

    fn resolve_hash(&self, choice: &HashChoice) -> Option<Box<dyn Hash>> {
        self.inner.resolve_hash(choice)
    }

    fn resolve_cipher(&self, choice: &CipherChoice) -> Option<Box<dyn Cipher>> {
        self.inner.resolve_cipher(choice)
    }
}

fn resolver(provider: Provider, seed: u64) -> BoxedCryptoResolver {
    let inner: BoxedCryptoResolver = match provider {
        Provider::Default => Box::new(DefaultResolver),
        Provider::Ring => Box::new(FallbackResolver::new(
            Box::new(RingResolver),
            Box::new(DefaultResolver),
        )),
    };
    Box::new(Seeded { seed, inner })
}

fn params(cipher: &str, hash: &str) -> NoiseParams {
    format!("Noise_XX_25519_{cipher}_{hash}")
        .parse()
        .expect("a valid Noise pattern")
}

fn builder<'a>(provider: Provider, params: &NoiseParams, seed: u64) -> Builder<'a> {
    Builder::with_resolver(params.clone(), resolver(provider, seed))
}

/// The two static key pairs, made once.
fn keys(provider: Provider, params: &NoiseParams) -> (Keypair, Keypair) {
    let a = builder(provider, params, 1)
        .generate_keypair()
        .expect("keypair");
    let b = builder(provider, params, 2)
        .generate_keypair()
        .expect("keypair");
    (a, b)
}

/// A whole XX handshake in memory; both sides' transport states.
fn handshake(
    provider: Provider,
    params: &NoiseParams,
    keys: &(Keypair, Keypair),
) -> (TransportState, TransportState) {
    let mut initiator = builder(provider, params, 3)
        .local_private_key(&keys.0.private)
        .expect("key")
        .build_initiator()
        .expect("initiator");
    let mut responder = builder(provider, params, 4)
        .local_private_key(&keys.1.private)
        .expect("key")
        .build_responder()
        .expect("responder");
    let mut msg = [0u8; 256];
    let mut payload = [0u8; 256];
    // -> e
    let n = initiator.write_message(&[], &mut msg).expect("write 1");
    responder
        .read_message(&msg[..n], &mut payload)
        .expect("read 1");
    // <- e, ee, s, es
    let n = responder.write_message(&[], &mut msg).expect("write 2");
    initiator
        .read_message(&msg[..n], &mut payload)
        .expect("read 2");
    // -> s, se
    let n = initiator.write_message(&[], &mut msg).expect("write 3");
    responder
        .read_message(&msg[..n], &mut payload)
        .expect("read 3");
    (
        initiator
            .into_transport_mode()
            .expect("initiator transport"),
        responder
            .into_transport_mode()
            .expect("responder transport"),
    )
}

const PROVIDERS: [Provider; 2] = [Provider::Default, Provider::Ring];
const CIPHERS: [&str; 2] = ["ChaChaPoly", "AESGCM"];
const HASHES: [&str; 2] = ["SHA256", "BLAKE2s"];

fn transport(c: &mut Criterion) {
    let mut group = c.benchmark_group("transport");
    for provider in PROVIDERS {
        for cipher in CIPHERS {
            let params = params(cipher, "SHA256");
            let (mut tx, mut rx) = handshake(provider, &params, &keys(provider, &params));
            let name = format!("{}_{cipher}", provider.name());
            for size in [BIG, SMALL] {
                let plain: Vec<u8> = (0..size).map(|i| i as u8).collect();
                let mut wire = vec![0u8; NOISE_MAX];
                let mut back = vec![0u8; NOISE_MAX];
                group.throughput(Throughput::BytesDecimal(size as u64));
                group.bench_function(BenchmarkId::new(&name, size), |b| {
                    b.iter(|| {
                        let n = tx
                            .write_message(black_box(&plain), &mut wire)
                            .expect("encrypt");
                        let m = rx.read_message(&wire[..n], &mut back).expect("decrypt");
                        black_box(&back[..m]);
                    })
                });
            }
        }
    }
    group.finish();
}

fn decrypt(c: &mut Criterion) {
    let mut group = c.benchmark_group("decrypt");
    for provider in PROVIDERS {
        for cipher in CIPHERS {
            let params = params(cipher, "SHA256");
            let (mut tx, mut rx) = handshake(provider, &params, &keys(provider, &params));
            let plain: Vec<u8> = (0..BIG).map(|i| i as u8).collect();
            let mut wire = vec![0u8; NOISE_MAX];
            let mut back = vec![0u8; NOISE_MAX];
            let n = tx.write_message(&plain, &mut wire).expect("encrypt");
            group.throughput(Throughput::BytesDecimal(BIG as u64));
            let name = format!("{}_{cipher}", provider.name());
            group.bench_function(BenchmarkId::new(&name, BIG), |b| {
                b.iter(|| {
                    rx.set_receiving_nonce(0);
                    let m = rx
                        .read_message(black_box(&wire[..n]), &mut back)
                        .expect("decrypt");
                    black_box(&back[..m]);
                })
            });
        }
    }
    group.finish();
}

fn handshakes(c: &mut Criterion) {
    let mut group = c.benchmark_group("handshake");
    group.throughput(Throughput::Elements(1));
    for provider in PROVIDERS {
        for hash in HASHES {
            let params = params("ChaChaPoly", hash);
            let keys = keys(provider, &params);
            let name = format!("{}_{hash}", provider.name());
            group.bench_function(name, |b| {
                b.iter(|| black_box(handshake(provider, &params, &keys)))
            });
        }
    }
    group.finish();
}

fn md5(c: &mut Criterion) {
    let mut group = c.benchmark_group("md5");
    for size in [65_536, SMALL] {
        let data: Vec<u8> = (0..size).map(|i| i as u8).collect();
        group.throughput(Throughput::BytesDecimal(size as u64));
        group.bench_function(BenchmarkId::from_parameter(size), |b| {
            b.iter(|| black_box(md5::Md5::digest(black_box(&data))))
        });
    }
    group.finish();
}

criterion_group! {
    name = noise;
    // Short windows: 18 benchmarks on two shared cores; three runs are compared instead.
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = md5, transport, decrypt, handshakes
}

fn main() {
    noise();
    Criterion::default().configure_from_args().final_summary();
}
