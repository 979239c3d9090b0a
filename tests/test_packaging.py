"""Packaging: every package folder is listed in pyproject.toml, and the wheel holds exactly the
four code packages plus the import root."""

import os
import pathlib
import subprocess
import sys
import zipfile

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    tomllib = None

ROOT = pathlib.Path(__file__).resolve().parent.parent
CODE_DIRS = {
    "fieldgrad": "fieldgrad",
    "fields": "fieldgrad.fields",
    "autodiff": "fieldgrad.autodiff",
    "nn": "fieldgrad.nn",
    "solvers": "fieldgrad.solvers",
}


def _pyproject():
    if tomllib is None:
        pytest.skip("tomllib needs Python 3.11")
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _package_folders():
    """Every folder with an __init__.py under the code folders, as dotted package names."""
    found = set()
    for top, dotted in CODE_DIRS.items():
        for dirpath, _dirs, files in os.walk(ROOT / top):
            if "__init__.py" in files and "__pycache__" not in dirpath:
                rel = pathlib.Path(dirpath).relative_to(ROOT / top)
                found.add(".".join([dotted, *rel.parts]) if rel.parts else dotted)
    return found


def test_every_package_folder_is_listed():
    cfg = _pyproject()["tool"]["setuptools"]
    listed = set(cfg["packages"])
    missing = _package_folders() - listed
    assert not missing, f"package folders missing from pyproject.toml packages: {sorted(missing)}"
    for pkg in listed:
        assert pkg in _package_folders(), f"{pkg} is listed but has no folder with __init__.py"
    for top, dotted in CODE_DIRS.items():
        assert cfg["package-dir"][dotted] == top


def test_metadata():
    proj = _pyproject()["project"]
    assert proj["requires-python"] == ">=3.9,<3.13"
    deps = " ".join(proj["dependencies"])
    for name in ("numpy", "scipy", "taichi", "matplotlib"):
        assert name in deps
    extras = proj["optional-dependencies"]
    assert any("pytest" in d for d in extras["test"])
    assert "torch==2.13.0" in extras["bench"] and "jax" in extras["bench"]


def test_no_top_level_modules_named_like_other_distributions():
    # fields/, autodiff/, nn/, solvers/ must only ever install under fieldgrad.
    cfg = _pyproject()["tool"]["setuptools"]
    for pkg in cfg["packages"]:
        assert pkg == "fieldgrad" or pkg.startswith("fieldgrad.")


def test_wheel_contains_the_packages_and_nothing_else(tmp_path):
    pytest.importorskip("setuptools")
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr
    (wheel,) = tmp_path.glob("fieldgrad-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"fieldgrad", next(t for t in tops if t.endswith(".dist-info"))}, tops
    subpackages = {
        n.split("/")[1] for n in names if n.startswith("fieldgrad/") and n.count("/") > 1
    }
    assert subpackages == {"fields", "autodiff", "nn", "solvers"}
    assert not any(n.startswith(("tests/", "examples/", "bench/", "docs/")) for n in names)
    assert "fieldgrad/fields/_core.py" in names
