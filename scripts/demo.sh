#!/usr/bin/env bash
# The main job, run by `make demo`. Until the server lands, it prints the
# version; later issues grow it into ingest + ask.
set -euo pipefail
RAGKV=${1:-build/release/ragkv}
"$RAGKV" --version
