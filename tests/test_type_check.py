"""The package passes its type check (configured in pyproject.toml)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_mypy_passes_on_the_package():
    pytest.importorskip("mypy")
    done = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


def test_pre_commit_hooks_run_ruff_and_mypy():
    config = (ROOT / ".pre-commit-config.yaml").read_text()
    for hook in ("ruff check", "ruff format", "mypy"):
        assert f"entry: {hook}" in config
