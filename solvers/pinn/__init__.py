"""fieldgrad.solvers.pinn: physics-informed neural networks.

geometry -> conditions -> problem (geometry, residual, conditions) -> trainer.
"""

__all__: list = []

# --- geometry
from . import geometry  # noqa: E402
from .geometry import (  # noqa: E402
    SAMPLERS,
    Box,
    Difference,
    Disk,
    Ellipse,
    Geometry,
    GeometryXTime,
    Hypercube,
    Hypersphere,
    Intersection,
    Interval,
    Polygon,
    Rectangle,
    Sphere,
    TimeDomain,
    Triangle,
    Union,
    sample,
)

__all__ += [
    "geometry",
    "SAMPLERS",
    "Box",
    "Difference",
    "Disk",
    "Ellipse",
    "Geometry",
    "GeometryXTime",
    "Hypercube",
    "Hypersphere",
    "Intersection",
    "Interval",
    "Polygon",
    "Rectangle",
    "Sphere",
    "TimeDomain",
    "Triangle",
    "Union",
    "sample",
]

# --- reference
from . import reference  # noqa: E402

__all__ += ["reference"]

# --- core
from ._conditions import (  # noqa: E402
    IC,
    Condition,
    DirichletBC,
    NeumannBC,
    OperatorBC,
    PeriodicBC,
    PointSetBC,
    RobinBC,
)
from ._field import (  # noqa: E402
    Field,
    Fields,
    Points,
    Solution,
    divergence,
    gradient,
    laplacian,
    multi_index,
    partial_derivatives,
)
from ._postprocess import plot_loss, plot_solution, predict, relative_l2_error  # noqa: E402
from ._problem import Problem  # noqa: E402
from ._sampling import RAR, worst_points  # noqa: E402
from ._trainer import PINNTrainer  # noqa: E402
from ._weighting import (  # noqa: E402
    AdaptiveWeights,
    CausalWeighting,
    balance_weights,
    causal_loss,
    causal_weights,
    chunk_losses,
)

__all__ += [
    "Points",
    "Field",
    "Fields",
    "Solution",
    "multi_index",
    "gradient",
    "divergence",
    "laplacian",
    "partial_derivatives",
    "Condition",
    "DirichletBC",
    "NeumannBC",
    "RobinBC",
    "PeriodicBC",
    "IC",
    "PointSetBC",
    "OperatorBC",
    "Problem",
    "PINNTrainer",
    "predict",
    "relative_l2_error",
    "plot_solution",
    "plot_loss",
    "RAR",
    "worst_points",
    "AdaptiveWeights",
    "CausalWeighting",
    "balance_weights",
    "chunk_losses",
    "causal_weights",
    "causal_loss",
]
