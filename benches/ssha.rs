//! `{SSHA-512}` costs: generate (hash with a given salt), verify, parse, against a plain
//! SHA-512 of the same salt ‖ password bytes. The ratio to the baseline is the glue
//! overhead (packing, base64, constant-time compare); the hash itself is the baseline.
//!
//! `cargo bench --bench ssha`. Measurement is kept short: `cargo test --all-targets` also
//! runs each benchmark once in test mode.

// A benchmark may unwrap its fixed inputs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Duration;

use amhash::ssha::{Salt, SshaHash};
use criterion::{Criterion, criterion_group, criterion_main};
use sha2::{Digest, Sha512};

/// A 32-character password, the length `amhash` suggests for amAdmin.
const PASSWORD: &[u8] = b"wJ7#qz!L0v^Tg2@Xe9$Rk4&Nb8*Hs1%D";
const SALT: [u8; 20] = [0x5a; 20];

fn benches(c: &mut Criterion) {
    assert_eq!(PASSWORD.len(), 32);
    let salt = Salt::new(SALT.to_vec()).unwrap();
    let hash = SshaHash::with_salt(PASSWORD, salt.clone());
    let value = hash.to_string();

    let mut group = c.benchmark_group("ssha512");
    group.bench_function("baseline_sha512_salt_password", |b| {
        b.iter(|| {
            let mut h = Sha512::new();
            h.update(black_box(&SALT[..]));
            h.update(black_box(PASSWORD));
            h.finalize()
        })
    });
    group.bench_function("generate_with_salt", |b| {
        b.iter(|| SshaHash::with_salt(black_box(PASSWORD), black_box(salt.clone())))
    });
    group.bench_function("generate_with_salt_and_display", |b| {
        b.iter(|| SshaHash::with_salt(black_box(PASSWORD), black_box(salt.clone())).to_string())
    });
    group.bench_function("verify", |b| {
        b.iter(|| black_box(&hash).verify(black_box(PASSWORD)))
    });
    group.bench_function("parse", |b| {
        b.iter(|| black_box(value.as_str()).parse::<SshaHash>())
    });
    group.bench_function("parse_and_verify", |b| {
        b.iter(|| {
            black_box(value.as_str())
                .parse::<SshaHash>()
                .map(|h| h.verify(black_box(PASSWORD)))
        })
    });
    group.finish();
}

criterion_group! {
    name = ssha;
    config = Criterion::default()
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_secs(1));
    targets = benches
}
criterion_main!(ssha);
