use super::agent::tracer_pid;
use super::*;

#[test]
fn stderr_becomes_one_line() {
    let p = "amhash-kms";
    assert_eq!(one_line(b"  error: x\n", p), "error: x");
    assert_eq!(one_line(b"a\n\nb\r\n", p), "a b");
    assert_eq!(one_line(b"a\x1b[31mb", p), "a[31mb");
    assert_eq!(one_line(b"", p), "");
    assert_eq!(
        one_line(b"amhash-kms: Cloud KMS failed\n", p),
        "Cloud KMS failed"
    );
    // Only the helper's own name is stripped.
    assert_eq!(one_line(b"amhash-strength: x\n", p), "amhash-strength: x");
    assert_eq!(one_line(&vec![b'a'; 5000], p).len(), MAX_MESSAGE);
}

#[test]
fn usage_errors_become_one_line() {
    let rendered = "error: unexpected argument 'x' found\n\n  tip: to pass 'x' as a value, use '-- x'\n\nUsage: amhash-kms encrypt [OPTIONS]\n\nFor more information, try '--help'.\n";
    assert_eq!(usage_line(rendered), "unexpected argument 'x' found");
    assert_eq!(
        usage_line(
            "error: the following required arguments were not provided:\n  --kms-key <NAME>\n\nUsage: x\n"
        ),
        "the following required arguments were not provided: --kms-key <NAME>"
    );
    assert_eq!(usage_line(""), "invalid arguments");
    assert_eq!(usage_line("Usage: x\n"), "invalid arguments");
}

#[test]
fn missing_file_is_missing() {
    let e = existing(PathBuf::from("/nonexistent/amhash-x")).unwrap_err();
    assert!(matches!(e, LocateError::Missing(p) if p == Path::new("/nonexistent/amhash-x")));
    // A directory is not a helper.
    assert!(matches!(
        existing(PathBuf::from("/")),
        Err(LocateError::Missing(_))
    ));
}

/// A `#!/bin/sh` helper with `body`, in its own temporary directory.
struct Script {
    dir: tempfile::TempDir,
}

impl Script {
    fn new(body: &str) -> Script {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("helper");
        crate::test_support::write_executable(&path, format!("#!/bin/sh\n{body}\n"));
        Script { dir }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("helper")
    }

    fn file(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.dir.path().join(name)).unwrap_or_default()
    }

    fn run(&self, input: &[u8], max: usize) -> Result<Reply, ExchangeError> {
        self.run_within(input, max, READY_TIMEOUT)
    }

    fn run_within(
        &self,
        input: &[u8],
        max: usize,
        timeout: Duration,
    ) -> Result<Reply, ExchangeError> {
        self.run_limited(input, max, timeout, LOCAL_LIMIT)
    }

    /// With `timeout` for the handshake and `limit` for the rest.
    fn run_limited(
        &self,
        input: &[u8],
        max: usize,
        timeout: Duration,
        limit: Duration,
    ) -> Result<Reply, ExchangeError> {
        loop {
            let mut command = Command::new(self.path());
            command.arg(HANDSHAKE_FLAG);
            match exchange_within(command, "sh", input, max, Some(timeout), limit) {
                // A test thread that forked while another wrote its script holds it open
                // for writing until it execs: "text file busy". Try again.
                Err(ExchangeError::Spawn(e)) if e.raw_os_error() == Some(26) => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                other => return other,
            }
        }
    }
}

const SAY_READY: &str = "printf 'amhash-helper-ready\\n'";

#[test]
fn exchange_passes_input_and_collects_everything() {
    let run = |script: &str, input: &[u8], max: usize| {
        Script::new(&format!("{SAY_READY}\n{script}"))
            .run(input, max)
            .unwrap()
    };
    // stdin and stdout are one socket: `cat` echoes the input back.
    let reply = run("cat; echo sh: oops >&2; exit 3", b"input bytes", 1024);
    assert_eq!(reply.status.code(), Some(3));
    assert_eq!(&reply.stdout[..], b"input bytes");
    assert_eq!(reply.message, "oops");
    // The handshake flag comes first, then the caller's arguments (none here).
    let reply = run(r#"[ "$*" = --handshake ] || exit 9; cat"#, b"x", 16);
    assert_eq!(reply.status.code(), Some(0), "{}", reply.message);
    // Output is cut at max_output + 1 bytes.
    let reply = run("printf 0123456789", b"", 4);
    assert_eq!(&reply.stdout[..], b"01234");
    // A helper that never reads its input is not a pipe error, nor one that reads part
    // of it and closes (a reset connection).
    let reply = run("exit 2", &vec![0u8; 1 << 20], 16);
    assert_eq!(reply.status.code(), Some(2));
    let reply = run(
        "head -c 10 >/dev/null; echo sh: too long >&2; exit 2",
        &vec![0u8; 1 << 20],
        16,
    );
    assert_eq!(
        (reply.status.code(), &reply.message[..]),
        (Some(2), "too long")
    );
    // Standard input is a socket, and /proc/PID/fd/0 cannot be opened again.
    let reply = run(
        r#"[ -S /dev/stdin ] && [ -S /dev/stdout ] || exit 7
cat /proc/$$/fd/0 /proc/$$/fd/1 2>&1 | grep -c 'No such device or address'"#,
        b"",
        64,
    );
    assert_eq!(reply.status.code(), Some(0), "{}", reply.message);
    assert_eq!(&reply.stdout[..], b"2\n");
    assert!(matches!(
        exchange(
            Path::new("/nonexistent/helper"),
            "x",
            Env::Inherit,
            ["x"],
            b"",
            1,
            LOCAL_LIMIT
        ),
        Err(ExchangeError::Spawn(_))
    ));
}

#[test]
fn nothing_is_written_before_the_helper_is_ready() {
    // Each stand-in records what reaches its stdin (bounded in time) in `got`.
    let record = "timeout 5 cat >\"${0%/*}/got\"";
    // It reports a failure (a usage error, say) instead: its reply, as usual.
    let s = Script::new(&format!("echo 'sh: bad argument' >&2; {record}; exit 2"));
    let reply = s.run(b"SECRET", 16).unwrap();
    assert_eq!(
        (reply.status.code(), &reply.message[..]),
        (Some(2), "bad argument")
    );
    assert!(reply.stdout.is_empty());
    assert_eq!(s.file("got"), b"");
    // It writes something else first: the input is not sent.
    let s = Script::new(&format!("echo hello; {record}"));
    let what = not_ready(s.run(b"SECRET", 16));
    assert!(what.contains("wrote something else"), "{what}");
    assert_eq!(s.file("got"), b"");
    // It exits successfully without the whole marker.
    for body in ["exit 0", "printf amhash-helper-rea"] {
        let what = not_ready(Script::new(body).run(b"SECRET", 16));
        assert!(what.contains("exited without"), "{body}: {what}");
    }
    // It waits for input without the marker, or says nothing at all: stopped after the
    // time limit, and nothing was sent.
    for body in [record, "exec sleep 30"] {
        let s = Script::new(body);
        let started = Instant::now();
        let what = not_ready(s.run_within(b"SECRET", 16, Duration::from_millis(1500)));
        assert!(started.elapsed() < Duration::from_secs(10), "{body}");
        assert!(what.contains("within 1 s"), "{body}: {what}");
        assert_eq!(s.file("got"), b"", "{body}");
    }
}

fn not_ready(result: Result<Reply, ExchangeError>) -> String {
    match result {
        Err(ExchangeError::NotReady(what)) => what,
        Err(e) => panic!("{e:?}"),
        Ok(reply) => panic!("a reply: {:?} {}", reply.status, reply.message),
    }
}

#[test]
fn tracer_pid_is_read_from_proc_status() {
    assert_eq!(tracer_pid("Name:\tx\nTracerPid:\t0\nUid:\t0\n"), Some(0));
    assert_eq!(tracer_pid("TracerPid:\t4711\n"), Some(4711));
    assert_eq!(tracer_pid("Name:\tx\n"), None);
    assert_eq!(tracer_pid("TracerPid:\tx\n"), None);
    let own = std::fs::read_to_string("/proc/self/status").unwrap();
    assert!(tracer_pid(&own).is_some(), "{own}");
}

#[test]
fn env_is_inherited_or_cleared() {
    // The test's own environment has PATH; with a cleared one the helper sees none of
    // it (dash adds PWD itself).
    let s = Script::new(&format!("{SAY_READY}\nexec /usr/bin/env -0"));
    let env = |mode| {
        let args: [&str; 0] = [];
        exchange(&s.path(), "env", mode, args, b"", 1 << 16, LOCAL_LIMIT).unwrap()
    };
    let vars = |reply: &Reply| -> Vec<String> {
        reply
            .stdout
            .split(|b| *b == 0)
            .filter(|v| !v.is_empty())
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .collect()
    };
    fn has_path(v: &[String]) -> bool {
        v.iter().any(|v| v.starts_with("PATH="))
    }
    fn only_pwd(v: &[String]) -> bool {
        v.iter().all(|v| v.starts_with("PWD="))
    }
    type Check = fn(&[String]) -> bool;
    let cases: [(Env, Check); 2] = [(Env::Inherit, has_path), (Env::Clear, only_pwd)];
    for (mode, expected) in cases {
        let reply = env(mode);
        assert!(reply.status.success(), "{mode:?}");
        assert!(expected(&vars(&reply)), "{mode:?}: {:?}", vars(&reply));
    }
}

#[test]
fn a_tool_gets_a_socket_and_an_empty_environment() {
    // /usr/bin/env with no arguments prints its environment: nothing. Then a shell shows what
    // its stdin and stdout are, and echoes the input back.
    let reply = exchange(
        Path::new("/usr/bin/env"),
        "env",
        Peer::Tool,
        ["-0"],
        b"",
        4096,
        LOCAL_LIMIT,
    )
    .unwrap();
    assert!(reply.status.success());
    assert_eq!(
        reply.stdout.as_slice(),
        b"",
        "the tool inherited an environment"
    );
    let script = "readlink /proc/self/fd/0 /proc/self/fd/1; pwd; cat";
    let reply = exchange(
        Path::new("/bin/sh"),
        "sh",
        Peer::Tool,
        ["-c", script],
        b"secret",
        4096,
        LOCAL_LIMIT,
    )
    .unwrap();
    assert!(reply.status.success(), "{}", reply.message);
    let out = String::from_utf8(reply.stdout.to_vec()).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("socket:["), "{out}");
    assert_eq!(lines[0], lines[1], "stdin and stdout are one socket: {out}");
    assert_eq!(lines[2], "/");
    assert_eq!(lines[3], "secret");
    // Bounded: one byte past the limit comes back, no more.
    let reply = exchange(
        Path::new("/bin/sh"),
        "sh",
        Peer::Tool,
        ["-c", "cat"],
        &[b'x'; 100],
        10,
        LOCAL_LIMIT,
    )
    .unwrap();
    assert_eq!(reply.stdout.len(), 11);
}

#[test]
fn no_proxy_keeps_what_is_set_and_adds_loopback() {
    use std::ffi::OsString;
    let loopback = "127.0.0.1,localhost,::1";
    assert_eq!(
        no_proxy_with_loopback([None, None]),
        OsString::from(loopback)
    );
    assert_eq!(
        no_proxy_with_loopback([Some("a.example".into()), Some("b.example".into())]),
        OsString::from(format!("a.example,b.example,{loopback}"))
    );
    assert_eq!(
        no_proxy_with_loopback([Some("".into()), Some(".corp".into())]),
        OsString::from(format!(".corp,{loopback}"))
    );
}

/// The stand-in's pid, written to `pid` next to it (`exec` keeps it), is gone: killed and
/// reaped (an unreaped child of this test process would stay a zombie).
#[track_caller]
fn assert_reaped(s: &Script) {
    let pid = crate::test_support::pid_in(&s.dir.path().join("pid"));
    assert_eq!(crate::test_support::process_state(pid), None, "pid {pid}");
}

fn timed_out(result: Result<Reply, ExchangeError>) -> Duration {
    match result {
        Err(ExchangeError::TimedOut { after }) => after,
        Err(e) => panic!("{e:?}"),
        Ok(reply) => panic!("a reply: {:?} {}", reply.status, reply.message),
    }
}

const WRITE_PID: &str = "echo $$ >\"${0%/*}/pid\"";
const ONE_SECOND: Duration = Duration::from_secs(1);

/// Runs `script` as a helper with `input` and a limit of one second: it timed out at that
/// limit and was killed and reaped.
#[track_caller]
fn assert_stopped_at_the_limit(script: &str, input: &[u8]) -> Script {
    let s = Script::new(script);
    let after = timed_out(s.run_limited(input, 64, READY_TIMEOUT, ONE_SECOND));
    assert_eq!(after, ONE_SECOND);
    assert_reaped(&s);
    s
}

#[test]
fn a_helper_that_hangs_after_ready_is_killed_at_the_limit() {
    // It reads its input (recorded), starts an answer, then hangs; or it never reads its
    // input, and a large one fills the socket (the write is bounded too).
    let hangs_after_reading = format!(
        "{WRITE_PID}\n{SAY_READY}\ncat >\"${{0%/*}}/got\"\nprintf 'part of an answer'\nexec sleep 600"
    );
    let s = assert_stopped_at_the_limit(&hangs_after_reading, b"SECRET");
    assert_eq!(
        s.file("got"),
        b"SECRET",
        "the limit counts after the handshake"
    );
    assert_stopped_at_the_limit(
        &format!("{WRITE_PID}\n{SAY_READY}\nexec sleep 600"),
        &vec![0u8; 8 << 20],
    );

    // The message says it, with the limit rounded up.
    assert_eq!(
        ExchangeError::timed_out_phrase(Duration::from_millis(1500)),
        "did not finish within 2 s and was stopped"
    );
}

#[test]
fn a_helper_that_closes_its_stdout_but_keeps_running_is_killed_at_the_limit() {
    // Its answer ends (end of file on the socket), but it does not exit: the wait for its
    // exit is bounded too, and the answer it gave is not returned.
    assert_stopped_at_the_limit(
        &format!("{WRITE_PID}\n{SAY_READY}\ncat >/dev/null\nprintf answer\nexec sleep 600 <&- >&-"),
        b"SECRET",
    );
}

#[test]
fn a_process_the_helper_left_holding_its_stderr_does_not_hold_amhash() {
    // The shell runs `sleep` as its child, which inherits stderr (and the socket): killing
    // the shell does not close them. amhash returns anyway and leaves the orphan behind.
    let s = assert_stopped_at_the_limit(
        &format!(
            "{WRITE_PID}\n{SAY_READY}\ncat >/dev/null\nsleep 600 &\necho $! >\"${{0%/*}}/orphan\"\nwait"
        ),
        b"SECRET",
    );
    let orphan = crate::test_support::pid_in(&s.dir.path().join("orphan"));
    assert!(
        crate::test_support::process_state(orphan).is_some(),
        "the orphan was meant to hold stderr open"
    );
    let _ = Command::new("kill").arg(orphan.to_string()).status();
}

#[test]
fn a_tool_that_never_exits_is_killed_at_the_limit() {
    // The systemd-creds path: no handshake, the limit counts from the start.
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let script = format!("echo $$ >'{}'; exec /bin/sleep 600", pid_file.display());
    let result = exchange(
        Path::new("/bin/sh"),
        "sh",
        Peer::Tool,
        ["-c", &script],
        b"secret",
        64,
        ONE_SECOND,
    );
    assert_eq!(timed_out(result), ONE_SECOND);
    let pid = crate::test_support::pid_in(&pid_file);
    assert_eq!(crate::test_support::process_state(pid), None, "pid {pid}");
}
