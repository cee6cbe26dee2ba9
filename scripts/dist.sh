#!/usr/bin/env bash
# Builds everything a release needs into target/dist/, in one command:
#
#   amhash-VERSION-x86_64-linux.tar.gz   the three binaries, the man page, bash/zsh/fish
#                                        completions, README.md, SECURITY.md, LICENSE
#   amhash_VERSION_amd64.deb             dpkg-deb, from a staged tree and a generated control
#   amhash-VERSION-1.x86_64.rpm          rpmbuild, from the same tree and a generated spec
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
# Needs cargo, python3 (with pip), dpkg-deb and rpmbuild. Installs from PyPI what is missing
# of: ziglang (zig) and cargo-zigbuild (pinned versions below). Environment:
#   CARGO_TARGET_DIR   honoured (the default is ./target)
#   DIST_JOBS          passed to cargo as --jobs (default: cargo's own)
set -euo pipefail

ZIGLANG_VERSION=0.17.1
CARGO_ZIGBUILD_VERSION=0.24.1

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
# zig and cargo-zigbuild both come from PyPI as prebuilt wheels (seconds, where building
# cargo-zigbuild from source took minutes); the .deb and the .rpm are made with dpkg-deb
# and rpmbuild, from Debian's dpkg and rpm packages.
command -v dpkg-deb >/dev/null || die "dpkg-deb is required (Debian's dpkg)"
command -v rpmbuild >/dev/null || die "rpmbuild is required (apt-get install rpm)"
pip_install() {
  log "pip install $*"
  # Debian's own python3 refuses pip outside a venv (PEP 668); CI machines are throwaway.
  python3 -m pip install --quiet "$@" 2>/dev/null ||
    python3 -m pip install --quiet --break-system-packages "$@"
}
if ! command -v cargo-zigbuild >/dev/null; then
  pip_install "ziglang==$ZIGLANG_VERSION" "cargo-zigbuild==$CARGO_ZIGBUILD_VERSION"
  # pip may put the script where PATH does not look (a user install: ~/.local/bin).
  if ! command -v cargo-zigbuild >/dev/null; then
    PATH=$PATH:$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$HOME/.local/bin
    command -v cargo-zigbuild >/dev/null || die "pip installed cargo-zigbuild, but it is not on PATH"
  fi
elif ! command -v zig >/dev/null && ! python3 -m ziglang version >/dev/null 2>&1; then
  pip_install "ziglang==$ZIGLANG_VERSION"
fi
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

bins=(amhash amhash-kms amhash-secrets amhash-strength)
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
# One staged tree, root/, holds the installed layout; dpkg-deb packs it as the .deb and
# rpmbuild copies it into its buildroot for the .rpm, so both carry exactly the same files
# (and the same bytes as the tarball: the binaries are already stripped by the release
# profile). Every file and directory gets the commit time as mtime.
license=$(sed -n 's/^license = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
homepage=$(sed -n 's/^homepage = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
repository=$(sed -n 's/^repository = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
for field in license homepage repository; do
  [ -n "${!field}" ] || die "no $field in Cargo.toml"
done
# Cargo.toml's description is too long for a package synopsis (80 columns).
maintainer="amhash maintainers <amhash@example.com>"
summary="Salted SHA-512 hashes for the ForgeRock / Ping AM amAdmin special secret store"
extended="amhash makes, checks, encrypts (AM JCE, AM AESWrap, AES-GCM, Google Cloud KMS) and \
installs the {SSHA-512} value that ForgeRock / Ping Access Management reads for amAdmin \
from its special secret store, in one command. amhash-kms (the Cloud KMS client), \
amhash-secrets (keys from Vault, AWS, Google and Azure secrets managers) and \
amhash-strength (the zxcvbn password strength estimate) are its helpers, run from /usr/bin."

tree=$work/root
doc=$tree/usr/share/doc/amhash
for b in "${bins[@]}"; do
  install -D -m 0755 "$bin_dir/$b" "$tree/usr/bin/$b"
done
install -D -m 0644 "$work/amhash.1.gz" "$tree/usr/share/man/man1/amhash.1.gz"
install -D -m 0644 "$work/completions/amhash" "$tree/usr/share/bash-completion/completions/amhash"
install -D -m 0644 "$work/completions/_amhash" "$tree/usr/share/zsh/vendor-completions/_amhash"
install -D -m 0644 "$work/completions/amhash.fish" "$tree/usr/share/fish/vendor_completions.d/amhash.fish"
install -D -m 0644 README.md "$doc/README.md"
install -D -m 0644 SECURITY.md "$doc/SECURITY.md"
# Debian's copyright file: a machine-readable header, then the license text.
{
  printf 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n'
  printf 'Upstream-Name: amhash\nSource: %s\nCopyright: amhash contributors\nLicense: %s\n' \
    "$repository" "$license"
  cat LICENSE
} >"$doc/copyright"
chmod 0644 "$doc/copyright"
find "$tree" -type d -exec chmod 0755 {} +
find "$tree" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
files=$(cd "$tree" && find . -type f | sed 's/^\.//' | LC_ALL=C sort)

# .deb: dpkg-deb with a generated control file; --root-owner-group makes everything
# root:root, and dpkg-deb clamps mtimes to SOURCE_DATE_EPOCH.
log "amhash_${version}_amd64.deb (dpkg-deb)"
debroot=$work/deb
mkdir -p "$debroot"
cp -a "$tree/usr" "$debroot/"
mkdir -m 0755 "$debroot/DEBIAN"
# Installed-Size as dpkg-gencontrol counts it: KiB per file, rounded up, plus 1 per directory.
installed_size=$(cd "$debroot" && find usr -type f -printf '%s\n' | awk '{ s += int(($1 + 1023) / 1024) } END { print s }')
installed_size=$((installed_size + $(cd "$debroot" && find usr -type d | wc -l)))
{
  printf 'Package: amhash\nVersion: %s-1\nArchitecture: amd64\n' "$version"
  printf 'Maintainer: %s\nInstalled-Size: %s\n' "$maintainer" "$installed_size"
  # Built against glibc 2.17 symbols (above); nothing else is linked dynamically.
  printf 'Depends: libc6 (>= 2.17)\nSection: admin\nPriority: optional\nHomepage: %s\n' "$homepage"
  printf 'Description: %s\n' "$summary"
  printf '%s\n' "$extended" | fold -s -w 78 | sed 's/ *$//; s/^/ /'
} >"$debroot/DEBIAN/control"
(cd "$debroot" && find usr -type f | LC_ALL=C sort | xargs md5sum) >"$debroot/DEBIAN/md5sums"
chmod 0644 "$debroot/DEBIAN/control" "$debroot/DEBIAN/md5sums"
find "$debroot" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
dpkg-deb --root-owner-group -Zxz --build "$debroot" "$dist/amhash_${version}_amd64.deb" >/dev/null

# .rpm: rpmbuild (Debian's rpm package) with a generated spec and no build step; the
# files are copied from the staged tree. Requires are written out rather than found by
# the build machine's scripts, the payload is gzip at level 9, and the build time, host
# and every mtime are fixed, so two builds of one commit give the same bytes.
log "amhash-$version-1.x86_64.rpm (rpmbuild)"
top=$work/rpmbuild
mkdir -p "$top"
spec=$top/amhash.spec
{
  cat <<EOF
%define use_source_date_epoch_as_buildtime 1
%define clamp_mtime_to_source_date_epoch 1
%define _buildhost reproducible
%define _binary_payload w9.gzdio
%define _build_id_links none
%define debug_package %{nil}
%define __os_install_post %{nil}
%define __strip /bin/true

Name: amhash
Version: $version
Release: 1
Summary: $summary
License: $license
URL: $homepage
BuildArch: x86_64
AutoReqProv: no
Requires: libc.so.6()(64bit)
Requires: libc.so.6(GLIBC_2.17)(64bit)

%description
$(printf '%s\n' "$extended" | fold -s -w 78 | sed 's/ *$//')

%install
cp -a "$tree/." "%{buildroot}/"

%files
%defattr(-,root,root,-)
EOF
  for f in $files; do
    case "$f" in
      /usr/share/doc/* | /usr/share/man/*) printf '%%doc %s\n' "$f" ;;
      *) printf '%s\n' "$f" ;;
    esac
  done
} >"$spec"
rpmbuild -bb --quiet --define "_topdir $top" --define "_tmppath $top/tmp" \
  --define "_rpmfilename %{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}.rpm" "$spec" >/dev/null
mv "$top/RPMS/amhash-$version-1.x86_64.rpm" "$dist/"

# --- checksums -----------------------------------------------------------------------
(
  cd "$dist"
  sha256sum "$name.tar.gz" "amhash_${version}_amd64.deb" "amhash-$version-1.x86_64.rpm" >SHA256SUMS
)
log "dist.sh took $(($(date +%s) - script_started)) s (installing tools: $((tools_done - script_started)) s)"
log "target/dist:"
(cd "$dist" && ls -l && cat SHA256SUMS) >&2
