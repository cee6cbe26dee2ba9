#!/usr/bin/env bash
# Bounded fuzzing of amhash's parsers: builds every target with cargo-fuzz and runs each for
# a fixed time. Works on the STABLE toolchain: `--sanitizer none` keeps libFuzzer's coverage
# guidance (the sancov passes are stable -C flags) and needs no -Z flag. Address Sanitizer
# would need nightly; amhash itself is #![forbid(unsafe_code)].
#
#   fuzz/run.sh                 every target except kms_ciphertext, 20 s each
#   FUZZ_SECONDS=60 fuzz/run.sh
#   FUZZ_KMS=1 fuzz/run.sh      also kms_ciphertext (builds the Google KMS client: slower)
#   FUZZ_TARGETS="ssha setenv" fuzz/run.sh   only these
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`). Exits non-zero on the first crash;
# the crashing input is left in fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")"

seconds="${FUZZ_SECONDS:-20}"
targets=(ssha am_envelope gcm_envelope base64_lenient key_source env_file setenv kms_name password_line)
if [ -n "${FUZZ_TARGETS:-}" ]; then
  read -r -a targets <<<"$FUZZ_TARGETS"
fi
features=()
if [ "${FUZZ_KMS:-0}" = 1 ]; then
  targets+=(kms_ciphertext)
  features=(--features kms)
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz/run.sh: cargo-fuzz is not installed: cargo install cargo-fuzz --locked" >&2
  exit 2
fi

cargo fuzz build --sanitizer none -O "${features[@]}"
mkdir -p logs
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  echo "==> fuzz $t for ${seconds}s"
  status=0
  cargo fuzz run --sanitizer none -O "${features[@]}" "$t" "corpus/$t" -- \
    -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 >"logs/$t.log" 2>&1 || status=$?
  # libFuzzer's chatter stays in the log; show the summary (and any crash report).
  grep -E '^(Done [0-9]+ runs|==[0-9]+== ERROR|SUMMARY)|panicked at' "logs/$t.log" || true
  if [ "$status" -ne 0 ]; then
    tail -n 30 "logs/$t.log" >&2
    echo "fuzz/run.sh: $t failed (exit $status); the input is in fuzz/artifacts/$t/" >&2
    exit 1
  fi
done
echo "fuzz/run.sh: ${#targets[@]} targets, ${seconds}s each, no crash"
