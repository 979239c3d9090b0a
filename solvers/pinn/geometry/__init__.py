"""fieldgrad.solvers.pinn.geometry: PINN domains and seeded point samplers (host-side numpy).

Every shape implements one small :class:`Geometry` interface: ``inside``, ``on_boundary``,
``boundary_normal``, ``signed_distance``, ``sample_interior``, ``sample_boundary`` and
``uniform_points`` on float64 point sets of shape ``(n, d)``. Shapes combine with ``|`` (union),
``-`` (difference) and ``&`` (intersection), and ``geom * TimeDomain(t0, t1)`` adds time as
the last coordinate.

Example:
    >>> from fieldgrad.solvers.pinn.geometry import Disk, Rectangle, TimeDomain
    >>> domain = Rectangle([-1.0, -1.0], [1.0, 1.0]) - Disk([0.0, 0.0], 0.5)
    >>> x = domain.sample_interior(64, "sobol", seed=0)
    >>> xb = domain.sample_boundary(32, "sobol", seed=0)
    >>> bool(domain.inside(x).all()), bool(domain.on_boundary(xb).all())
    (True, True)
    >>> (domain * TimeDomain(0.0, 1.0)).sample_initial(5).shape
    (5, 3)
"""

from ._ball import Disk, Hypersphere, Sphere
from ._base import Geometry
from ._box import Box, Hypercube, Rectangle
from ._csg import Difference, Intersection, Union
from ._ellipse import Ellipse
from ._interval import Interval
from ._polygons import Polygon, Triangle
from ._samplers import SAMPLERS, sample
from ._time import GeometryXTime, TimeDomain

__all__ = [
    "Geometry",
    "SAMPLERS",
    "sample",
    "Interval",
    "Box",
    "Hypercube",
    "Rectangle",
    "Polygon",
    "Triangle",
    "Hypersphere",
    "Disk",
    "Sphere",
    "Ellipse",
    "Union",
    "Difference",
    "Intersection",
    "TimeDomain",
    "GeometryXTime",
]
