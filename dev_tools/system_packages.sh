#!/usr/bin/env bash
# Debian packages the slow tests use, installed when absent (needs root or sudo):
#   prometheus       - the real server that scrapes the bot's metrics endpoint
#   chromium, chromium-driver - headless browser for the Centaur panel's test
#   poppler-utils    - pdftoppm, renders the weekly report's PDF pages to PNG
#   postgresql       - initdb/pg_ctl/postgres under /usr/lib/postgresql/<version>/bin: the
#                      tests' own server (tests/support/postgres.py) for the fills log, the
#                      state store and Optuna studies
set -euo pipefail
missing=()
command -v prometheus >/dev/null || missing+=(prometheus)
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v pdftoppm >/dev/null || missing+=(poppler-utils)
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || missing+=(postgresql)
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"; exit 0
fi
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "system packages: installing ${missing[*]}"
$sudo apt-get update -q >/dev/null || true
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
