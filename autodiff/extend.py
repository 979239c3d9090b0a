"""fieldgrad.autodiff.extend: the supported way to add primitives and derivative rules.

* :class:`Primitive` and :class:`ShapedArray`: define an operation (eager implementation and
  abstract evaluation) and bind it with ``prim.bind(*args, **params)``.
* :func:`register` / :func:`register_nondiff`: give a primitive its rules, side by side:
  ``jvp(primals, tangents, **params) -> (out, tangent_out)``, ``vjp(g, ans, *primals,
  **params) -> tuple of cotangents``, ``jet`` (Taylor mode) and ``batch`` (vmap). Write the
  rules with public fieldgrad ops so they are differentiable again.
* :class:`custom_jvp` / :class:`custom_vjp`: custom derivatives of a Python function.
* :func:`kernel_primitive`: a user's ``@ti.kernel`` as a differentiable function.

Example:
    >>> import fieldgrad as fg
    >>> from fieldgrad.autodiff import extend
    >>> double_p = extend.Primitive(
    ...     "example_double", lambda x: x * 2.0, lambda x: extend.ShapedArray(x.shape, x.dtype)
    ... )
    >>> extend.register(
    ...     double_p,
    ...     jvp=lambda p, t: (double_p.bind(p[0]), 2.0 * t[0]),
    ...     vjp=lambda g, ans, x: (2.0 * g,),
    ... )
    >>> float(fg.grad(lambda x: double_p.bind(x))(fg.tensor(1.0)))
    2.0
"""

from fieldgrad.fields import Primitive, ShapedArray

from ._custom import custom_jvp, custom_vjp
from ._kernel import KernelFunction, kernel_primitive
from ._rules import register, register_nondiff

__all__ = [
    "Primitive",
    "ShapedArray",
    "register",
    "register_nondiff",
    "custom_jvp",
    "custom_vjp",
    "kernel_primitive",
    "KernelFunction",
]
