#!/usr/bin/env bash
# Set up (first run only) and build the HTML documentation into docs/_build/html.
# The gallery examples in examples/ are executed during the build (a few minutes on a
# laptop CPU); warnings are errors. Extra arguments go to sphinx-build
# (e.g. -D plot_gallery=0 to skip running the examples).
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh" "docs"
export MPLBACKEND=Agg
exec .venv/bin/sphinx-build -W --keep-going -b html "$@" docs docs/_build/html
