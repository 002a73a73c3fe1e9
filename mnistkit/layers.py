"""Layers that compute the same function as Flax's, laid out for speed on some backends.

``PatchConv`` is a drop-in ``nnx.Conv`` (same parameters, same names, so the
same checkpoints) that computes a stride-1 "SAME" convolution as one matrix
product over image patches (im2col). On XLA's CPU backend the backward pass of
``lax.conv`` is slow and, inside a ``lax.scan`` body, falls off its fast path,
while matrix products stay fast; on GPUs ``lax.conv`` is the better choice.
Models expose the choice as an option (``conv="xla"`` or ``"patches"``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx


class PatchConv(nnx.Conv):
    """``nnx.Conv`` (stride 1, SAME padding, no dilation or groups) as patches @ kernel.

    Only training gains from the matrix-product form (its backward pass is
    what is slow in ``lax.conv`` on a CPU), so in eval mode (``model.eval()``
    sets ``deterministic``) the forward pass is plain ``nnx.Conv``.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.deterministic = False

    def __call__(self, x: jax.Array) -> jax.Array:
        if self.deterministic:
            return super().__call__(x)
        kernel = self.kernel[...]
        kh, kw, cin, cout = kernel.shape
        top, left = (kh - 1) // 2, (kw - 1) // 2
        padded = jnp.pad(x, ((0, 0), (top, kh - 1 - top), (left, kw - 1 - left), (0, 0)))
        height, width = x.shape[1], x.shape[2]
        # Channels ordered (row, column, input channel), the kernel's own layout.
        patches = jnp.concatenate(
            [padded[:, i : i + height, j : j + width, :] for i in range(kh) for j in range(kw)], axis=-1
        )
        y = patches @ kernel.reshape(kh * kw * cin, cout)
        if self.bias is not None:
            y = y + self.bias[...]
        return y


def conv(kind: str, in_features: int, out_features: int, kernel_size: tuple[int, int], *, rngs: nnx.Rngs, **kwargs) -> nnx.Conv:
    """An ``nnx.Conv`` (``kind="xla"``) or its ``PatchConv`` twin (``kind="patches"``)."""
    if kind not in ("xla", "patches"):
        raise ValueError(f"conv must be 'xla' or 'patches', not {kind!r}")
    cls = PatchConv if kind == "patches" else nnx.Conv
    return cls(in_features, out_features, kernel_size=kernel_size, rngs=rngs, **kwargs)


def max_pool_2x2(x: jax.Array) -> jax.Array:
    """2x2 max pooling with stride 2 for even sizes, as ``nnx.max_pool`` computes it.

    Written as a reshape and a max so that its gradient is a cheap mask: XLA's
    CPU backend handles ``reduce_window``'s backward pass (select-and-scatter)
    slowly.
    """
    b, h, w, c = x.shape
    return x.reshape(b, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


def avg_pool_2x2(x: jax.Array) -> jax.Array:
    """2x2 average pooling with stride 2 for even sizes, as ``nnx.avg_pool`` computes it (reshape and mean)."""
    b, h, w, c = x.shape
    return x.reshape(b, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))
