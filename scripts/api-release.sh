#!/usr/bin/env bash
# Records the API as released: a buf image of proto/ at api/releases/v<version>.binpb (version from package.json).
# `buf breaking` in npm test (test/api/proto-contract.test.ts) compares proto/ against the newest such image.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(node -p "require('./package.json').version")
npx --no-install buf build -o "api/releases/v${version}.binpb"
echo "api/releases/v${version}.binpb"
