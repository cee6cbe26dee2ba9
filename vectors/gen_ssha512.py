#!/usr/bin/env python3
"""Generate the {SSHA-512} known-answer vectors with the AM documentation's own code.

    python3 vectors/gen_ssha512.py [--out-dir DIR]      (default: the directory of this file)

writes, deterministically (fixed seeds, no clock, no os.urandom):

  ssha512-reference.json  expect "ok": password as fed on stdin -> value, computed by the
                          reference script's own lines (below), for a given salt
  ssha512-malformed.json  expect "error" (the parser's error kind) and "no-match" vectors

Standard library only. Re-running reproduces both files byte for byte; tests/vectors.rs checks
that by running this script into a temporary directory and comparing.

Where the bytes come from: the password goes through the reference script's input line

    pwd = sys.stdin.buffer.readline().decode('utf-8').strip()

applied to the raw stdin bytes of the vector (stdin_hex), so whitespace, line and UTF-8
handling are exactly the reference's. The hashing lines are copied verbatim from the script
(seed 001, "Store the amAdmin password in a secret store", step 1); the only change is that
`salt = os.urandom(20)` becomes an injected salt, and for salt lengths other than 20 the
pack format is the general `struct.pack("B%ds64s" % len(salt), len(salt), salt, hash)`, which
is what "B20s64s" with 20 spelled out means. As a self-check, every 20-byte-salt vector is
also produced by running the vendored script vectors/reference_amadmin_hash.py itself (with
os.urandom and stdin substituted) and the two must agree.
"""

import argparse
import base64
import hashlib
import io
import json
import os
import random
import runpy
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "reference_amadmin_hash.py")
GEN = "vectors/gen_ssha512.py"


def reference_hash(stdin_bytes, salt):
    """The reference script's lines, with stdin and the salt injected. Returns (pwd, outform)."""
    saved = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin_bytes))
    try:
        # --- verbatim from the reference script (non-terminal branch) ---
        pwd = sys.stdin.buffer.readline().decode('utf-8').strip()
        # --- end verbatim ---
    finally:
        sys.stdin = saved

    # --- verbatim from the reference script ---
    ## Hash the salt and the new password with a SHA-512 function
    h = hashlib.sha512()
    h.update(salt)
    h.update(pwd.encode('utf-8'))
    hash = h.digest()

    ## Concatenate the salt length as a single byte, the raw salt, and the hashed password
    if len(salt) == 20:
        packed = struct.pack("B20s64s", 20, salt, hash)
    else:
        # Not in the script: the same layout for another salt length (see the module doc).
        packed = struct.pack("B%ds64s" % len(salt), len(salt), salt, hash)

    ## Generate the final hashed string
    outform = "{SSHA-512}" + base64.b64encode(packed).decode('ascii')
    # --- end verbatim ---
    return pwd, outform


def run_vendored_script(stdin_bytes, salt):
    """Runs vectors/reference_amadmin_hash.py in-process with os.urandom and stdin replaced."""
    assert len(salt) == 20
    saved = (os.urandom, os.isatty, sys.stdin, sys.stdout)

    def fixed_urandom(n):
        assert n == 20, n
        return salt

    os.urandom = fixed_urandom
    os.isatty = lambda fd: False  # the script's non-terminal branch, whatever runs us
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin_bytes))
    sys.stdout = io.StringIO()
    try:
        runpy.run_path(SCRIPT, run_name="__main__")
        return sys.stdout.getvalue()
    finally:
        os.urandom, os.isatty, sys.stdin, sys.stdout = saved


def ok_vectors():
    rng = random.Random(0x55A512)

    def salt_of(n):
        return bytes(rng.getrandbits(8) for _ in range(n))

    cases = []  # (name, stdin bytes, salt)

    def add(name, stdin, salt_len=20, salt=None):
        if isinstance(stdin, str):
            stdin = stdin.encode("utf-8")
        cases.append((name, stdin, salt if salt is not None else salt_of(salt_len)))

    # ASCII
    add("ascii-simple", "Passw0rd!\n")
    add("ascii-forgerock", "forgerock\n")
    add("ascii-single-char", "x\n")
    add("ascii-inner-spaces", "correct horse battery staple\n")
    add("ascii-printable-all", "".join(chr(c) for c in range(0x21, 0x7F)) + "\n")
    add("ascii-no-newline", "no-newline-at-eof")
    add("ascii-shell-metachars", "$(rm -rf /);`id`|&>'\"\\\n")
    # Non-ASCII
    add("latin-accents", "pässwörd-éàçñ\n")
    add("nfc-vs-nfd-nfc", "caf\u00e9\n")
    add("nfc-vs-nfd-nfd", "cafe\u0301\n")
    add("combining-marks-trailing", "abc\u0301\u0308\n")
    add("combining-marks-stacked", "Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\n")
    add("cjk", "密码パスワード비밀번호\n")
    add("cyrillic-greek", "пароль-κωδικός\n")
    add("rtl-arabic-hebrew", "كلمة-סיסמה\n")
    add("emoji", "🔑🦀🎉\n")
    add("emoji-zwj-sequence", "👩\u200d👩\u200d👧\u200d👦 family\n")
    add("astral-math", "𝔭𝔞𝔰𝔰𝔴𝔬𝔯𝔡\n")
    # Whitespace the reference strips (Python str.strip()) arriving on stdin
    add("ws-space", "  secret  \n")
    add("ws-tab", "\tsecret\t\n")
    add("ws-crlf", "secret\r\n")
    add("ws-cr-only-no-newline", "\rsecret\r")
    add("ws-vt", "\x0bsecret\x0b\n")
    add("ws-ff", "\x0csecret\x0c\n")
    add("ws-nbsp-u00a0", "\u00a0secret\u00a0\n")
    add("ws-ideographic-u3000", "\u3000secret\u3000\n")
    add("ws-line-separator-u2028", "\u2028secret\u2029\n")
    add("ws-nel-u0085", "\u0085secret\u0085\n")
    add("ws-en-quad-to-hair-u2000-u200a", "".join(chr(c) for c in range(0x2000, 0x200B)) + "secret\u202f\u205f\n")
    # U+001C..U+001F: whitespace to Python (bidi class B/S), not to Rust's str::trim.
    add("ws-fs-u001c", "\x1csecret\x1c\n")
    add("ws-gs-u001d", "\x1dsecret\x1d\n")
    add("ws-rs-u001e", "\x1esecret\x1e\n")
    add("ws-us-u001f", "\x1fsecret\x1f\n")
    add("ws-all-kinds-mixed", " \t\x0b\x0c\r\x1c\x1d\x1e\x1f\u00a0\u3000\u2028 mixed \u2029\u0085\x1f\r\n")
    # Characters Python does NOT strip: they stay in the hashed password.
    add("not-ws-zwsp-u200b", "\u200bsecret\u200b\n")
    add("not-ws-bom-ufeff", "\ufeffsecret\ufeff\n")
    add("not-ws-mongolian-vs-u180e", "\u180esecret\u180e\n")
    add("not-ws-word-joiner-u2060", "\u2060secret\u2060\n")
    add("inner-ws-kept", "pass word\twith\u00a0inner\x1cseparators\n")
    # Only the first line counts
    add("second-line-ignored", "first\nsecond\n")
    add("second-line-invalid-utf8-ignored", b"first\n\xff\xfe\x00garbage\n")
    add("cr-inside-first-line-kept", "first\rstill-first\n")
    add("empty-second-line", "pw\n\n")
    # SHA-512 block boundary: salt + password = 111, 112, 127, 128, 129 bytes (and two blocks)
    for salt_len in (20, 1, 64):
        for total in (111, 112, 127, 128, 129):
            add("block-salt%d-total%d" % (salt_len, total), "b" * (total - salt_len) + "\n", salt_len)
    for total in (239, 240, 255, 256, 257):
        add("block-salt20-total%d" % total, "c" * (total - 20) + "\n")
    add("block-salt20-total128-multibyte", "é" * 54 + "\n")  # 108 bytes of UTF-8
    add("block-salt20-total112-astral", "😀" * 23 + "\n")  # 92 bytes of UTF-8
    # Long passwords
    add("long-1000-ascii", "".join(chr(0x21 + rng.randrange(94)) for _ in range(1000)) + "\n")
    add("long-1024-ascii", "L" * 1024 + "\n")
    add("long-4096-mixed-unicode", ("aé€😀" * 410) + "\n")  # 4100 bytes
    add("long-10000-ascii", "".join(chr(0x21 + rng.randrange(94)) for _ in range(10000)) + "\n")
    add("long-10000-bytes-unicode", "€" * 3333 + "x\n")  # 10000 bytes
    # Salt lengths
    for n in (1, 2, 19, 21, 32, 64, 128, 254, 255):
        add("salt-len-%d" % n, "salt length test\n", n)
    add("salt-all-zero-20", "zero salt\n", salt=bytes(20))
    add("salt-all-ff-20", "ff salt\n", salt=b"\xff" * 20)
    add("salt-all-zero-1", "zero salt\n", salt=bytes(1))
    add("salt-all-ff-255", "ff salt\n", salt=b"\xff" * 255)

    vectors = []
    names = set()
    for name, stdin, salt in cases:
        assert name not in names, name
        names.add(name)
        pwd, value = reference_hash(stdin, salt)
        assert pwd, "%s: the reference would hash an empty password; amhash refuses it" % name
        if len(salt) == 20:
            direct = run_vendored_script(stdin, salt)
            assert direct == value + "\n", (name, direct, value)
        vectors.append({
            "name": name,
            "source": "%s: the AM documentation's reference script lines (seed 001), "
                      "salt %d bytes from random.Random(0x55A512)%s" % (
                          GEN, len(salt),
                          "; also the vendored script itself, os.urandom replaced" if len(salt) == 20 else
                          "; general pack format B%ds64s" % len(salt)),
            "expect": "ok",
            "stdin_hex": stdin.hex(),
            "password_hex": pwd.encode("utf-8").hex(),
            "salt_hex": salt.hex(),
            "value": value,
        })
    return vectors


def b64_value(raw):
    return "{SSHA-512}" + base64.b64encode(raw).decode("ascii")


def malformed_vectors():
    # The AM vector (password forgerock, 20 zero bytes of salt) is the base of most cases.
    _, good = reference_hash(b"forgerock\n", bytes(20))
    body = good[len("{SSHA-512}"):]
    raw = base64.b64decode(body)
    assert len(raw) == 85 and body.endswith("dg==")
    src = "%s: constructed from the AM vector {SSHA-512}FAAA...dg== (forgerock, zero salt)" % GEN
    src_other = "%s: constructed from the reference algorithm with another salt length" % GEN

    def salted(n, pw=b"x\n"):
        return base64.b64decode(reference_hash(pw, bytes(range(1, n + 1)))[1][len("{SSHA-512}"):])

    cases = [
        # name, value, kind, source
        ("empty", "", "empty", src),
        # Missing or different prefix
        ("prefix-missing", body, "prefix", src),
        ("prefix-no-braces", "SSHA-512" + body, "prefix", src),
        ("prefix-no-closing-brace", "{SSHA-512" + body, "prefix", src),
        ("prefix-unknown-scheme", "{MD5}" + body, "prefix", src),
        ("prefix-leading-junk", "x" + good, "prefix", src),
        ("scheme-ldap-ssha512", "{SSHA512}" + body, "other-scheme", src),
        ("scheme-ldap-ssha512-lower", "{ssha512}" + body, "other-scheme", src),
        ("scheme-ssha-sha1", "{SSHA}" + body, "other-scheme", src),
        ("scheme-sha512-unsalted", "{SHA512}" + body, "other-scheme", src),
        ("scheme-sha1-unsalted", "{SHA}" + body, "other-scheme", src),
        ("scheme-ssha256", "{SSHA256}" + body, "other-scheme", src),
        ("scheme-crypt", "{CRYPT}$6$salt$hash", "other-scheme", src),
        ("scheme-pbkdf2", "{PBKDF2-HMAC-SHA256}10000:" + body, "other-scheme", src),
        ("scheme-lower-case-prefix", "{ssha-512}" + body, "other-scheme", src),
        ("scheme-mixed-case-prefix", "{Ssha-512}" + body, "other-scheme", src),
        ("scheme-crypt-sha512-shadow", "$6$rounds=5000$saltsalt$" + body[:86], "other-scheme", src),
        # Invalid base64 characters
        ("base64-url-safe-minus", "{SSHA-512}" + body.replace("+", "-"), "base64", src),
        ("base64-url-safe-underscore", "{SSHA-512}" + body.replace("/", "_"), "base64", src),
        ("base64-star", "{SSHA-512}*" + body[1:], "base64", src),
        ("base64-inner-space", "{SSHA-512}" + body[:40] + " " + body[41:], "base64", src),
        ("base64-inner-newline", "{SSHA-512}" + body[:76] + "\n" + body[76:], "base64", src),
        ("base64-non-ascii", "{SSHA-512}" + body[:40] + "é" + body[42:], "base64", src),
        ("base64-no-data", "{SSHA-512}", "base64", src),
        # Padding
        ("padding-missing", "{SSHA-512}" + body[:-2], "base64", src),
        ("padding-one-of-two", "{SSHA-512}" + body[:-1], "base64", src),
        ("padding-extra", good + "=", "base64", src),
        ("padding-where-none-belongs", b64_value(salted(1)) + "=", "base64", src_other),
        ("non-canonical-last-symbol", "{SSHA-512}" + body[:-4] + "dh==", "base64", src),
        ("non-canonical-last-symbol-2", "{SSHA-512}" + body[:-4] + "dv==", "base64", src),
        ("length-not-multiple-of-4", "{SSHA-512}" + body[:-4] + "d", "base64", src),
        # Text after the padding
        ("trailing-garbage-quad", good + "AAAA", "trailing-garbage", src),
        ("trailing-garbage-char", good + "x", "trailing-garbage", src),
        ("trailing-garbage-second-value", good + good, "trailing-garbage", src),
        ("trailing-garbage-u001c", good + "\x1c", "trailing-garbage", src),
        ("padding-in-the-middle", "{SSHA-512}" + body[:8] + "==" + body[8:], "trailing-garbage", src),
        # Surrounding whitespace
        ("whitespace-leading-space", " " + good, "whitespace", src),
        ("whitespace-trailing-space", good + " ", "whitespace", src),
        ("whitespace-trailing-newline", good + "\n", "whitespace", src),
        ("whitespace-trailing-crlf", good + "\r\n", "whitespace", src),
        ("whitespace-leading-tab", "\t" + good, "whitespace", src),
        ("whitespace-trailing-nbsp", good + "\u00a0", "whitespace", src),
        ("whitespace-only", "   ", "whitespace", src),
        # Decoded length does not match the salt length byte
        ("truncated-salt20-84-bytes", b64_value(raw[:84]), "truncated", src),
        ("truncated-salt20-21-bytes", b64_value(raw[:21]), "truncated", src),
        ("truncated-salt20-len-byte-only", b64_value(raw[:1]), "truncated", src),
        ("trailing-data-salt20-86-bytes", b64_value(raw + b"\x00"), "trailing-data", src),
        ("trailing-data-salt20-88-bytes", b64_value(raw + b"\x01\x02\x03"), "trailing-data", src),
        ("truncated-salt1-65-bytes", b64_value(salted(1)[:65]), "truncated", src_other),
        ("trailing-data-salt1-67-bytes", b64_value(salted(1) + b"\x00"), "trailing-data", src_other),
        ("trailing-data-salt22-no-padding", b64_value(salted(22)) + "AAAA", "trailing-data", src_other),
        ("truncated-salt255-319-bytes", b64_value(salted(255)[:319]), "truncated", src_other),
        ("trailing-data-salt255-321-bytes", b64_value(salted(255) + b"\xff"), "trailing-data", src_other),
        ("salt-len-19-with-20-byte-salt", b64_value(b"\x13" + raw[1:]), "trailing-data", src),
        ("salt-len-21-with-20-byte-salt", b64_value(b"\x15" + raw[1:]), "truncated", src),
        ("salt-len-255-with-85-bytes", b64_value(b"\xff" + raw[1:]), "truncated", src),
        ("salt-len-255-alone", b64_value(b"\xff"), "truncated", src),
        # Salt length byte 0
        ("zero-salt-length-85-bytes", b64_value(b"\x00" + raw[1:]), "zero-salt-length", src),
        ("zero-salt-length-65-bytes", b64_value(b"\x00" + raw[21:]), "zero-salt-length", src),
        ("zero-salt-length-alone", b64_value(b"\x00"), "zero-salt-length", src),
    ]
    vectors = []
    names = set()
    for name, value, kind, source in cases:
        assert name not in names, name
        names.add(name)
        vectors.append({"name": name, "source": source, "expect": "error", "error": kind, "value": value})

    # Valid values, wrong password: must verify false (exit 1), not be an error.
    wrong = [
        ("no-match-case", b"forgerock\n", b"Forgerock\n"),
        ("no-match-trailing-char", b"forgerock\n", b"forgerock1\n"),
        ("no-match-zwsp-not-stripped", b"forgerock\n", "forgerock\u200b\n".encode("utf-8")),
        ("no-match-nfd-vs-nfc", "caf\u00e9\n".encode("utf-8"), "cafe\u0301\n".encode("utf-8")),
    ]
    rng = random.Random(0xBAD)
    for name, right, attempt in wrong:
        salt = bytes(20) if right == b"forgerock\n" else bytes(rng.getrandbits(8) for _ in range(20))
        _, value = reference_hash(right, salt)
        pwd, _ = reference_hash(attempt, salt)
        vectors.append({
            "name": name,
            "source": "%s: value from the reference algorithm for %r, verified with another password"
                      % (GEN, right.decode("utf-8").strip()),
            "expect": "no-match",
            "stdin_hex": attempt.hex(),
            "password_hex": pwd.encode("utf-8").hex(),
            "value": value,
        })
    return vectors


def write(path, topic, description, vectors):
    doc = {
        "format": "amhash-vectors/1",
        "topic": topic,
        "description": description,
        "vectors": vectors,
    }
    with open(path, "w", encoding="ascii", newline="\n") as f:
        f.write(json.dumps(doc, indent=2, ensure_ascii=True))
        f.write("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", default=HERE)
    args = parser.parse_args()
    write(os.path.join(args.out_dir, "ssha512-reference.json"), "ssha512",
          "{SSHA-512} values computed by the AM documentation's reference script for a given salt: "
          "stdin_hex is fed to the script's stdin, password_hex is what it hashes after strip()",
          ok_vectors())
    write(os.path.join(args.out_dir, "ssha512-malformed.json"), "ssha512",
          "Malformed {SSHA-512} values with the parser's error kind, and valid values checked "
          "against a wrong password (no-match)",
          malformed_vectors())


if __name__ == "__main__":
    main()
