#!/usr/bin/env bash
# Installs what the test suite needs beyond the .NET 10 SDK and NuGet:
# espeak-ng (the spoken-digits generator's speech synthesiser; its test fails loudly without it).
# Debian/Ubuntu; uses sudo when not root. Does nothing when espeak-ng is already there.
set -euo pipefail
if command -v espeak-ng >/dev/null; then exit 0; fi
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq espeak-ng
