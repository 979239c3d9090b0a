"""Derivative rules of every primitive, one file per family.

Every module of this package is imported here, so adding a family file registers its rules.
"""

import importlib
import pkgutil

for _mod in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    importlib.import_module(f"{__name__}.{_mod}")
