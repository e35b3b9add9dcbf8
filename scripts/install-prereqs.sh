#!/usr/bin/env bash
# Installs what the test suite needs beyond the .NET 10 SDK and NuGet, from Debian packages:
#   espeak-ng  the spoken-digits generator's speech synthesiser
#   chromium   the headless browser the serve dashboard test drives (through Playwright)
#   nats-server, redis-server  the cluster's transport and state store (the cluster tests start their own)
#   python3-numpy, python3-h5py  independent readers of the CSV, NumPy and HDF5 exports in the tests
# Debian/Ubuntu; uses sudo when not root. Installs only what is missing.
set -euo pipefail
missing=()
command -v espeak-ng >/dev/null || missing+=(espeak-ng)
command -v chromium >/dev/null || missing+=(chromium)
command -v nats-server >/dev/null || missing+=(nats-server)
command -v redis-server >/dev/null || missing+=(redis-server)
# the tests ask Debian's interpreter first (a pyenv or venv python3 on PATH may lack the Debian packages)
{ /usr/bin/python3 -c 'import numpy, h5py' || python3 -c 'import numpy, h5py'; } >/dev/null 2>&1 || missing+=(python3-numpy python3-h5py)
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
