#!/usr/bin/env bash
# Set up hdh-wizard in ./.venv on a fresh Debian (Python 3.11): the system packages it needs,
# then the Python packages at the versions the project is tested with (constraints.txt).
# Usage: scripts/setup.sh [--dev]   (--dev adds the test tools, tmux and the linters)
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
[ "${1:-}" = "--dev" ] && dev=1

missing=()
# Debian ships venv and pip apart from Python itself.
python3 -c "import ensurepip, venv" 2>/dev/null || missing+=(python3-venv)
if [ "$dev" = 1 ]; then
    command -v tmux >/dev/null || missing+=(tmux)
    # The keyring tests run the real Secret Service: gnome-keyring inside dbus-run-session.
    command -v gnome-keyring-daemon >/dev/null || missing+=(gnome-keyring)
    command -v dbus-run-session >/dev/null || missing+=(dbus)
    # The release dossier is checked as a browser opens it: headless Chromium.
    command -v chromium >/dev/null || missing+=(chromium)
fi
if [ "${#missing[@]}" -gt 0 ] && command -v apt-get >/dev/null; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "Installing system packages: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
extra=""
[ "$dev" = 1 ] && extra="[dev]"
.venv/bin/python -m pip install -q -c constraints.txt -e ".${extra}"

if [ "$dev" = 1 ]; then
    # pycanon, the independent k-anonymity / l-diversity the tests check the measures against,
    # pins its own numpy: it gets a virtual environment of its own, called by the tests.
    [ -x .venv-pycanon/bin/python ] || python3 -m venv .venv-pycanon
    .venv-pycanon/bin/python -m pip install -q --upgrade pip
    .venv-pycanon/bin/python -m pip install -q "pycanon==${PYCANON_VERSION:-1.3.6}"

    # The real data.gouv.fr backend for the integration tests (tests/udata_local), with its
    # in-memory database. udata pins Flask, mongoengine and celery: its own virtual environment.
    [ -x .udata-venv/bin/python ] || python3 -m venv .udata-venv
    .udata-venv/bin/python -m pip install -q --upgrade pip
    .udata-venv/bin/python -m pip install -q "udata==17.18.0" "mongomock==4.3.0"
fi
