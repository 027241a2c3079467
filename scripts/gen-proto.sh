#!/usr/bin/env bash
# Regenerates api/gen/ (protobuf-es TypeScript) from proto/ with the locally installed buf and protoc-gen-es.
set -euo pipefail
cd "$(dirname "$0")/.."
npx --no-install buf generate
