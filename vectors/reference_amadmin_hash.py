#!/usr/bin/env python3
# amhash-note: Verbatim copy of the reference script in the AM documentation ("Store the
# amhash-note: amAdmin password in a secret store", step 1): seed 001_c557688186a2dd87.txt, lines 115-147,
# amhash-note: with the documentation's 4-space indent removed. Only these "# amhash-note:"
# amhash-note: lines were added; tests/reference.rs checks that the rest is unchanged.
import getpass
import os
import sys
import struct
import hashlib
import base64

if os.isatty(0):
   pwd = getpass.getpass()
   cnf = getpass.getpass('Confirm: ')
else:
   pwd = sys.stdin.buffer.readline().decode('utf-8').strip()
   cnf = pwd

if pwd != cnf:
   sys.exit("Password and confirmation don't match")

## Create some random bytes as the salt
salt = os.urandom(20)

## Hash the salt and the new password with a SHA-512 function
h = hashlib.sha512()
h.update(salt)
h.update(pwd.encode('utf-8'))
hash = h.digest()

## Concatenate the salt length as a single byte, the raw salt, and the hashed password
packed = struct.pack("B20s64s", 20, salt, hash)

## Generate the final hashed string
outform = "{SSHA-512}" + base64.b64encode(packed).decode('ascii')
print(outform)
