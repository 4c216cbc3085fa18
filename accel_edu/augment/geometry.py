"""Building theta, the (N, 2, 3) affine maps that ``affine_warp`` takes, from plain words:
a rotation, a zoom, a shift and a shear.

The kernel wants the INVERSE map: for each output pixel, the source point to read (see
``numpy_kernels`` for the coordinates: pixels, from the image centre, u right, v down).
Describing what happens to the content is easier, so we write the forward map and invert it:

    content point p  ->  A p + t,      A = R(rotation) @ scale @ Shear(shear)
    so output point q reads source     M (q - t),   M = A^-1 = Shear^-1 @ R^-1 / scale

    R^-1 = [[cos a, -sin a],           Shear^-1 = [[1, -tan s],
            [sin a,  cos a]]                       [0,  1    ]]

With v pointing down, R turns content counterclockwise as it is displayed, so rotation=90
is ``np.rot90``. Scale > 1 zooms in (content grows). tx > 0 moves content right, ty > 0
down. Shear slants vertical lines: rows below the centre shift right for shear > 0.
"""
from __future__ import annotations

import numpy as np


def affine_theta(rotation=0.0, scale=1.0, tx=0.0, ty=0.0, shear=0.0, dtype=np.float32):
    """The maps ``affine_warp`` needs for the given content transforms.

    rotation, shear: degrees;  scale: zoom factor > 0;  tx, ty: shifts in pixels.
    Each is a number or an (N,) array; they broadcast together.
    ->  theta: (N, 2, 3) in ``dtype`` (N = 1 when all are numbers)

    >>> affine_theta(rotation=90).round(6)[0]
    array([[ 0., -1.,  0.],
           [ 1.,  0.,  0.]], dtype=float32)
    """
    a, s, tx, ty, k = np.broadcast_arrays(*[np.atleast_1d(np.asarray(p, dtype=np.float64))
                                            for p in (rotation, scale, tx, ty, shear)])
    if np.any(s <= 0):
        raise ValueError(f"scale must be > 0 (a zoom factor); got {s[s <= 0][0]!r}")
    if a.ndim != 1:
        raise ValueError(f"rotation, scale, tx, ty and shear must be numbers or (N,) arrays; "
                         f"they broadcast to shape {a.shape}")
    cos, sin, tan = np.cos(np.radians(a)), np.sin(np.radians(a)), np.tan(np.radians(k))
    theta = np.empty((a.shape[0], 2, 3))
    # M = Shear^-1 @ R^-1 / scale, written out
    theta[:, 0, 0] = (cos - tan * sin) / s
    theta[:, 0, 1] = (-sin - tan * cos) / s
    theta[:, 1, 0] = sin / s
    theta[:, 1, 1] = cos / s
    # the offset: M (q - t) = M q - M t
    theta[:, 0, 2] = -(theta[:, 0, 0] * tx + theta[:, 0, 1] * ty)
    theta[:, 1, 2] = -(theta[:, 1, 0] * tx + theta[:, 1, 1] * ty)
    return (theta + 0.0).astype(dtype)  # + 0.0 turns -0.0 into 0.0, which prints more tidily
