//! The command-line definition. Completions and the man page are generated from this same
//! definition, so help text written here is the documentation.

use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;

use clap::{ArgGroup, Args, CommandFactory, Parser, Subcommand, ValueEnum};

use amhash::cipher::{AmCipher, KdfDigest};
use amhash::key_source::{KeySource, KeyringBackend};
use amhash::kms::KmsKeyName;

pub const EXIT_CODES: &str = "\
Exit codes:
  0  success (verify: the password matches)
  1  verify: the password does not match
  2  malformed input or usage error
  3  I/O or other operational failure (wrong key, altered data, keyring, KMS)";

pub const DOCTOR_EXIT_CODES: &str = "\
Exit codes:
  0  no problem found (warnings may be printed)
  1  at least one problem found
  2  usage error
  3  I/O failure";

#[derive(Debug, Parser)]
#[command(
    name = "amhash",
    version,
    about = "Make, check, encrypt and install the {SSHA-512} amAdmin password for ForgeRock / Ping AM",
    long_about = "Make, check, encrypt and install the {SSHA-512} value that AM's special secret store \
                  reads for amAdmin (file password.amadmin, variable PASSWORD_AMADMIN or system property \
                  password.amadmin).\n\nPasswords are never taken on the command line: they come from the \
                  terminal (without echo), the first line of standard input, or --password-file.",
    after_help = EXIT_CODES,
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Print one JSON object on stdout (errors: one JSON object on stderr); same exit codes.
    #[arg(long, global = true)]
    pub json: bool,

    /// Print only the value (for pipes); warnings and errors still go to stderr.
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Hash a password into a {SSHA-512} value and print it on one line.
    #[command(after_help = EXIT_CODES)]
    Generate(GenerateArgs),
    /// Check a password against a {SSHA-512} value (exit 0 match, 1 no match).
    #[command(after_help = EXIT_CODES)]
    Verify(VerifyArgs),
    /// Hash (and optionally encrypt) a new password, or take an existing value, and write it
    /// to the special secret store directory, a shell profile, Tomcat's setenv.sh, a
    /// Kubernetes Secret, a systemd service (encrypted credential) or a Docker env-file,
    /// atomically; then print the AM settings that go with it.
    #[command(after_help = EXIT_CODES)]
    Install(Box<InstallArgs>),
    /// Inspect an installation: permissions, owner, the value's format, the configured
    /// format, decryption and (with --check-password) the password. Exit 1 on a problem.
    #[command(after_help = DOCTOR_EXIT_CODES)]
    Doctor(DoctorArgs),
    /// Encrypt an existing {SSHA-512} value (first line of stdin, or --in PATH).
    #[command(after_help = EXIT_CODES)]
    Encrypt(EncryptCommandArgs),
    /// Decrypt a value and print the {SSHA-512} hash inside (detects AM JCE, AM AESWrap and
    /// amhash AES-GCM; Cloud KMS with --kms-key).
    #[command(after_help = EXIT_CODES)]
    Decrypt(DecryptArgs),
    /// Create a local AES-256 key, or store a secret (such as the AM encryption password) in
    /// the OS keyring.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Print a shell completion script (bash, zsh, fish, powershell) on stdout.
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) on stdout.
    Man,
}

/// Where the password comes from. There is deliberately no flag that takes the password
/// itself: the command line is visible to every local user.
#[derive(Debug, Args)]
pub struct PasswordArgs {
    /// Read the password from the first line of PATH, a regular file owned by you or root
    /// (whitespace stripped as Python's str.strip() does). Without it: a terminal prompt
    /// without echo when stdin is a terminal, else the first line of stdin.
    #[arg(long, value_name = "PATH")]
    pub password_file: Option<PathBuf>,
}

/// Choosing a new password.
#[derive(Debug, Args)]
pub struct NewPasswordArgs {
    /// Create a random password (26 characters from A-Z a-z 0-9 - _, 156 bits), show it once
    /// on the terminal (or store it with --password-out) and use it.
    #[arg(long, conflicts_with = "password_file")]
    pub random: bool,

    /// With --random: store the new password in SOURCE (file:PATH, created 0600, never
    /// overwritten; or keyring:SERVICE/ACCOUNT) instead of showing it.
    #[arg(long, value_name = "SOURCE", requires = "random", value_parser = parsed::<KeySource>)]
    pub password_out: Option<KeySource>,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub password: PasswordArgs,

    #[command(flatten)]
    pub new_password: NewPasswordArgs,

    #[command(flatten)]
    pub encrypt: EncryptArgs,

    /// Use this salt (hex, 1 to 255 bytes) instead of 20 random bytes. For test vectors and
    /// reproducible tests only: a fixed salt in production defeats the point of salting.
    #[arg(long, value_name = "HEX")]
    pub salt_hex: Option<String>,
}

/// The places AM reads the value from, where `install` writes it and `verify` and `doctor`
/// read it: described once for both, what differs between writing and reading is said by the
/// command's own help.
#[derive(Debug, Args)]
#[group(skip)]
pub struct Places {
    /// DIR/password.<user>, the special secret store directory (AM's default:
    /// .../openam/security/secrets/userpasswords): no trailing newline, mode 0600. DIR must
    /// exist and not be writable by group or others.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// The one `export PASSWORD_<USER>='...'` line of a shell profile (e.g. the AM user's
    /// ~/.bash_profile); every other byte of the file is kept.
    #[arg(long, value_name = "FILE")]
    pub env_file: Option<PathBuf>,

    /// The marked amhash block of Tomcat's setenv.sh, which adds -Dpassword.<user>=VALUE and
    /// the format property to CATALINA_OPTS.
    #[arg(long, value_name = "FILE")]
    pub setenv: Option<PathBuf>,

    /// A systemd service (e.g. tomcat9.service; `.service` is added): an encrypted credential
    /// in /etc/credstore.encrypted (systemd-creds, TPM2 and host key where there is a TPM2,
    /// else the host key) and a drop-in UNIT.d/amhash-<user>.conf with
    /// LoadCredentialEncrypted=, so AM reads /run/credentials/UNIT; where systemd-creds is
    /// missing or older than 250, an EnvironmentFile= (0600 root) with PASSWORD_<USER>.
    /// Read back through the drop-in, decrypting the credential with systemd-creds.
    #[arg(long, value_name = "UNIT")]
    pub systemd: Option<String>,

    /// The one `PASSWORD_<USER>=VALUE` line of a Docker / Podman env-file (no quotes, no
    /// export; a new file is 0600). A value that syntax cannot carry is refused.
    #[arg(long, value_name = "FILE")]
    pub docker_env_file: Option<PathBuf>,
}

/// The ids of [`Places`]' arguments, for the groups that hold them.
const PLACES: [&str; 5] = ["dir", "env_file", "setenv", "systemd", "docker_env_file"];

#[derive(Debug, Args)]
#[group(skip)]
#[command(group(ArgGroup::new("value").required(true).args(PLACES).args(["hash", "hash_file"])))]
pub struct ValueArgs {
    // Read the stored value from one of these.
    #[command(flatten)]
    pub places: Places,

    /// The {SSHA-512} value to check. Prefer --hash-file: a command line is visible to other
    /// local users, and a fast salted hash can be brute-forced.
    #[arg(long, value_name = "VALUE")]
    pub hash: Option<String>,

    /// Read the value from PATH (one trailing newline is accepted).
    #[arg(long, value_name = "PATH")]
    pub hash_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub value: ValueArgs,

    /// The special user whose value to read with --dir, --env-file or --setenv.
    #[arg(long, value_name = "NAME", default_value = "amadmin")]
    pub user: String,

    /// With --systemd: the root of the file system systemd reads (default /).
    #[arg(long, value_name = "DIR", requires = "systemd")]
    pub root: Option<PathBuf>,

    #[command(flatten)]
    pub password: PasswordArgs,

    /// Keys to decrypt an encrypted value first.
    #[command(flatten)]
    pub keys: KeyArgs,
}

#[derive(Debug, Args)]
#[group(skip)]
#[command(group(ArgGroup::new("target").required(true).multiple(true).args(PLACES).arg("k8s_secret")))]
pub struct TargetArgs {
    // Write the value to any of these.
    #[command(flatten)]
    pub places: Places,

    /// Write a Kubernetes Secret manifest named NAME (key password.<user>) to stdout, or to
    /// --out FILE.
    #[arg(long, value_name = "NAME")]
    pub k8s_secret: Option<String>,

    /// Namespace of the Kubernetes Secret.
    #[arg(long, value_name = "NS", requires = "k8s_secret")]
    pub namespace: Option<String>,

    /// Write the Kubernetes Secret manifest to FILE (mode 0600, atomically) instead of stdout.
    #[arg(long, value_name = "FILE", requires = "k8s_secret")]
    pub out: Option<PathBuf>,

    /// With --systemd: auto (a credential where systemd-creds works, else the environment
    /// file), credential (or fail), env-file.
    #[arg(long, value_name = "MODE", value_enum, default_value_t = SystemdMode::Auto, requires = "systemd")]
    pub systemd_mode: SystemdMode,

    /// With --systemd: write under DIR instead of / (an image being built, tests). Every
    /// directory from DIR down must be root's and not writable by group or others.
    #[arg(long, value_name = "DIR", requires = "systemd")]
    pub root: Option<PathBuf>,

    /// With --dir: also print the docker compose `secrets:` snippet for the file written
    /// and the AM setting for /run/secrets, where Compose and Swarm mount it.
    #[arg(long, requires = "dir")]
    pub compose_snippet: bool,
}

/// How `install --systemd` hands the value to the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SystemdMode {
    /// An encrypted credential where systemd-creds (250+) works, else an EnvironmentFile.
    Auto,
    /// An encrypted credential (LoadCredentialEncrypted=), or fail.
    Credential,
    /// An EnvironmentFile= readable by root only.
    EnvFile,
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    #[command(flatten)]
    pub targets: TargetArgs,

    /// The special user: secret id password.<name>, variable PASSWORD_<NAME>, property
    /// password.<name>. Letters, digits, '.', '_' and '-'.
    #[arg(long, value_name = "NAME", default_value = "amadmin")]
    pub user: String,

    /// The account AM runs as, USER[:GROUP] or numeric ids: owner of the files amhash
    /// creates (password.<user>, which replaces the old one by rename, a new profile or
    /// setenv.sh, --out). An existing profile or setenv.sh keeps its owner, whatever this
    /// says; amhash reads it as the account that must still read such a file after its mode
    /// is tightened. Default: the replaced file's owner, else (as root) the directory's.
    #[arg(long, value_name = "USER[:GROUP]")]
    pub owner: Option<String>,

    /// Wait at most SECONDS for another process's lock on a target directory, then fail
    /// (exit 3). 0 fails at once if the lock is held.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub lock_timeout: u64,

    /// Do not keep the replaced value as password.<user>.previous.
    #[arg(long)]
    pub no_backup: bool,

    /// Show what would change; write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Install an existing value (as printed by generate or encrypt) from PATH instead of
    /// hashing a new password.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["password_file", "salt_hex", "encrypt", "random"])]
    pub value_file: Option<PathBuf>,

    #[command(flatten)]
    pub password: PasswordArgs,

    #[command(flatten)]
    pub new_password: NewPasswordArgs,

    /// Install even when the password is weak. A {SSHA-512} value is a fast hash: a weak
    /// password falls to brute force within hours if the value leaks.
    #[arg(long)]
    pub allow_weak: bool,

    /// Salt as hex, for tests only (see generate --salt-hex).
    #[arg(long, value_name = "HEX")]
    pub salt_hex: Option<String>,

    #[command(flatten)]
    pub encrypt: EncryptArgs,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The special secret store directory to inspect.
    #[arg(
        long,
        value_name = "DIR",
        required_unless_present = "systemd",
        conflicts_with = "systemd"
    )]
    pub dir: Option<PathBuf>,

    /// Inspect what install --systemd wrote for this unit: the drop-in, the credential (or
    /// EnvironmentFile) with its owner and mode, the unit's file, and the value.
    #[arg(long, value_name = "UNIT")]
    pub systemd: Option<String>,

    /// With --systemd: the root of the file system systemd reads (default /).
    #[arg(long, value_name = "DIR", requires = "systemd")]
    pub root: Option<PathBuf>,

    /// The special user to inspect.
    #[arg(long, value_name = "NAME", default_value = "amadmin")]
    pub user: String,

    /// Tomcat setenv.sh whose amhash block records the configured format.
    #[arg(long, value_name = "FILE")]
    pub setenv: Option<PathBuf>,

    /// The format configured in AM (PLAIN, ENCRYPTED_PLAIN or GOOGLE_KMS_ENCRYPTED), when it
    /// is not in a setenv.sh.
    #[arg(long, value_name = "FORMAT", value_parser = parsed::<amhash::am::Format>)]
    pub format: Option<amhash::am::Format>,

    /// A value your own AM encrypted (see install --am-sample): doctor says whether the
    /// stored value uses the same AM encryptor and key wrap (needs --key).
    #[arg(long, value_name = "FILE", requires = "key")]
    pub am_sample: Option<PathBuf>,

    /// Also check a password against the stored value (read like verify reads it).
    #[arg(long)]
    pub check_password: bool,

    #[command(flatten)]
    pub password: PasswordArgs,

    #[command(flatten)]
    pub keys: KeyArgs,
}

/// How to encrypt a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EncryptWith {
    /// With the AM encryption password (am.encryption.pwd), as AM's encode.jsp and
    /// `ampassword --encrypt` do: AM format ENCRYPTED_PLAIN.
    Am,
    /// With a local 256-bit key, AES-256-GCM (for transport and backup: AM cannot read it).
    AesGcm,
    /// With a Google Cloud KMS key: AM format GOOGLE_KMS_ENCRYPTED.
    Kms,
}

#[derive(Debug, Args)]
pub struct EncryptArgs {
    /// Encrypt the value: am (AM encryption password, ENCRYPTED_PLAIN), aes-gcm (local key;
    /// AM cannot read it) or kms (Cloud KMS, GOOGLE_KMS_ENCRYPTED).
    #[arg(long, value_name = "HOW", ignore_case = true)]
    pub encrypt: Option<EncryptWith>,

    /// AM encryptor for --encrypt am: jce (JCEEncryption, AM's default), aeswrap
    /// (AESWrapEncryption with the RFC 3394 wrap, as ForgeRock's class does) or aeswrap-pad
    /// (the RFC 5649 wrap, which a community OpenAM fork uses on Java 17 and later). Which one
    /// your AM reads is not told by its Java version: let --am-sample find out.
    #[arg(long, value_name = "CIPHER", default_value = "jce", value_parser = parsed::<AmCipher>)]
    pub am_cipher: AmCipher,

    /// With --encrypt am: a file holding any value your own AM encrypted (the output of
    /// encode.jsp or `ampassword --encrypt`, or an encrypted value from AM's configuration).
    /// amhash opens it with --key (and the --am-kdf-* settings) and encrypts with the same
    /// encryptor and key wrap, saying which; a sample the key cannot open is exit 3.
    #[arg(long, value_name = "FILE", conflicts_with = "am_cipher")]
    pub am_sample: Option<PathBuf>,

    #[command(flatten)]
    pub keys: KeyArgs,
}

/// Where keys come from. Key material is never a flag value: a SOURCE names where it lives.
#[derive(Debug, Args)]
pub struct KeyArgs {
    /// Key source: file:PATH (mode 0600 or stricter), env:VAR (visible to this user's
    /// processes), keyring:SERVICE/ACCOUNT (OS keyring), or a secrets manager:
    /// vault:MOUNT/PATH#FIELD, aws-sm:ID[#FIELD], gcp-sm:projects/P/secrets/S[#FIELD],
    /// azure-kv:https://VAULT.vault.azure.net/secrets/NAME[#FIELD]. Holds the AM encryption
    /// password for --encrypt am, or 64 hex characters for aes-gcm.
    #[arg(long, value_name = "SOURCE", value_parser = parsed::<KeySource>)]
    pub key: Option<KeySource>,

    /// OS keyring for keyring: sources: auto (Secret Service when a session bus answers,
    /// else the kernel keyutils user keyring), secret-service or keyutils.
    #[arg(long, value_name = "BACKEND", default_value = "auto", value_parser = parsed::<KeyringBackend>)]
    pub keyring_backend: KeyringBackend,

    /// Cap on fetching a --key from a secrets manager (vault:, aws-sm:, gcp-sm:, azure-kv:),
    /// retries included.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..=3600)
    )]
    pub secrets_timeout: u64,

    /// AESWrap key derivation digest, as AM's org.forgerock.openam.encryption.key.digest:
    /// SHA1, SHA256, SHA384 or SHA512.
    #[arg(long, value_name = "DIGEST", default_value = "SHA1", value_parser = parsed::<KdfDigest>)]
    pub am_kdf_digest: KdfDigest,

    /// AESWrap PBKDF2 iterations, as AM's org.forgerock.openam.encryption.key.iterations
    /// (at least 10000).
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub am_kdf_iterations: u32,

    /// AESWrap key size in bits, as AM's org.forgerock.openam.encryption.key.size: 128,
    /// 192 or 256.
    #[arg(long, value_name = "BITS", default_value_t = 128)]
    pub am_key_size: u32,

    #[command(flatten)]
    pub kms: KmsArgs,
}

#[derive(Debug, Args)]
pub struct KmsArgs {
    /// Cloud KMS key: projects/P/locations/L/keyRings/R/cryptoKeys/K (symmetric) or
    /// .../cryptoKeys/K/cryptoKeyVersions/V (asymmetric decrypt key version).
    #[arg(long, value_name = "NAME", value_parser = parsed::<KmsKeyName>)]
    pub kms_key: Option<KmsKeyName>,

    /// Cloud KMS endpoint (regional or private endpoint, emulator).
    #[arg(long, value_name = "URL")]
    pub kms_endpoint: Option<String>,

    /// Send no credentials (emulators and tests). Default: Application Default Credentials.
    #[arg(long)]
    pub kms_anonymous: bool,

    /// Cap on the whole KMS operation, retries included.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub kms_timeout: u64,
}

#[derive(Debug, Args)]
pub struct EncryptCommandArgs {
    /// Read the value from PATH instead of the first line of stdin.
    #[arg(long = "in", value_name = "PATH")]
    pub input: Option<PathBuf>,

    #[command(flatten)]
    pub encrypt: EncryptArgs,
}

#[derive(Debug, Args)]
pub struct DecryptArgs {
    /// Read the value from PATH instead of stdin (base64 with line breaks is accepted).
    #[arg(long = "in", value_name = "PATH")]
    pub input: Option<PathBuf>,

    #[command(flatten)]
    pub keys: KeyArgs,
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create a random 256-bit key (64 hex characters) for --encrypt aes-gcm, in a new file
    /// (mode 0600; an existing file is never overwritten) or in the OS keyring.
    #[command(after_help = EXIT_CODES)]
    Generate {
        /// Where to put the key: file:PATH or keyring:SERVICE/ACCOUNT.
        #[arg(long, value_name = "SOURCE", value_parser = parsed::<KeySource>)]
        out: KeySource,

        /// OS keyring for keyring: sources (auto, secret-service, keyutils).
        #[arg(long, value_name = "BACKEND", default_value = "auto", value_parser = parsed::<KeyringBackend>)]
        keyring_backend: KeyringBackend,
    },
    /// Store a secret read from the terminal (twice, without echo) or the first line of stdin,
    /// e.g. the AM encryption password, in the OS keyring (or a new 0600 file).
    #[command(after_help = EXIT_CODES)]
    Store {
        /// Where to store it: keyring:SERVICE/ACCOUNT or file:PATH.
        #[arg(value_name = "SOURCE", value_parser = parsed::<KeySource>)]
        source: KeySource,

        /// OS keyring for keyring: sources (auto, secret-service, keyutils).
        #[arg(long, value_name = "BACKEND", default_value = "auto", value_parser = parsed::<KeyringBackend>)]
        keyring_backend: KeyringBackend,
    },
}

/// The value parser of every argument whose type parses itself: the library's one-line
/// message is clap's error text.
fn parsed<T: FromStr>(text: &str) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    text.parse().map_err(|e: T::Err| e.to_string())
}

/// Parses the command line. Usage errors are reported on one line and exit 2; `--help`
/// and `--version` print and exit 0.
pub fn parse() -> Result<Cli, ExitCode> {
    Cli::try_parse().map_err(|e| {
        use clap::error::ErrorKind;
        let message = match e.kind() {
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                // No command given: a usage error like any other, so one line on stderr
                // (clap would dump the whole help there) naming what to run instead.
                let names: Vec<String> = Cli::command()
                    .get_subcommands()
                    .map(|c| c.get_name().to_string())
                    .collect();
                format!("no command given: use one of {}", names.join(", "))
            }
            ErrorKind::ValueValidation if names_a_source(&e) => {
                // clap's message quotes the value; a SOURCE may be a secret pasted by
                // mistake, so say what is wrong without it (the key source error itself
                // never quotes more than a plausible scheme name).
                let arg = match e.get(clap::error::ContextKind::InvalidArg) {
                    Some(clap::error::ContextValue::String(arg)) => arg.clone(),
                    _ => "<SOURCE>".to_string(),
                };
                let reason = std::error::Error::source(&e)
                    .map(ToString::to_string)
                    .unwrap_or_else(|| "not a key source".to_string());
                format!("invalid value for '{arg}': {reason}")
            }
            ErrorKind::UnknownArgument if unexpected_word(&e) => {
                // `amhash generate hunter2`: clap would quote the word, which may well be the
                // password, into a message that ends up in logs. Do not repeat it.
                "unexpected argument (not shown: it may be a password, and passwords are never \
                 taken on the command line)"
                    .to_string()
            }
            _ => {
                // clap's message is the first paragraph (a list of missing arguments
                // continues on indented lines); fold it onto one line.
                let rendered = e.render().to_string();
                let first: Vec<&str> = rendered
                    .lines()
                    .take_while(|line| !line.trim().is_empty())
                    .map(str::trim)
                    .collect();
                first.join(" ").trim_start_matches("error: ").to_string()
            }
        };
        let failure = crate::failure::Failure::input(format!("{message} (see amhash --help)"));
        let json = std::env::args_os().any(|a| a == "--json");
        crate::output::report_failure(failure, crate::output::Mode::new(json, false))
    })
}

/// True when a value error is about an argument taking a key SOURCE (`--key`, `--out`,
/// `--password-out`, `key store SOURCE`), whose rejected value must not be echoed.
fn names_a_source(e: &clap::Error) -> bool {
    matches!(
        e.get(clap::error::ContextKind::InvalidArg),
        Some(clap::error::ContextValue::String(arg)) if arg.ends_with("<SOURCE>")
    )
}

/// True when clap's unknown argument is a bare word (not a `-flag`): possibly a secret.
fn unexpected_word(e: &clap::Error) -> bool {
    use clap::error::{ContextKind, ContextValue};
    match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(arg)) => !arg.starts_with('-'),
        _ => true,
    }
}

/// The clap command, for completions and the man page.
pub fn command() -> clap::Command {
    Cli::command()
}
