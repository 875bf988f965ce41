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


def test_every_package_folder_is_in_the_wheel():
    """A subpackage missing from pyproject's list imports in an editable checkout but not from the wheel."""
    import tomllib

    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(setuptools["packages"])
    folder_of = {name: REPO / folder for name, folder in setuptools["package-dir"].items()}
    on_disk = set()
    for name, root in folder_of.items():
        for init in root.rglob("__init__.py"):
            parts = init.parent.relative_to(root).parts
            on_disk.add(".".join((name, *parts)))
    assert on_disk - listed == set(), "package folders missing from pyproject [tool.setuptools] packages"
