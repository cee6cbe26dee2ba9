//! A fake Cloud KMS for tests: the REST endpoints `google-cloud-kms-v1` calls, with real
//! cryptography, on 127.0.0.1, in a background thread of the test process.
//!
//! Endpoints (the query string, `$alt=json;enum-encoding=int`, is ignored for routing; enums
//! are answered as integers when it asks for that, as the real service does):
//!
//! | request | does |
//! |---------|------|
//! | `POST /v1/{key or version}:encrypt` | AES-256-GCM with the version's key |
//! | `POST /v1/{key}:decrypt` | AES-256-GCM open, version read from the ciphertext |
//! | `POST /v1/{version}:asymmetricDecrypt` | RSA-OAEP decrypt with the version's private key |
//! | `GET /v1/{version}/publicKey` | the SPKI PEM of the version |
//!
//! Symmetric ciphertext layout (the fake's own; real KMS has a different one):
//! `"FAKEKMS1" ‖ version (u32 BE) ‖ nonce (12) ‖ AES-256-GCM ciphertext ‖ tag (16)`, with the
//! key name as associated data.
//!
//! Answers follow the real service's JSON: camelCase, bytes as standard base64, int64
//! checksums as decimal strings, false booleans omitted, errors as
//! `{"error": {"code": 403, "message": "...", "status": "PERMISSION_DENIED"}}` with the
//! matching HTTP status. It checks request checksums as the service does (a mismatch is
//! `INVALID_ARGUMENT`) and reports `verified*Crc32c: true` when one was sent.
//!
//! Every request is recorded ([`FakeKms::requests`]); [`Knobs`] inject faults.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use rsa::pkcs8::{EncodePublicKey, LineEnding};
use rsa::{Oaep, RsaPrivateKey};
use serde_json::{Value, json};

/// Prefix of every key name used in tests.
pub const RING: &str = "projects/amhash-test/locations/global/keyRings/amhash";

/// `RING/cryptoKeys/{id}`.
pub fn key_name(id: &str) -> String {
    format!("{RING}/cryptoKeys/{id}")
}

/// `RING/cryptoKeys/{id}/cryptoKeyVersions/{v}`.
pub fn version_name(id: &str, v: u32) -> String {
    format!("{RING}/cryptoKeys/{id}/cryptoKeyVersions/{v}")
}

/// The RSA-OAEP algorithms the fake offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OaepAlg {
    /// RSA_DECRYPT_OAEP_2048_SHA256
    Rsa2048Sha256,
    /// RSA_DECRYPT_OAEP_2048_SHA1
    Rsa2048Sha1,
    /// RSA_DECRYPT_OAEP_4096_SHA512
    Rsa4096Sha512,
}

impl OaepAlg {
    /// The Cloud KMS name.
    pub fn name(self) -> &'static str {
        match self {
            OaepAlg::Rsa2048Sha256 => "RSA_DECRYPT_OAEP_2048_SHA256",
            OaepAlg::Rsa2048Sha1 => "RSA_DECRYPT_OAEP_2048_SHA1",
            OaepAlg::Rsa4096Sha512 => "RSA_DECRYPT_OAEP_4096_SHA512",
        }
    }
    /// The Cloud KMS enum number (`CryptoKeyVersionAlgorithm`).
    pub fn number(self) -> i64 {
        match self {
            OaepAlg::Rsa2048Sha256 => 8,
            OaepAlg::Rsa2048Sha1 => 37,
            OaepAlg::Rsa4096Sha512 => 17,
        }
    }
    fn padding(self) -> Oaep {
        match self {
            OaepAlg::Rsa2048Sha256 => Oaep::new::<sha2::Sha256>(),
            OaepAlg::Rsa2048Sha1 => Oaep::new::<sha1::Sha1>(),
            OaepAlg::Rsa4096Sha512 => Oaep::new::<sha2::Sha512>(),
        }
    }
    /// The private key: generated once per test process, shared by every fake.
    pub fn private_key(self) -> &'static RsaPrivateKey {
        static K2048: OnceLock<RsaPrivateKey> = OnceLock::new();
        static K4096: OnceLock<RsaPrivateKey> = OnceLock::new();
        let (cell, bits) = match self {
            OaepAlg::Rsa2048Sha256 | OaepAlg::Rsa2048Sha1 => (&K2048, 2048),
            OaepAlg::Rsa4096Sha512 => (&K4096, 4096),
        };
        cell.get_or_init(|| RsaPrivateKey::new(&mut rand_core::OsRng, bits).expect("RSA keygen"))
    }
}

/// Fault injection. All off by default.
#[derive(Clone, Debug, Default)]
pub struct Knobs {
    /// Answer every request with 403 PERMISSION_DENIED.
    pub deny_permission: bool,
    /// Answer this many requests with 503 UNAVAILABLE first.
    pub unavailable_first: u32,
    /// Encrypt: report a ciphertextCrc32c that does not match.
    pub wrong_ciphertext_crc: bool,
    /// Encrypt: omit verifiedPlaintextCrc32c (i.e. false).
    pub unverified_plaintext_crc: bool,
    /// AsymmetricDecrypt: omit verifiedCiphertextCrc32c.
    pub unverified_ciphertext_crc: bool,
    /// Decrypt/AsymmetricDecrypt: report a plaintextCrc32c that does not match.
    pub wrong_plaintext_crc: bool,
    /// GetPublicKey: report a pemCrc32c that does not match.
    pub wrong_pem_crc: bool,
    /// Encrypt/GetPublicKey: name another key in the response.
    pub wrong_response_name: bool,
    /// Sleep this long before answering.
    pub delay: Option<Duration>,
}

/// One request as the fake received it.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// `GET` or `POST`.
    pub method: String,
    /// The path, without the query string.
    pub path: String,
    /// The query string.
    pub query: String,
    /// The JSON body (`Null` for none).
    pub body: Value,
    /// Whether an `Authorization` header was sent.
    pub authorization: bool,
}

impl Recorded {
    /// `encrypt`, `decrypt`, `asymmetricDecrypt` or `publicKey`, and the resource name.
    pub fn call(&self) -> (String, String) {
        let rest = self.path.strip_prefix("/v1/").unwrap_or(&self.path);
        if let Some(name) = rest.strip_suffix("/publicKey") {
            return ("publicKey".into(), name.into());
        }
        match rest.rsplit_once(':') {
            Some((name, verb)) => (verb.into(), name.into()),
            None => (String::new(), rest.into()),
        }
    }
}

enum Key {
    /// Versions 1.. of an ENCRYPT_DECRYPT key; version 1 is primary.
    Symmetric(Vec<[u8; 32]>),
    /// One ASYMMETRIC_DECRYPT version.
    Asymmetric(OaepAlg),
}

#[derive(Default)]
struct State {
    /// By key name (symmetric) or version name (asymmetric).
    keys: HashMap<String, Key>,
    knobs: Knobs,
    served_unavailable: u32,
    log: Vec<Recorded>,
}

/// A running fake; stops when dropped.
pub struct FakeKms {
    endpoint: String,
    state: Arc<Mutex<State>>,
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
}

impl FakeKms {
    /// Start on 127.0.0.1 with an ephemeral port.
    pub fn start() -> FakeKms {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind fake KMS"));
        let addr = server.server_addr().to_ip().expect("an IP listener");
        let state = Arc::new(Mutex::new(State::default()));
        let (s, st) = (Arc::clone(&server), Arc::clone(&state));
        let thread = std::thread::spawn(move || {
            while let Ok(request) = s.recv() {
                let st = Arc::clone(&st);
                // One thread per request, so a delayed answer blocks nothing else.
                std::thread::spawn(move || handle(&st, request));
            }
        });
        FakeKms {
            endpoint: format!("http://{addr}"),
            state,
            server,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Change the fault knobs.
    pub fn knobs(&self, f: impl FnOnce(&mut Knobs)) {
        f(&mut self.lock().knobs);
    }

    /// Add an ENCRYPT_DECRYPT key with `versions` versions (version 1 primary).
    pub fn add_symmetric(&self, key: &str, versions: u32) {
        let mut keys = Vec::new();
        for _ in 0..versions.max(1) {
            let mut k = [0u8; 32];
            getrandom::getrandom(&mut k).expect("getrandom");
            keys.push(k);
        }
        self.lock()
            .keys
            .insert(key.to_owned(), Key::Symmetric(keys));
    }

    /// Add an ASYMMETRIC_DECRYPT key version.
    pub fn add_asymmetric(&self, version: &str, alg: OaepAlg) {
        alg.private_key();
        self.lock()
            .keys
            .insert(version.to_owned(), Key::Asymmetric(alg));
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().log.clone()
    }

    /// `(verb, name)` of every request so far.
    pub fn calls(&self) -> Vec<(String, String)> {
        self.requests().iter().map(Recorded::call).collect()
    }

    /// Encrypt as the service would for `name` (a symmetric key or version).
    pub fn encrypt_symmetric(&self, name: &str, plaintext: &[u8]) -> Vec<u8> {
        let st = self.lock();
        let (_, ct) = sym_encrypt(&st, name, plaintext).expect("a symmetric key");
        ct
    }

    /// Decrypt a ciphertext of a symmetric key.
    pub fn decrypt_symmetric(&self, key: &str, ciphertext: &[u8]) -> Option<Vec<u8>> {
        sym_decrypt(&self.lock(), key, ciphertext).map(|(_, p)| p)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for FakeKms {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// RSA-OAEP encrypt with the public key of `alg`, as a client does.
pub fn encrypt_asymmetric(alg: OaepAlg, plaintext: &[u8]) -> Vec<u8> {
    alg.private_key()
        .to_public_key()
        .encrypt(&mut rand_core::OsRng, alg.padding(), plaintext)
        .expect("RSA-OAEP encrypt")
}

/// RSA-OAEP decrypt with the fake's private key for `alg`.
pub fn decrypt_asymmetric(alg: OaepAlg, ciphertext: &[u8]) -> Option<Vec<u8>> {
    alg.private_key().decrypt(alg.padding(), ciphertext).ok()
}

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

fn crc(data: &[u8]) -> String {
    crc32c::crc32c(data).to_string()
}

const MAGIC: &[u8] = b"FAKEKMS1";

/// Returns (version name, ciphertext).
fn sym_encrypt(st: &State, name: &str, plaintext: &[u8]) -> Option<(String, Vec<u8>)> {
    let (key, version) = match name.split_once("/cryptoKeyVersions/") {
        Some((k, v)) => (k, v.parse::<u32>().ok()?),
        None => (name, 1),
    };
    let Some(Key::Symmetric(versions)) = st.keys.get(key) else {
        return None;
    };
    let k = versions.get(usize::try_from(version).ok()?.checked_sub(1)?)?;
    let mut nonce = [0u8; 12];
    getrandom::getrandom(&mut nonce).ok()?;
    let sealed = Aes256Gcm::new(k.into())
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: key.as_bytes(),
            },
        )
        .ok()?;
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Some((format!("{key}/cryptoKeyVersions/{version}"), out))
}

/// Returns (version name, plaintext).
fn sym_decrypt(st: &State, key: &str, ciphertext: &[u8]) -> Option<(String, Vec<u8>)> {
    let Some(Key::Symmetric(versions)) = st.keys.get(key) else {
        return None;
    };
    let rest = ciphertext.strip_prefix(MAGIC)?;
    let version = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?);
    let nonce = rest.get(4..16)?;
    let sealed = rest.get(16..)?;
    let k = versions.get(usize::try_from(version).ok()?.checked_sub(1)?)?;
    let plain = Aes256Gcm::new(k.into())
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: sealed,
                aad: key.as_bytes(),
            },
        )
        .ok()?;
    Some((format!("{key}/cryptoKeyVersions/{version}"), plain))
}

struct Answer(u16, Value);

fn error(code: u16, status: &str, message: String) -> Answer {
    Answer(
        code,
        json!({"error": {"code": code, "message": message, "status": status}}),
    )
}

fn not_found(name: &str) -> Answer {
    error(404, "NOT_FOUND", format!("{name} not found."))
}

fn handle(state: &Mutex<State>, mut request: tiny_http::Request) {
    let url = request.url().to_owned();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let (path, query) = (path.to_owned(), query.to_owned());
    let method = request.method().as_str().to_owned();
    let authorization = request
        .headers()
        .iter()
        .any(|h| h.field.equiv("Authorization"));
    let mut raw = String::new();
    let _ = request.as_reader().read_to_string(&mut raw);
    let body = if raw.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&raw).unwrap_or(Value::String(raw))
    };
    let recorded = Recorded {
        method,
        path,
        query,
        body,
        authorization,
    };
    let knobs = {
        let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
        st.log.push(recorded.clone());
        st.knobs.clone()
    };
    if let Some(d) = knobs.delay {
        std::thread::sleep(d);
    }
    let Answer(code, value) = answer(state, &knobs, &recorded);
    let response = tiny_http::Response::from_string(value.to_string())
        .with_status_code(code)
        .with_header(
            tiny_http::Header::from_bytes(
                &b"Content-Type"[..],
                &b"application/json; charset=UTF-8"[..],
            )
            .expect("static header"),
        );
    let _ = request.respond(response);
}

fn field_bytes(body: &Value, field: &str) -> Option<Vec<u8>> {
    let s = body.get(field)?.as_str()?;
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

/// An int64 field, which proto3 JSON writes as a decimal string.
fn field_i64(body: &Value, field: &str) -> Option<Result<i64, ()>> {
    let v = body.get(field)?;
    Some(match v.as_str() {
        Some(s) => s.parse().map_err(|_| ()),
        None => Err(()),
    })
}

/// The service's check of a request checksum: absent is fine (not verified), a mismatch or a
/// non-string is INVALID_ARGUMENT.
fn check_crc(body: &Value, data_field: &str, crc_field: &str, data: &[u8]) -> Result<bool, Answer> {
    match field_i64(body, crc_field) {
        None => Ok(false),
        Some(Ok(v)) if v == i64::from(crc32c::crc32c(data)) => Ok(true),
        Some(_) => Err(error(
            400,
            "INVALID_ARGUMENT",
            format!(
                "The checksum in field {crc_field} did not match the data in field {data_field}."
            ),
        )),
    }
}

fn answer(state: &Mutex<State>, knobs: &Knobs, req: &Recorded) -> Answer {
    let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
    if st.served_unavailable < knobs.unavailable_first {
        st.served_unavailable += 1;
        return error(
            503,
            "UNAVAILABLE",
            "The service is currently unavailable.".into(),
        );
    }
    let (verb, name) = req.call();
    if knobs.deny_permission {
        let perm = match verb.as_str() {
            "encrypt" => "cloudkms.cryptoKeyVersions.useToEncrypt",
            "publicKey" => "cloudkms.cryptoKeyVersions.viewPublicKey",
            _ => "cloudkms.cryptoKeyVersions.useToDecrypt",
        };
        return error(
            403,
            "PERMISSION_DENIED",
            format!("Permission '{perm}' denied on resource '{name}' (or it may not exist)."),
        );
    }
    let ints = req.query.contains("enum-encoding%3Dint") || req.query.contains("enum-encoding=int");
    let body = &req.body;
    match (req.method.as_str(), verb.as_str()) {
        ("POST", "encrypt") => {
            let plaintext = field_bytes(body, "plaintext").unwrap_or_default();
            let verified = match check_crc(body, "plaintext", "plaintextCrc32c", &plaintext) {
                Ok(v) => v,
                Err(a) => return a,
            };
            if plaintext.is_empty() {
                return error(400, "INVALID_ARGUMENT", "plaintext is required.".into());
            }
            if matches!(st.keys.get(&name), Some(Key::Asymmetric(_))) {
                return error(
                    400,
                    "FAILED_PRECONDITION",
                    format!(
                        "{name} has purpose ASYMMETRIC_DECRYPT; Encrypt needs ENCRYPT_DECRYPT."
                    ),
                );
            }
            let Some((version, ct)) = sym_encrypt(&st, &name, &plaintext) else {
                return not_found(&name);
            };
            let mut out = json!({
                "name": if knobs.wrong_response_name { version_name("other", 1) } else { version },
                "ciphertext": b64(&ct),
                "ciphertextCrc32c": if knobs.wrong_ciphertext_crc {
                    (u64::from(crc32c::crc32c(&ct)) ^ 1).to_string()
                } else {
                    crc(&ct)
                },
                "protectionLevel": if ints { json!(1) } else { json!("SOFTWARE") },
            });
            if verified && !knobs.unverified_plaintext_crc {
                out["verifiedPlaintextCrc32c"] = json!(true);
            }
            Answer(200, out)
        }
        ("POST", "decrypt") => {
            let ciphertext = field_bytes(body, "ciphertext").unwrap_or_default();
            if let Err(a) = check_crc(body, "ciphertext", "ciphertextCrc32c", &ciphertext) {
                return a;
            }
            match st.keys.get(&name) {
                Some(Key::Symmetric(_)) => {}
                Some(Key::Asymmetric(_)) | None if name.contains("/cryptoKeyVersions/") => {
                    return error(
                        400,
                        "INVALID_ARGUMENT",
                        "Decrypt takes a CryptoKey name, not a CryptoKeyVersion.".into(),
                    );
                }
                _ => return not_found(&name),
            }
            let Some((_, plain)) = sym_decrypt(&st, &name, &ciphertext) else {
                return error(
                    400,
                    "INVALID_ARGUMENT",
                    "Decryption failed: the ciphertext is invalid.".into(),
                );
            };
            Answer(
                200,
                json!({
                    "plaintext": b64(&plain),
                    "plaintextCrc32c": plaintext_crc(knobs, &plain),
                    "usedPrimary": true,
                    "protectionLevel": if ints { json!(1) } else { json!("SOFTWARE") },
                }),
            )
        }
        ("POST", "asymmetricDecrypt") => {
            let ciphertext = field_bytes(body, "ciphertext").unwrap_or_default();
            let verified = match check_crc(body, "ciphertext", "ciphertextCrc32c", &ciphertext) {
                Ok(v) => v,
                Err(a) => return a,
            };
            let alg = match version_key(&st, &name) {
                Ok(Key::Asymmetric(alg)) => *alg,
                Ok(Key::Symmetric(_)) => {
                    return error(
                        400,
                        "FAILED_PRECONDITION",
                        format!(
                            "{name} has purpose ENCRYPT_DECRYPT; AsymmetricDecrypt needs ASYMMETRIC_DECRYPT."
                        ),
                    );
                }
                Err(a) => return a,
            };
            let Some(plain) = decrypt_asymmetric(alg, &ciphertext) else {
                return error(400, "INVALID_ARGUMENT", "Decryption failed.".into());
            };
            let mut out = json!({
                "plaintext": b64(&plain),
                "plaintextCrc32c": plaintext_crc(knobs, &plain),
                "protectionLevel": if ints { json!(1) } else { json!("SOFTWARE") },
            });
            if verified && !knobs.unverified_ciphertext_crc {
                out["verifiedCiphertextCrc32c"] = json!(true);
            }
            Answer(200, out)
        }
        ("GET", "publicKey") => match version_key(&st, &name) {
            Ok(Key::Asymmetric(alg)) => {
                let pem = alg
                    .private_key()
                    .to_public_key()
                    .to_public_key_pem(LineEnding::LF)
                    .expect("PEM");
                Answer(
                    200,
                    json!({
                        "pem": pem,
                        "algorithm": if ints { json!(alg.number()) } else { json!(alg.name()) },
                        "pemCrc32c": if knobs.wrong_pem_crc { "1".to_owned() } else { crc(pem.as_bytes()) },
                        "name": if knobs.wrong_response_name { version_name("other", 1) } else { name.clone() },
                        "protectionLevel": if ints { json!(1) } else { json!("SOFTWARE") },
                    }),
                )
            }
            Ok(Key::Symmetric(_)) => error(
                400,
                "FAILED_PRECONDITION",
                format!(
                    "The request cannot be fulfilled. Resource {name} has value ENCRYPT_DECRYPT in field crypto_key.purpose."
                ),
            ),
            Err(a) => a,
        },
        _ => error(
            404,
            "NOT_FOUND",
            format!("no such method: {} {}", req.method, req.path),
        ),
    }
}

fn plaintext_crc(knobs: &Knobs, plain: &[u8]) -> String {
    if knobs.wrong_plaintext_crc {
        (u64::from(crc32c::crc32c(plain)) ^ 1).to_string()
    } else {
        crc(plain)
    }
}

/// The key behind a version name: an asymmetric version registered as such, or an existing
/// version of a registered symmetric key.
fn version_key<'a>(st: &'a State, name: &str) -> Result<&'a Key, Answer> {
    if let Some(k) = st.keys.get(name) {
        return Ok(k);
    }
    if let Some((key, v)) = name.split_once("/cryptoKeyVersions/")
        && let Some(k @ Key::Symmetric(versions)) = st.keys.get(key)
        && v.parse::<usize>()
            .is_ok_and(|v| v >= 1 && v <= versions.len())
    {
        return Ok(k);
    }
    Err(not_found(name))
}
