#!/bin/sh
# Installs what tests/keyring.rs needs, if it is missing (Debian, run as root):
#   keyctl               (keyutils)      runs test steps in fresh session keyrings
#   dbus-run-session     (dbus)          a private session bus for the Secret Service tests
#   gnome-keyring-daemon (gnome-keyring) the Secret Service provider
# No other environment setup: the tests start their own bus and daemon, with HOME set to a
# temporary directory, and clean up the keyutils entries they create.
# Source it or run it from .ci/run before `cargo test`.
set -eu
need=
for tool in keyctl dbus-run-session gnome-keyring-daemon; do
    command -v "$tool" >/dev/null 2>&1 || need=1
done
if [ -n "$need" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends dbus gnome-keyring keyutils
fi
