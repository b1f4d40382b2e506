#!/usr/bin/env bash
# The main job: set up, then run `rotisserie demo` against the embedded
# vendor simulator. Extra arguments go to the demo (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/rotisserie demo "$@"
