//! Shared helpers of the hardening tests (`tests/it/hardening.rs`, `tests/it/crash.rs`): random
//! canaries, a seeded RNG, expected values, and directory listings.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use amhash::ssha::{Salt, SshaHash};
use base64::Engine as _;
use proptest::test_runner::{RngAlgorithm, TestRng};

/// The amhash binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_amhash");

/// The fixed salt the tests use when they need to know the exact value in advance.
pub const SALT_HEX: &str = "a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5";

/// `n` bytes from the operating system's random source.
pub fn os_random(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    getrandom::getrandom(&mut buf).expect("the OS random source works");
    buf
}

/// A random string of `len` characters from `alphabet`.
pub fn random_from(alphabet: &[u8], len: usize) -> String {
    os_random(len)
        .into_iter()
        .map(|b| char::from(alphabet[usize::from(b) % alphabet.len()]))
        .collect()
}

/// A random password zxcvbn calls strong: 24 characters of letters, digits and punctuation,
/// with a fixed marker so two canaries never collide with ordinary words.
pub fn strong_canary() -> String {
    let body = random_from(
        b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_#%+",
        24,
    );
    format!("Cy{body}")
}

/// A random password zxcvbn calls weak (install refuses it): 7 lowercase letters. Random, so
/// a leak is still detectable, and unlikely to be an English word that a message contains.
pub fn weak_canary() -> String {
    random_from(b"bcdfghjklmnpqrstvwxz", 7)
}

/// The forms in which a leaked secret could show up: itself, its hex (both cases) and its
/// base64 (standard, URL-safe, unpadded).
pub fn needle_forms(secret: &[u8]) -> Vec<String> {
    let mut forms = Vec::new();
    if let Ok(text) = std::str::from_utf8(secret) {
        forms.push(text.to_string());
    }
    forms.push(hex::encode(secret));
    forms.push(hex::encode_upper(secret));
    let b64 = base64::engine::general_purpose::STANDARD.encode(secret);
    // A base64 prefix of at least 16 characters is enough to spot a leak of the start of it.
    forms.push(b64.trim_end_matches('=').to_string());
    forms.push(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret));
    forms
}

/// A seeded RNG; the seed comes from `AMHASH_TEST_SEED` (hex, 32 bytes) or the OS, and is
/// printed so a failure can be replayed.
pub fn seeded_rng(test: &str) -> TestRng {
    let seed: Vec<u8> = match std::env::var("AMHASH_TEST_SEED") {
        Ok(hex) => hex::decode(hex.trim()).expect("AMHASH_TEST_SEED is 64 hex characters"),
        Err(_) => os_random(32),
    };
    assert_eq!(seed.len(), 32, "AMHASH_TEST_SEED is 64 hex characters");
    println!(
        "{test}: seed {} (replay with AMHASH_TEST_SEED={})",
        hex::encode(&seed),
        hex::encode(&seed)
    );
    TestRng::from_seed(RngAlgorithm::ChaCha, &seed)
}

/// The `{SSHA-512}` value amhash makes for `password` with [`SALT_HEX`].
pub fn value_of(password: &str) -> String {
    SshaHash::with_salt(
        password.as_bytes(),
        Salt::from_hex(SALT_HEX).expect("valid salt"),
    )
    .to_string()
}

/// A new directory of mode 0700 (AM's secret directory must not be group/other writable).
pub fn private_dir(parent: &Path, name: &str) -> PathBuf {
    let dir = parent.join(name);
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    dir
}

/// Writes `content` to `dir/name` with mode `mode`.
pub fn write_file(dir: &Path, name: &str, content: &[u8], mode: u32) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

/// The sorted names in `dir`.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// True for the temp names of `src/store/atomic.rs`: `.NAME.tmp-` + 16 lowercase hex digits.
pub fn is_temp_of(file: &str, name: &str) -> bool {
    file.strip_prefix(&format!(".{name}.tmp-"))
        .is_some_and(|rest| {
            rest.len() == 16
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

/// The temp files (of `password.<user>` or its `.previous`) in `dir`.
pub fn temps(dir: &Path) -> Vec<String> {
    listing(dir)
        .into_iter()
        .filter(|f| f.starts_with('.') && f.contains(".tmp-"))
        .collect()
}
