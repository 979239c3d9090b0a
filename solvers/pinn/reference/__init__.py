"""Reference solutions for PINN benchmarks, computed on the host in float64 numpy.

- Burgers (``u_t + u u_x = nu u_xx``): the exact Cole-Hopf solution by Gauss-Hermite quadrature,
  :func:`burgers_cole_hopf`, and the standard 256 x 100 grid, :func:`burgers_reference`.
- Stiff periodic problems by Fourier ETDRK4 (:func:`etdrk4`): Allen-Cahn (:func:`allen_cahn`),
  Korteweg-de Vries (:func:`kdv`) and nonlinear Schrodinger (:func:`nls`).
- Closed forms: forced diffusion, standing waves, manufactured Poisson pairs and the NLS
  two-soliton breather.

Every grid function returns ``(x, t, u)`` with ``u`` indexed ``[t, x]``.
"""

from ._analytic import (
    Manufactured,
    diffusion_exact,
    diffusion_source,
    nls_two_soliton,
    poisson_manufactured,
    poisson_sine,
    wave_exact,
)
from ._burgers import burgers_cole_hopf, burgers_reference
from ._etdrk4 import ETDRK4Coefficients, etdrk4, etdrk4_coefficients, fourier_wavenumbers
from ._spectral_benchmarks import allen_cahn, kdv, nls

__all__ = [
    "burgers_cole_hopf",
    "burgers_reference",
    "ETDRK4Coefficients",
    "etdrk4_coefficients",
    "fourier_wavenumbers",
    "etdrk4",
    "allen_cahn",
    "kdv",
    "nls",
    "diffusion_exact",
    "diffusion_source",
    "wave_exact",
    "Manufactured",
    "poisson_sine",
    "poisson_manufactured",
    "nls_two_soliton",
]
