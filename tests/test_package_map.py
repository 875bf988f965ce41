"""The package map: exactly converters/runtimes/apps become edgedet subpackages."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)


def test_mapped_subpackages_resolve_to_the_checkout():
    result = _run(
        "import edgedet.converters, edgedet.runtimes.backends, edgedet.apps\n"
        "for m in (edgedet.converters, edgedet.runtimes.backends, edgedet.apps): print(m.__file__)"
    )
    assert result.returncode == 0, result.stderr
    files = [Path(line) for line in result.stdout.split()]
    assert [f.relative_to(REPO).parts[0] for f in files] == ["converters", "runtimes", "apps"]


def test_other_checkout_folders_are_not_subpackages():
    code = (
        "import importlib\n"
        "for name in ('edgedet.tests', 'edgedet.benchmarks', 'edgedet.edgedet', 'edgedet.docs'):\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except ModuleNotFoundError:\n"
        "        continue\n"
        "    print(name)\n"
    )
    result = _run(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
