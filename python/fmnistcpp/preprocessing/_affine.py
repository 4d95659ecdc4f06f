"""Keras's legacy affine image transform (rotation, shift, shear, zoom about
the image centre), for a batch of images at once.

Keras (keras/src/legacy/preprocessing/image.py, apply_affine_transform)
calls `scipy.ndimage.affine_transform` once per image and channel. Here
every image and channel of a batch is one slice of a 3-D stack, and one
`scipy.ndimage.map_coordinates` call samples all of them: the coordinates
along the stack axis are whole numbers, where linear (order 1) and nearest
(order 0) interpolation take that slice alone with weight 1, so each slice
gets exactly the pixels affine_transform gives it (the source coordinates
are computed in the same order of operations as SciPy's C loop). Higher
orders prefilter and interpolate across slices, so they go image by image
as in Keras."""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def transform_matrix(theta=0, tx=0, ty=0, shear=0, zx=1, zy=1, h=0, w=0):
    """Keras's 3x3 matrix (output -> input coordinates, about the centre),
    or None for the identity. Same products in the same order as Keras."""
    m = None

    def then(a, b):
        return b if a is None else np.dot(a, b)

    if theta != 0:
        t = np.deg2rad(theta)
        m = np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])
    if tx != 0 or ty != 0:
        m = then(m, np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]]))
    if shear != 0:
        s = np.deg2rad(shear)
        m = then(m, np.array([[1, -np.sin(s), 0], [0, np.cos(s), 0], [0, 0, 1]]))
    if zx != 1 or zy != 1:
        m = then(m, np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]]))
    if m is None:
        return None
    o_x, o_y = float(h) / 2 - 0.5, float(w) / 2 - 0.5
    offset = np.array([[1, 0, o_x], [0, 1, o_y], [0, 0, 1]])
    reset = np.array([[1, 0, -o_x], [0, 1, -o_y], [0, 0, 1]])
    return np.dot(np.dot(offset, m), reset)


def affine_batch(x, matrices, row_axis, col_axis, channel_axis, fill_mode="nearest", cval=0.0,
                 order=1):
    """x: (N, *image) with the image's row/col/channel axes (0..2);
    matrices: per image a 3x3 matrix or None (left as it is). Returns x
    with the transformed images (a new array; the dtype is kept)."""
    todo = [i for i, m in enumerate(matrices) if m is not None]
    if not todo:
        return x
    out = x.copy()
    # (K, C, a, b): channel first, the other two axes in their order.
    imgs = np.moveaxis(x[todo], channel_axis + 1, 1)
    k, c, a, b = imgs.shape
    lin, off = [], []
    for i in todo:
        m = matrices[i].copy()
        if col_axis > row_axis:  # matrices are in (x, y); arrays index (row, col)
            m[:, [0, 1]] = m[:, [1, 0]]
            m[[0, 1]] = m[[1, 0]]
        lin.append(m[:2, :2])
        off.append(m[:2, 2])
    lin, off = np.array(lin), np.array(off)
    if order in (0, 1):
        ga, gb = np.meshgrid(np.arange(a, dtype=np.float64), np.arange(b, dtype=np.float64),
                             indexing="ij")
        coords = np.empty((3, k, c, a, b))
        coords[0] = np.arange(k * c, dtype=np.float64).reshape(k, c, 1, 1)
        for d in (0, 1):  # SciPy: cc = 0; cc += m[d,0]*i; cc += m[d,1]*j; cc += shift[d]
            coords[d + 1] = ((lin[:, d, 0, None, None] * ga + lin[:, d, 1, None, None] * gb)
                             + off[:, d, None, None])[:, None]
        stack = imgs.reshape(k * c, a, b)
        done = ndimage.map_coordinates(stack, coords.reshape(3, k * c, a, b), order=order,
                                       mode=fill_mode, cval=cval)
        done = done.reshape(k, c, a, b)
    else:
        done = np.stack([np.stack([ndimage.affine_transform(ch, lin[j], off[j], order=order,
                                                            mode=fill_mode, cval=cval)
                                   for ch in img]) for j, img in enumerate(imgs)])
    out[todo] = np.moveaxis(done, 1, channel_axis + 1)
    return out
