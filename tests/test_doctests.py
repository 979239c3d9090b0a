"""Every docstring example of the library runs and prints what it shows."""

import doctest
import importlib
import pkgutil

import pytest

import fieldgrad


def _modules():
    """Every module of the installed package, subpackages included."""
    names = ["fieldgrad"]
    for top in ("fields", "autodiff", "nn", "solvers"):
        pkg = importlib.import_module(f"fieldgrad.{top}")
        names.append(pkg.__name__)
        for info in pkgutil.walk_packages(pkg.__path__, f"{pkg.__name__}."):
            names.append(info.name)
    return sorted(set(names))


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    mod = importlib.import_module(name)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"


def test_the_package_has_examples():
    total = sum(
        doctest.testmod(importlib.import_module(n), optionflags=doctest.ELLIPSIS).attempted
        for n in ("fieldgrad.fields._jit", "fieldgrad.autodiff._api")
    )
    assert total >= 5
    assert fieldgrad.__version__
