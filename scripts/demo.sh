#!/usr/bin/env bash
# Set up (first run only) and run the end-to-end demo on generated data.
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh" ""
exec .venv/bin/seqattn demo "$@"
