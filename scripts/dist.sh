#!/usr/bin/env bash
# Builds everything a release needs into target/dist/, in one command:
#
#   amhash-VERSION-x86_64-linux.tar.gz   the three binaries, the man page, bash/zsh/fish
#                                        completions, README.md, SECURITY.md, LICENSE
#   amhash_VERSION_amd64.deb             cargo-deb       (files as listed in Cargo.toml)
#   amhash-VERSION-1.x86_64.rpm          cargo-generate-rpm (the same files)
#   SHA256SUMS                           over the three
#
# The binaries are built by `cargo zigbuild --release --target x86_64-unknown-linux-gnu.2.17`:
# zig links them against glibc 2.17's symbol versions, so they run on any x86_64 Linux with
# glibc 2.17 or later (RHEL/CentOS 7 and newer), and still use the system's own glibc, so
# amhash-kms resolves host names through NSS like every other program (a static glibc
# would not: see the README's Install section). scripts/check-dist.sh checks the result.
#
# Reproducible: SOURCE_DATE_EPOCH is the commit time, paths of the source and of
# CARGO_HOME are remapped (rustc and C compilers), the tarball has sorted names, fixed
# mtime/owner and gzip -n. Two runs on one commit give byte-identical binaries and tarball.
#
# Idempotent: target/dist and target/dist-work are made anew on every run; the cargo
# build itself is incremental (target/x86_64-unknown-linux-gnu/release, apart from the
# host's target/release and target/debug).
#
# Needs cargo and python3. Installs what is missing of: the ziglang Python package (zig),
# cargo-zigbuild, cargo-deb, cargo-generate-rpm (pinned versions below). Environment:
#   CARGO_TARGET_DIR   honoured (the default is ./target)
#   DIST_JOBS          passed to cargo as --jobs (default: cargo's own)
set -euo pipefail

ZIGLANG_VERSION=0.17.1
CARGO_ZIGBUILD_VERSION=0.24.1
CARGO_DEB_VERSION=3.8.0
CARGO_GENERATE_RPM_VERSION=0.21.1

RUST_TARGET=x86_64-unknown-linux-gnu
GLIBC=2.17

cd "$(dirname "$0")/.."
root=$(pwd -P)
script_started=$(date +%s)

log() { printf '==> %s\n' "$*" >&2; }
die() {
  printf 'dist.sh: %s\n' "$*" >&2
  exit 1
}

command -v cargo >/dev/null || die "cargo is required"
command -v python3 >/dev/null || die "python3 is required"

# --- tools ---------------------------------------------------------------------------
if ! command -v zig >/dev/null && ! python3 -m ziglang version >/dev/null 2>&1; then
  log "pip install ziglang==$ZIGLANG_VERSION"
  # Debian's own python3 refuses pip outside a venv (PEP 668); CI machines are throwaway.
  python3 -m pip install --quiet "ziglang==$ZIGLANG_VERSION" 2>/dev/null ||
    python3 -m pip install --quiet --break-system-packages "ziglang==$ZIGLANG_VERSION"
fi
# Built quickly rather than optimised (no LTO, opt-level 1, 16 codegen units): these are
# packaging tools, and on a fresh CI machine their build is most of dist.sh's time.
cargo_install() { # command crate version
  if ! command -v "$1" >/dev/null; then
    log "cargo install --locked $2@$3"
    CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
      CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_DEBUG=false \
      cargo install --locked --quiet "$2@$3"
  fi
}
cargo_install cargo-zigbuild cargo-zigbuild "$CARGO_ZIGBUILD_VERSION"
cargo_install cargo-deb cargo-deb "$CARGO_DEB_VERSION"
cargo_install cargo-generate-rpm cargo-generate-rpm "$CARGO_GENERATE_RPM_VERSION"
tools_done=$(date +%s)

# --- what to build -------------------------------------------------------------------
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
[ -n "$version" ] || die "no version in Cargo.toml"
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null) ||
    die "not a git checkout: set SOURCE_DATE_EPOCH"
fi
export SOURCE_DATE_EPOCH
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  log "warning: the work tree has uncommitted changes; this is not a build of $(git rev-parse --short HEAD)"
fi

target_dir=${CARGO_TARGET_DIR:-$root/target}
case "$target_dir" in /*) ;; *) target_dir=$root/$target_dir ;; esac
bin_dir=$target_dir/$RUST_TARGET/release
dist=$target_dir/dist
# Where Cargo.toml's package file lists point, whatever CARGO_TARGET_DIR is.
work=$root/target/dist-work
name=amhash-$version-x86_64-linux
cargo_home=${CARGO_HOME:-$HOME/.cargo}

rm -rf "$dist" "$work"
mkdir -p "$dist" "$work/completions"

# --- the binaries --------------------------------------------------------------------
# Paths in panic messages and C __FILE__ strings: the registry and the source directory
# become fixed names, so the bytes do not depend on where the build ran. The last matching
# --remap-path-prefix wins, so the more specific (source) one comes last.
remap=(--remap-path-prefix="$cargo_home=/cargo" --remap-path-prefix="$root=/amhash")
export RUSTFLAGS="${remap[*]}"
cflags="-ffile-prefix-map=$cargo_home=/cargo -ffile-prefix-map=$root=/amhash"
export CFLAGS_x86_64_unknown_linux_gnu="$cflags"
export CXXFLAGS_x86_64_unknown_linux_gnu="$cflags"
jobs=()
[ -n "${DIST_JOBS:-}" ] && jobs=(--jobs "$DIST_JOBS")

log "cargo zigbuild --release --locked --target $RUST_TARGET.$GLIBC (SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH)"
started=$(date +%s)
cargo zigbuild --release --locked --bins "${jobs[@]}" --target "$RUST_TARGET.$GLIBC"
log "built in $(($(date +%s) - started)) s"

bins=(amhash amhash-kms amhash-strength)
for b in "${bins[@]}"; do
  [ -x "$bin_dir/$b" ] || die "$bin_dir/$b was not built"
done

# --- man page and completions, from the amhash just built --------------------------
"$bin_dir/amhash" man >"$work/amhash.1"
gzip -9 -n -c "$work/amhash.1" >"$work/amhash.1.gz"
"$bin_dir/amhash" completions bash >"$work/completions/amhash"
"$bin_dir/amhash" completions zsh >"$work/completions/_amhash"
"$bin_dir/amhash" completions fish >"$work/completions/amhash.fish"

# --- tarball -------------------------------------------------------------------------
stage=$work/$name
mkdir -p "$stage/man/man1" "$stage/completions"
for b in "${bins[@]}"; do
  install -m 0755 "$bin_dir/$b" "$stage/$b"
done
install -m 0644 "$work/amhash.1" "$stage/man/man1/amhash.1"
install -m 0644 "$work/completions/amhash" "$stage/completions/amhash.bash"
install -m 0644 "$work/completions/_amhash" "$stage/completions/_amhash"
install -m 0644 "$work/completions/amhash.fish" "$stage/completions/amhash.fish"
install -m 0644 README.md SECURITY.md LICENSE "$stage/"
find "$stage" -type d -exec chmod 0755 {} +
log "$name.tar.gz"
tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
  --format=gnu -C "$work" -cf - "$name" | gzip -9 -n >"$dist/$name.tar.gz"

# --- packages ------------------------------------------------------------------------
# Cargo.toml's file lists take everything from target/dist-work/pkg/, each file with the
# commit time as mtime: cargo-generate-rpm only clamps newer mtimes to SOURCE_DATE_EPOCH,
# so an older checkout or an unchanged binary would otherwise change the .rpm.
pkg=$work/pkg
mkdir -p "$pkg"
for b in "${bins[@]}"; do
  install -m 0755 "$bin_dir/$b" "$pkg/$b"
done
install -m 0644 "$work/completions/amhash" "$pkg/amhash.bash"
install -m 0644 "$work/amhash.1.gz" "$work/completions/_amhash" "$work/completions/amhash.fish" \
  README.md SECURITY.md LICENSE "$pkg/"
touch -d "@$SOURCE_DATE_EPOCH" "$pkg"/*

# --no-build: package exactly the binaries above; --no-strip: already stripped by the
# release profile, so the .deb, the .rpm and the tarball carry the same bytes.
log "amhash_${version}_amd64.deb (cargo deb)"
cargo deb --no-build --no-strip --locked --output "$dist/amhash_${version}_amd64.deb"

log "amhash-$version-1.x86_64.rpm (cargo generate-rpm)"
cargo generate-rpm --arch x86_64 --payload-compress gzip \
  --output "$dist/amhash-$version-1.x86_64.rpm"

# --- checksums -----------------------------------------------------------------------
(
  cd "$dist"
  sha256sum "$name.tar.gz" "amhash_${version}_amd64.deb" "amhash-$version-1.x86_64.rpm" >SHA256SUMS
)
log "dist.sh took $(($(date +%s) - script_started)) s (installing tools: $((tools_done - script_started)) s)"
log "target/dist:"
(cd "$dist" && ls -l && cat SHA256SUMS) >&2
