//! moto (<https://github.com/getmoto/moto>) in server mode: a local AWS that speaks the real
//! wire protocols, so the AWS tests run the official SDK unchanged against it (through
//! `AWS_ENDPOINT_URL`). Started per test on 127.0.0.1 with an ephemeral port, killed on
//! drop; secrets are seeded with the boto3 that moto brings.
//!
//! moto must be installed (`python3 -m pip install 'moto[server]'`, as `.ci/run` does): when
//! it is not, the tests that need it fail and say so, they do not skip.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{Run, describe};

/// How long moto may take to listen (a cold start imports most of moto and boto3; on a
/// loaded CI machine that is several seconds). A guard against hanging, not a measurement.
const START_LIMIT: Duration = Duration::from_secs(90);

/// A running moto server; killed when dropped.
pub struct Moto {
    child: Child,
    endpoint: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Moto {
    /// Starts `python3 -m moto.server -H 127.0.0.1 -p PORT` on a free port and waits until
    /// it accepts connections.
    pub fn start() -> Moto {
        let dir = tempfile::tempdir().unwrap();
        // The port is free when chosen but may be taken before moto binds it: try again.
        for attempt in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .unwrap()
                .port();
            let log = dir.path().join(format!("moto-{attempt}.log"));
            let mut child = Command::new("python3")
                .args([
                    "-m",
                    "moto.server",
                    "-H",
                    "127.0.0.1",
                    "-p",
                    &port.to_string(),
                ])
                .env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .env("HOME", dir.path())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                // moto logs every request: a file, so a full pipe never blocks it.
                .stderr(std::fs::File::create(&log).unwrap())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run python3 for moto: {e}"));
            if wait_listening(&mut child, port, &log) {
                return Moto {
                    child,
                    endpoint: format!("http://127.0.0.1:{port}"),
                    log,
                    _dir: dir,
                };
            }
        }
        panic!("moto found no free port in 5 attempts");
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// What moto wrote so far (its request log, its errors).
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Runs the Python `body` with boto3 against this server and returns the JSON of `out`.
    /// The body has `client(region="us-east-1")` (a Secrets Manager client of moto) and a
    /// dict `out` to fill.
    pub fn seed(&self, body: &str) -> serde_json::Value {
        let script = format!(
            "import json, sys, boto3\n\
             def client(region='us-east-1'):\n    \
                 return boto3.client('secretsmanager', endpoint_url=sys.argv[1], \
                 region_name=region, aws_access_key_id='seed', aws_secret_access_key='seed')\n\
             out = {{}}\n\
             {body}\n\
             print(json.dumps(out))\n"
        );
        let out = Run::new("python3")
            .args(["-c", &script, &self.endpoint])
            .env("AWS_CONFIG_FILE", "/nonexistent/amhash-test/aws-config")
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/amhash-test/aws-credentials",
            )
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output();
        assert_eq!(
            out.status.code(),
            Some(0),
            "seeding moto: {}",
            describe(&out)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until moto listens on `port` (true) or exits because the port was taken (false);
/// any other exit, or no listener within [`START_LIMIT`], fails the test with moto's log.
fn wait_listening(child: &mut Child, port: u16, log: &Path) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + START_LIMIT;
    let log_text = || std::fs::read_to_string(log).unwrap_or_default();
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok() {
            return true;
        }
        if let Some(status) = child.try_wait().unwrap() {
            let text = log_text();
            if text.contains("Address already in use") {
                return false;
            }
            panic!(
                "moto did not start ({status}); install it with \
                 `python3 -m pip install 'moto[server]'` (see .ci/run):\n{text}"
            );
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "moto did not listen on {addr} within {START_LIMIT:?}:\n{}",
                log_text()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
