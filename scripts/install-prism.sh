#!/usr/bin/env bash
# Installs Prism (Stoplight's OpenAPI mock server) into .tools/prism for the Twilio contract test
# (adapters/twilioprovider, TestTwilioAgainstPrism). 5.14.2 is the last release that runs on Node 20;
# later ones require Node 24. Idempotent: does nothing when the binary is already there.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if [ -x .tools/prism/node_modules/.bin/prism ]; then
	echo "prism already installed at .tools/prism/node_modules/.bin/prism"
	exit 0
fi

npm install --prefix .tools/prism @stoplight/prism-cli@5.14.2
