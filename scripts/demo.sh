#!/usr/bin/env bash
# Set up hdh-wizard and open it on a demo project of synthetic data (./hdh-wizard-demo).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/hdh-wizard demo "$@"
