#!/usr/bin/env bash
# End-to-end comparison: the whole `amhash generate` process (password on stdin) against the
# AM documentation's reference script run by python3 and against /bin/true (the floor: the
# cost of starting any process at all), side by side in one run.
#
#   benches/compare.sh [-n RUNS]        (default 200 runs of each)
#   AMHASH_BIN=path/to/amhash benches/compare.sh    (measure that binary; no build)
#
# Builds `cargo build --release` (default features), copies the binary aside (another build
# in a shared target directory must not swap it mid-run), then reports for each command the
# mean, median and minimum wall time per run, the ratios reference/amhash and amhash/true,
# and peak RSS.
#
# Needs only what CI installs: cargo and python3 (the timing loop and the table are Python
# standard library). Optional:
#   - hyperfine 1.16 or later (cargo install hyperfine): used for the timing when present;
#   - GNU time  (apt-get install time): /usr/bin/time -f %M gives peak RSS when present.
#     Without it, peak RSS is VmHWM read from /proc/PID/status at the moment the process
#     exits (stopped there with ptrace's PTRACE_O_TRACEEXIT, via Python's ctypes). Note that
#     ru_maxrss from wait4() after a vfork/posix_spawn (Python's subprocess, Rust's Command)
#     is NOT usable: Linux folds the parent's high-water mark into the child's on exec.
#     COMPARE_RSS=ptrace forces this method even where GNU time is installed.
# Targets (reported, not enforced): amhash >= 20x faster than the reference end to end,
# within 2x of /bin/true, peak RSS <= 4 MiB.
set -euo pipefail

runs=200
while getopts "n:h" opt; do
  case "$opt" in
    n) runs="$OPTARG" ;;
    h) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "usage: $0 [-n RUNS]" >&2; exit 2 ;;
  esac
done
case "$runs" in '' | *[!0-9]* | 0) echo "compare.sh: -n needs a positive integer" >&2; exit 2 ;; esac

cd "$(dirname "$0")/.."
command -v python3 >/dev/null || { echo "compare.sh: python3 is required" >&2; exit 3; }

if [ -n "${AMHASH_BIN:-}" ]; then
  # Measure a given build (e.g. another release profile) instead of building one.
  bin="$AMHASH_BIN"
else
  echo "==> cargo build --release" >&2
  cargo build --release >&2
  target_dir=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
  bin="$target_dir/release/amhash"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$bin" "$work/amhash"
cp vectors/reference_amadmin_hash.py "$work/reference.py"
# A 32-character password and its newline, as a user would pipe it.
printf '%s\n' 'wJ7#qz!L0v^Tg2@Xe9$Rk4&Nb8*Hs1%D' >"$work/password"

timer=python
# hyperfine needs --input (1.16+) to feed stdin; older ones (Debian 12 has 1.15) are skipped.
if command -v hyperfine >/dev/null && hyperfine --help 2>/dev/null | grep -q -- '--input' &&
  hyperfine --help 2>/dev/null | grep -q -- '--output'; then
  timer=hyperfine
fi
rss=ptrace
if [ -x /usr/bin/time ] && /usr/bin/time -f %M true >/dev/null 2>&1; then rss=gnu-time; fi
# COMPARE_RSS=ptrace forces the fallback (to check it agrees with GNU time).
rss=${COMPARE_RSS:-$rss}

python3 - "$work" "$runs" "$timer" "$rss" <<'PY'
import ctypes, json, os, platform, shutil, statistics, subprocess, sys, tempfile, time

work, runs, timer, rss_method = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
pw_path = os.path.join(work, "password")
password = open(pw_path, "rb").read()
python3 = shutil.which("python3")
commands = [
    ("/bin/true", ["/bin/true"]),
    ("amhash generate", [os.path.join(work, "amhash"), "generate"]),
    ("reference (python3)", [python3, os.path.join(work, "reference.py")]),
]

# Each command must work before it is timed.
for name, argv in commands[1:]:
    out = subprocess.run(argv, input=password, capture_output=True)
    if out.returncode != 0 or not out.stdout.startswith(b"{SSHA-512}"):
        sys.exit("compare.sh: %s failed: %r" % (name, out))

times = {name: [] for name, _ in commands}
if timer == "hyperfine":
    for name, argv in commands:
        with tempfile.NamedTemporaryFile(suffix=".json") as f:
            subprocess.run(["hyperfine", "-N", "--style", "none", "--warmup", "10", "--runs", str(runs),
                            "--input", pw_path, "--output", "null", "--export-json", f.name,
                            " ".join(argv)], check=True, stdout=subprocess.DEVNULL)
            times[name] = json.load(open(f.name))["results"][0]["times"]
else:
    # Interleaved, so drift in machine load hits all three alike. Each run is a fresh process
    # fed the password on stdin; the spawn cost is in every number, /bin/true shows it.
    for _ in range(10):
        for name, argv in commands:
            subprocess.run(argv, input=password, stdout=subprocess.DEVNULL)
    for _ in range(runs):
        for name, argv in commands:
            t0 = time.perf_counter()
            subprocess.run(argv, input=password, stdout=subprocess.DEVNULL)
            times[name].append(time.perf_counter() - t0)


def rss_gnu_time(argv):
    with open(pw_path, "rb") as stdin:
        out = subprocess.run(["/usr/bin/time", "-f", "%M"] + argv, stdin=stdin,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True)
    return int(out.stderr.decode().strip().splitlines()[-1])


def rss_ptrace(argv):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
    PTRACE_TRACEME, PTRACE_CONT, PTRACE_SETOPTIONS = 0, 7, 0x4200
    PTRACE_O_TRACEEXIT, PTRACE_EVENT_EXIT = 0x40, 6
    fd = os.open(pw_path, os.O_RDONLY)
    pid = os.fork()
    if pid == 0:
        try:
            os.dup2(fd, 0)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            if libc.ptrace(PTRACE_TRACEME, 0, None, None) != 0:
                os._exit(120)
            os.execv(argv[0], argv)
        finally:
            os._exit(121)
    os.close(fd)
    hwm = None
    _, status = os.waitpid(pid, 0)  # stopped at exec
    if os.WIFEXITED(status):
        return None  # ptrace refused (a sandbox): no measurement
    libc.ptrace(PTRACE_SETOPTIONS, pid, None, ctypes.c_void_p(PTRACE_O_TRACEEXIT))
    libc.ptrace(PTRACE_CONT, pid, None, None)
    while True:
        _, status = os.waitpid(pid, 0)
        if os.WIFEXITED(status) or os.WIFSIGNALED(status):
            return hwm
        sig = os.WSTOPSIG(status)
        deliver = 0
        if (status >> 16) == PTRACE_EVENT_EXIT:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        hwm = int(line.split()[1])
        elif sig != 5:  # pass real signals on; swallow our own SIGTRAPs
            deliver = sig
        libc.ptrace(PTRACE_CONT, pid, None, ctypes.c_void_p(deliver))


measure_rss = rss_gnu_time if rss_method == "gnu-time" else rss_ptrace
rss = {}
for name, argv in commands:
    samples = [measure_rss(argv) for _ in range(5)]
    samples = [s for s in samples if s is not None]
    rss[name] = max(samples) if samples else None


def ms(x):
    return x * 1000.0


stats = {}
for name, _ in commands:
    t = times[name]
    stats[name] = (statistics.mean(t), statistics.median(t), min(t))

print()
print("amhash end to end: %d runs each, timing by %s, peak RSS by %s" % (
    runs, "hyperfine" if timer == "hyperfine" else "python3 perf_counter loop (interleaved)",
    "/usr/bin/time -f %M" if rss_method == "gnu-time" else "VmHWM at exit (ptrace)"))
print("machine: %s, %s, %d CPUs, python %s" % (platform.machine(), platform.release(), os.cpu_count(),
                                               platform.python_version()))
print()
print("%-22s %10s %10s %10s %14s" % ("command", "mean ms", "median ms", "min ms", "peak RSS KiB"))
print("%-22s %10s %10s %10s %14s" % ("-" * 22, "-" * 10, "-" * 10, "-" * 10, "-" * 14))
for name, _ in commands:
    mean, median, low = stats[name]
    print("%-22s %10.3f %10.3f %10.3f %14s" % (name, ms(mean), ms(median), ms(low),
                                               rss[name] if rss[name] is not None else "n/a"))
print()
t, a, r = (stats[n] for n, _ in commands)
print("reference / amhash : %6.1fx mean, %6.1fx median   (target >= 20x)" % (r[0] / a[0], r[1] / a[1]))
print("amhash / true      : %6.2fx mean, %6.2fx median   (target <= 2x)" % (a[0] / t[0], a[1] / t[1]))
ar = rss["amhash generate"]
print("amhash peak RSS    : %s   (target <= 4096 KiB)" % ("%d KiB" % ar if ar is not None else "n/a"))
PY
