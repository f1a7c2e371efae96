#!/usr/bin/env bash
# Set up (first run only) and run the test suite.
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh" "dev"
exec .venv/bin/python -m pytest "$@"
