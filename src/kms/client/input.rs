//! Checks of what the helper is given before any call: the ciphertext's encoding and an
//! endpoint override.

use super::{ClientError, MAX_CIPHERTEXT};

/// Decode the base64 ciphertext given to decrypt: standard alphabet, padding required,
/// whitespace anywhere ignored (so `base64`'s 76-column lines and a final newline are fine).
///
/// # Errors
/// [`ClientError::EmptyInput`], [`ClientError::CiphertextEncoding`],
/// [`ClientError::InputTooLarge`].
pub fn decode_ciphertext(text: &[u8]) -> Result<Vec<u8>, ClientError> {
    use base64::Engine as _;
    let compact: Vec<u8> = text
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    if compact.is_empty() {
        return Err(ClientError::EmptyInput { op: "decrypt" });
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&compact)
        .map_err(|_| ClientError::CiphertextEncoding)?;
    if bytes.len() > MAX_CIPHERTEXT {
        return Err(ClientError::InputTooLarge {
            op: "decrypt",
            max: MAX_CIPHERTEXT,
        });
    }
    Ok(bytes)
}

/// Check an endpoint override: an http(s) URL; plain http only to a loopback host or with
/// anonymous credentials, so a bearer token never crosses the network unencrypted.
///
/// # Errors
/// [`ClientError::Endpoint`].
pub fn check_endpoint(endpoint: &str, anonymous: bool) -> Result<(), ClientError> {
    let bad = |why| ClientError::Endpoint {
        endpoint: endpoint.to_owned(),
        why,
    };
    let parsed = crate::endpoint::parse(endpoint).map_err(bad)?;
    if !parsed.carries_credentials() && !anonymous {
        return Err(bad(
            "plain http would send the credentials unencrypted; use https, a loopback address, or --kms-anonymous",
        ));
    }
    Ok(())
}
