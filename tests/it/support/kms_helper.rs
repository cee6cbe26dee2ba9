//! Running the `amhash-kms` helper against the fake KMS.

use assert_cmd::Command;

/// `amhash-kms OP --kms-key KEY --kms-endpoint <fake> --kms-anonymous --kms-timeout 10`.
pub fn kms_helper(fake: &super::fake_kms::FakeKms, op: &str, key: &str) -> Command {
    kms_helper_timeout(fake, op, key, "10")
}

/// As [`kms_helper`] with another `--kms-timeout` value.
pub fn kms_helper_timeout(
    fake: &super::fake_kms::FakeKms,
    op: &str,
    key: &str,
    secs: &str,
) -> Command {
    let mut cmd = Command::new(kms_helper_path());
    cmd.args([
        op,
        "--kms-key",
        key,
        "--kms-endpoint",
        fake.endpoint(),
        "--kms-anonymous",
    ])
    .args(["--kms-timeout", secs]);
    cmd
}

/// The path of the built helper, for `amhash::kms::remote::Helper::at`.
///
/// `AMHASH_TEST_KMS_HELPER` overrides it, to test an installed binary, or a copy when several
/// worktrees share one target directory (each build there replaces `target/debug/amhash-kms`).
pub fn kms_helper_path() -> std::path::PathBuf {
    match std::env::var_os("AMHASH_TEST_KMS_HELPER") {
        Some(p) if !p.is_empty() => p.into(),
        _ => std::path::PathBuf::from(env!("CARGO_BIN_EXE_amhash-kms")),
    }
}
