#!/usr/bin/env bash
# Checks what scripts/dist.sh left in target/dist/; every check says what it checked and
# the script stops at the first failure (exit 1). Run as root on a Debian machine (CI): it
# installs the .deb with dpkg -i, runs it from /usr/bin, then removes it with dpkg -r.
#
# Needs: sha256sum, tar, objdump/readelf (binutils), dpkg, rpm and rpm2cpio, cpio, man
# (man-db), python3 (the expected vector from vectors/, and a stand-in Cloud KMS server on
# 127.0.0.1 that `amhash-kms` reaches by the host name `localhost`).
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd -P)
target_dir=${CARGO_TARGET_DIR:-$root/target}
case "$target_dir" in /*) ;; *) target_dir=$root/$target_dir ;; esac
dist=$target_dir/dist

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
name=amhash-$version-x86_64-linux
tarball=$name.tar.gz
deb=amhash_${version}_amd64.deb
rpm=amhash-$version-1.x86_64.rpm
bins=(amhash amhash-kms amhash-secrets amhash-strength)
max_glibc=2.17

checks=0
ok() {
  checks=$((checks + 1))
  printf 'ok %d - %s\n' "$checks" "$*"
}
fail() {
  printf 'FAILED: %s\n' "$*" >&2
  exit 1
}
for tool in sha256sum tar objdump readelf dpkg dpkg-deb rpm rpm2cpio cpio man python3; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done
[ "$(id -u)" = 0 ] || fail "run as root: the .deb is installed and removed with dpkg"

tmp=$(mktemp -d)
kms_pid=
cleanup() {
  [ -n "$kms_pid" ] && kill "$kms_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

# ForgeRock's published vector: 'forgerock' with a salt of 20 zero bytes (AM's own Java code).
read -r vector_salt vector_value < <(python3 -c '
import json, sys
v = [v for v in json.load(open("vectors/ssha512-am.json"))["vectors"]
     if v["name"] == "am-forgeops-forgerock-zero-salt"][0]
assert bytes.fromhex(v["password_hex"]) == b"forgerock"
print(v["salt_hex"], v["value"])')
[ -n "$vector_value" ] || fail "no forgerock vector in vectors/ssha512-am.json"

# `amhash generate` of the vector, with the amhash at $1.
check_vector() {
  local got
  got=$(printf 'forgerock\n' | "$1" generate --salt-hex "$vector_salt" 2>/dev/null) ||
    fail "$1 generate --salt-hex $vector_salt failed"
  [ "$got" = "$vector_value" ] || fail "$1 generate: got '$got', want '$vector_value'"
  ok "$1 generate --salt-hex $vector_salt <<< forgerock = ForgeRock's published {SSHA-512} vector"
}

# amhash runs amhash-strength from its own directory: `install` refuses a weak password
# with zxcvbn's verdict, which only the helper gives (a missing helper is a different error).
check_strength_helper() {
  local store=$tmp/store out code=0
  rm -rf "$store"
  mkdir -m 0700 "$store"
  out=$(printf 'password1\n' | "$1" install --dir "$store" --dry-run 2>&1) || code=$?
  if [ "$code" != 2 ] || [[ "$out" != *"too weak"* ]]; then
    fail "$1 install with a weak password: want exit 2 'too weak' from amhash-strength, got $code: $out"
  fi
  ok "$1 install --dry-run runs amhash-strength next to it (weak password refused: exit 2)"
}

# A stand-in for Cloud KMS's REST encrypt on 127.0.0.1, reached as http://localhost:PORT:
# amhash runs amhash-kms, which resolves `localhost` through the system's getaddrinfo/NSS.
start_fake_kms() {
  python3 - "$tmp/kms-port" <<'PY' &
import base64, http.server, json, sys

def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF

class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        key = self.path.split("?")[0][len("/v1/"):].rsplit(":", 1)[0]
        plaintext = base64.b64decode(body["plaintext"])
        ciphertext = b"fake-kms:" + plaintext[::-1]
        answer = json.dumps({
            "name": key + "/cryptoKeyVersions/1",
            "ciphertext": base64.b64encode(ciphertext).decode(),
            "ciphertextCrc32c": str(crc32c(ciphertext)),
            "verifiedPlaintextCrc32c": "plaintextCrc32c" in body,
            "protectionLevel": "SOFTWARE",
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
server.serve_forever()
PY
  kms_pid=$!
  for _ in $(seq 50); do
    [ -s "$tmp/kms-port" ] && return 0
    sleep 0.1
  done
  fail "the stand-in KMS server did not start"
}

check_kms_helper() {
  local key=projects/amhash-dist-check/locations/global/keyRings/r/cryptoKeys/k out
  local endpoint
  endpoint=http://localhost:$(cat "$tmp/kms-port")
  out=$(printf 'forgerock\n' | "$1" generate --salt-hex "$vector_salt" --encrypt kms \
    --kms-key "$key" --kms-endpoint "$endpoint" --kms-anonymous 2>"$tmp/kms-stderr") ||
    fail "$1 generate --encrypt kms --kms-endpoint $endpoint failed: $(cat "$tmp/kms-stderr")"
  local want
  want=$(python3 -c 'import base64, sys; print(base64.b64encode(b"fake-kms:" + sys.argv[1].encode()[::-1]).decode())' "$vector_value")
  [ "$out" = "$want" ] || fail "$1 generate --encrypt kms: got '$out', want '$want'"
  ok "$1 runs amhash-kms, which reached a KMS endpoint by host name ($endpoint) and encrypted the vector"
}

# --- files and checksums -------------------------------------------------------------
cd "$dist"
for f in "$tarball" "$deb" "$rpm" SHA256SUMS; do
  [ -s "$f" ] || fail "target/dist/$f is missing or empty"
done
ok "target/dist has $tarball, $deb, $rpm and SHA256SUMS"
[ "$(awk '{print $2}' SHA256SUMS | sort)" = "$(printf '%s\n' "$tarball" "$deb" "$rpm" | sort)" ] ||
  fail "SHA256SUMS does not list exactly the three artefacts: $(cat SHA256SUMS)"
sha256sum -c --strict SHA256SUMS || fail "sha256sum -c SHA256SUMS"
ok "sha256sum -c SHA256SUMS passes, over exactly the three artefacts"

# --- the tarball ---------------------------------------------------------------------
want_tar=$(printf "$name/%s\n" "" amhash amhash-kms amhash-secrets amhash-strength LICENSE README.md SECURITY.md \
  completions/ completions/_amhash completions/amhash.bash completions/amhash.fish \
  man/ man/man1/ man/man1/amhash.1 | sort)
got_tar=$(tar -tzf "$tarball" | sort)
[ "$got_tar" = "$want_tar" ] || fail "tarball contents differ: $(diff <(echo "$want_tar") <(echo "$got_tar") || true)"
ok "the tarball holds the four binaries, the man page, three completions, README, SECURITY, LICENSE"
bad_owner=$(tar -tvzf "$tarball" | awk '$2 != "0/0"') || true
[ -z "$bad_owner" ] || fail "tarball entries not owned by 0/0: $bad_owner"
ok "tarball entries are owned by 0/0"
mkdir "$tmp/tar"
tar -xzf "$tarball" -C "$tmp/tar"
tdir=$tmp/tar/$name

# Each binary needs at most GLIBC_2.17 (or has no dynamic section at all).
for b in "${bins[@]}"; do
  f=$tdir/$b
  [ "$(stat -c %a "$f")" = 755 ] || fail "$b in the tarball is not mode 0755"
  if ! readelf -d "$f" | grep -q 'NEEDED'; then
    ok "$b has no dynamic section (static): no glibc version needed"
    continue
  fi
  versions=$(objdump -T "$f" | grep -o 'GLIBC_[0-9][0-9.]*' | sort -u -V) ||
    fail "objdump -T $b shows no GLIBC_ symbol version"
  newest=$(printf '%s\n' "$versions" | tail -n 1)
  [ "$(printf '%s\n' "${newest#GLIBC_}" "$max_glibc" | sort -V | tail -n 1)" = "$max_glibc" ] ||
    fail "$b needs $newest (> GLIBC_$max_glibc): $(objdump -T "$f" | grep "$newest")"
  # readelf's version needs agree (a symbol version objdump -T might not show).
  rversions=$(readelf -V "$f" | grep -o 'GLIBC_[0-9][0-9.]*' | sort -u -V)
  rnewest=$(printf '%s\n' "$rversions" | tail -n 1)
  [ "$(printf '%s\n' "${rnewest#GLIBC_}" "$max_glibc" | sort -V | tail -n 1)" = "$max_glibc" ] ||
    fail "$b: readelf -V shows $rnewest (> GLIBC_$max_glibc)"
  needed=$(readelf -d "$f" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')
  ok "$b needs at most $newest (objdump -T and readelf -V); NEEDED: $needed"
done
for b in "${bins[@]}"; do
  "$tdir/$b" --version >/dev/null || fail "$b --version from the tarball"
done
ok "the tarball's binaries run (--version)"
check_vector "$tdir/amhash"
check_strength_helper "$tdir/amhash"
start_fake_kms
check_kms_helper "$tdir/amhash"

# --- the .deb ------------------------------------------------------------------------
deb_files=$(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {print substr($6, 2)}' | sort)
want_files=$(printf '%s\n' /usr/bin/amhash /usr/bin/amhash-kms /usr/bin/amhash-secrets /usr/bin/amhash-strength \
  /usr/share/man/man1/amhash.1.gz /usr/share/bash-completion/completions/amhash \
  /usr/share/zsh/vendor-completions/_amhash /usr/share/fish/vendor_completions.d/amhash.fish \
  /usr/share/doc/amhash/README.md /usr/share/doc/amhash/SECURITY.md \
  /usr/share/doc/amhash/copyright | sort)
[ "$deb_files" = "$want_files" ] ||
  fail ".deb files differ from the expected: $(diff <(echo "$want_files") <(echo "$deb_files") || true)"
ok ".deb holds exactly: $(echo "$deb_files" | tr '\n' ' ')"
bad=$(dpkg-deb -c "$deb" | awk '
  $2 != "root/root" && $2 != "0/0" { print "owner " $2 ": " $6; next }
  $1 ~ /^d/ && $1 != "drwxr-xr-x" { print "mode " $1 ": " $6; next }
  $1 ~ /^-/ && $6 ~ /\/usr\/bin\// && $1 != "-rwxr-xr-x" { print "mode " $1 ": " $6; next }
  $1 ~ /^-/ && $6 !~ /\/usr\/bin\// && $1 != "-rw-r--r--" { print "mode " $1 ": " $6 }')
[ -z "$bad" ] || fail ".deb file modes or owners: $bad"
ok ".deb: everything owned by root (0/0), binaries 0755, the rest 0644, directories 0755"
for b in "${bins[@]}"; do
  cmp -s <(dpkg-deb --fsys-tarfile "$deb" | tar -xOf - "./usr/bin/$b") "$tdir/$b" ||
    fail "/usr/bin/$b in the .deb differs from the tarball's"
done
ok ".deb binaries are byte-identical to the tarball's"

dpkg -s amhash >/dev/null 2>&1 && fail "amhash is already installed with dpkg: remove it first (dpkg -r amhash)"
for f in $deb_files; do
  [ ! -e "$f" ] || fail "$f exists before the .deb is installed"
done
dpkg -i "$deb" >/dev/null || fail "dpkg -i $deb"
ok "dpkg -i $deb"
for f in $deb_files; do
  [ -f "$f" ] || fail "$f is not installed"
done
ok "every file of the .deb is in place"
[ "$(command -v amhash)" = /usr/bin/amhash ] || fail "amhash on PATH is $(command -v amhash), not /usr/bin/amhash"
check_vector /usr/bin/amhash
for b in amhash-strength amhash-kms amhash-secrets; do
  "/usr/bin/$b" --version | grep -qx "$b $version" || fail "/usr/bin/$b --version"
  ok "/usr/bin/$b --version says $b $version"
done
check_strength_helper /usr/bin/amhash
check_kms_helper /usr/bin/amhash
page=$(man -w amhash) || fail "man -w amhash finds no page"
[ "$page" = /usr/share/man/man1/amhash.1.gz ] || fail "man -w amhash: $page"
man amhash 2>/dev/null | grep -q 'AMHASH GENERATE' || fail "man amhash does not render the page"
ok "man -w amhash = $page, and man amhash renders it"
bash -c '. /usr/share/bash-completion/completions/amhash && complete -p amhash' >/dev/null ||
  fail "the bash completion does not register amhash"
ok "the installed bash completion loads and registers amhash"
dpkg -r amhash >/dev/null || fail "dpkg -r amhash"
if dpkg -s amhash 2>/dev/null | grep -q '^Status: .* installed'; then
  fail "dpkg -r amhash: still installed: $(dpkg -s amhash | grep '^Status')"
fi
for f in $deb_files; do
  [ ! -e "$f" ] || fail "$f is left after dpkg -r amhash"
done
[ ! -e /usr/share/doc/amhash ] || fail "/usr/share/doc/amhash is left after dpkg -r amhash"
ok "dpkg -r amhash removed every file of the package (and /usr/share/doc/amhash)"

# --- the .rpm ------------------------------------------------------------------------
rpm_files=$(rpm -qlp "$rpm" 2>/dev/null | sort)
[ "$rpm_files" = "$deb_files" ] ||
  fail "rpm -qlp differs from the .deb: $(diff <(echo "$deb_files") <(echo "$rpm_files") || true)"
ok "rpm -qlp lists the same files as the .deb"
bad=$(rpm -qp --qf '[%{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILENAMES}\n]' "$rpm" 2>/dev/null |
  awk '$2 != "root:root" || ($3 ~ /^\/usr\/bin\// && $1 != "-rwxr-xr-x") || ($3 !~ /^\/usr\/bin\// && $1 != "-rw-r--r--")')
[ -z "$bad" ] || fail ".rpm file modes or owners: $bad"
ok ".rpm: everything root:root, binaries 0755, the rest 0644"
rpm -qp --qf '%{NAME} %{VERSION}-%{RELEASE} %{ARCH} license=%{LICENSE} url=%{URL}\n' "$rpm" 2>/dev/null
mkdir "$tmp/rpm"
# rpmbuild's packages carry the payload size, so rpm2cpio's exit status is meaningful.
rpm2cpio "$dist/$rpm" >"$tmp/payload.cpio" || fail "rpm2cpio $rpm exits non-zero"
(cd "$tmp/rpm" && cpio -idm --quiet <"$tmp/payload.cpio") || fail "rpm2cpio $rpm | cpio -idm"
for f in $rpm_files; do
  [ -f "$tmp/rpm$f" ] || fail "$f is not in the cpio archive of the .rpm"
done
ok "rpm2cpio $rpm | cpio -idm extracts every file"
for b in "${bins[@]}"; do
  "$tmp/rpm/usr/bin/$b" --version | grep -qx "$b $version" || fail "$b from the .rpm does not run"
  cmp -s "$tmp/rpm/usr/bin/$b" "$tdir/$b" || fail "$b in the .rpm differs from the tarball's"
done
ok "the .rpm's binaries run (--version) and are byte-identical to the tarball's"
check_vector "$tmp/rpm/usr/bin/amhash"

# rpm itself installs and erases it, in a scratch root (Debian's rpm has no system database).
mkdir "$tmp/rpmroot"
rpm --root "$tmp/rpmroot" --initdb || fail "rpm --initdb"
rpm -i --nodeps --root "$tmp/rpmroot" "$dist/$rpm" 2>/dev/null || fail "rpm -i --root $rpm"
for f in $rpm_files; do
  [ -f "$tmp/rpmroot$f" ] || fail "rpm -i did not install $f"
done
rpm -e --root "$tmp/rpmroot" amhash 2>/dev/null || fail "rpm -e amhash"
left=$(find "$tmp/rpmroot/usr" -type f 2>/dev/null)
[ -z "$left" ] || fail "rpm -e left: $left"
ok "rpm -i installs every file into a scratch root and rpm -e removes them all"

printf '%d passed, 0 failed\n' "$checks"
