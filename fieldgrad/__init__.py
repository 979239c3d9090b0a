"""fieldgrad: differentiable physics on Taichi tensor fields.

``import fieldgrad as fg`` gives the public API; nothing is initialised at import time.
"""

from fieldgrad.autodiff import *  # noqa: F401,F403
from fieldgrad.autodiff import __all__ as _autodiff_all
from fieldgrad.fields import *  # noqa: F401,F403
from fieldgrad.fields import __all__ as _fields_all

__version__ = "0.1.0"
__all__ = [*_fields_all, *_autodiff_all, "__version__"]
