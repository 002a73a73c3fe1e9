"""Layers that compute the same function as Flax's, laid out for speed on some backends.

``PatchConv`` is a drop-in ``nnx.Conv`` (same parameters, same names, so the
same checkpoints) that computes a stride-1 "SAME" convolution as one matrix
product over image patches (im2col), with a gradient written out by hand
(``conv_patches``). On XLA's CPU backend the kernel gradient of ``lax.conv``
is slow and, inside a ``lax.scan`` body, falls off its fast path entirely,
while matrix products stay fast; on GPUs ``lax.conv`` is the better choice.
Models expose the choice as an option: ``conv="xla"``, ``"patches"``, or
``"auto"`` (patches on a CPU, ``lax.conv`` elsewhere).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

DIMENSIONS = ("NHWC", "HWIO", "NHWC")


def _patches(x: jax.Array, kh: int, kw: int) -> jax.Array:
    """(B, H, W, C) -> (B, H, W, kh*kw*C): each pixel's "SAME"-padded neighbourhood.

    Channels are ordered (row, column, input channel), the kernel's own
    layout, so ``patches @ kernel.reshape(-1, out)`` is the convolution.
    """
    top, left = (kh - 1) // 2, (kw - 1) // 2
    padded = jnp.pad(x, ((0, 0), (top, kh - 1 - top), (left, kw - 1 - left), (0, 0)))
    height, width = x.shape[1], x.shape[2]
    return jnp.concatenate([padded[:, i : i + height, j : j + width, :] for i in range(kh) for j in range(kw)], axis=-1)


@jax.custom_vjp
def conv_patches(x: jax.Array, kernel: jax.Array) -> jax.Array:
    """A stride-1 "SAME" convolution (NHWC input, HWIO kernel) as patches @ kernel.

    Its gradient: the kernel's is the patches (kept from the forward pass)
    times the output gradient, one matrix product; the input's is the output
    gradient convolved with the flipped kernel, a plain forward ``lax.conv``,
    which XLA's CPU backend runs fast even inside a loop (faster than undoing
    the patches for the speedrun model's layers, measured in a training step).
    """
    return _conv_patches_forward(x, kernel)[0]


def _conv_patches_forward(x, kernel):
    kh, kw, cin, cout = kernel.shape
    patches = _patches(x, kh, kw)
    return patches @ kernel.reshape(kh * kw * cin, cout), (patches, kernel)


def _conv_patches_backward(saved, dy):
    patches, kernel = saved
    kh, kw, cin, cout = kernel.shape
    dkernel = patches.reshape(-1, kh * kw * cin).T @ dy.reshape(-1, cout)
    top, left = (kh - 1) // 2, (kw - 1) // 2
    flipped = jnp.flip(kernel, (0, 1)).transpose(0, 1, 3, 2)  # in and out channels swap roles
    padding = [(kh - 1 - top, top), (kw - 1 - left, left)]
    dx = jax.lax.conv_general_dilated(dy, flipped, (1, 1), padding, dimension_numbers=DIMENSIONS)
    return dx, dkernel.reshape(kernel.shape)


conv_patches.defvjp(_conv_patches_forward, _conv_patches_backward)


class PatchConv(nnx.Conv):
    """``nnx.Conv`` (stride 1, SAME padding, no dilation or groups) computed by ``conv_patches``.

    Only training gains from this form (what is slow in ``lax.conv`` on a CPU
    is its kernel gradient), so in eval mode (``model.eval()`` sets
    ``deterministic``) the forward pass is plain ``nnx.Conv``.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.deterministic = False

    def __call__(self, x: jax.Array) -> jax.Array:  # type: ignore[override]  # nnx.Conv also takes out_sharding, which this layer never gets
        if self.deterministic:
            return super().__call__(x)
        y = conv_patches(x, self.kernel[...])
        if self.bias is not None:
            y = y + self.bias[...]
        return y


def resolve_conv(kind: str) -> str:
    """``"auto"`` is ``"patches"`` on a CPU backend and ``"xla"`` on GPUs and TPUs; other kinds stay."""
    if kind not in ("auto", "xla", "patches"):
        raise ValueError(f"conv must be 'auto', 'xla' or 'patches', not {kind!r}")
    if kind == "auto":
        return "patches" if jax.default_backend() == "cpu" else "xla"
    return kind


def conv(kind: str, in_features: int, out_features: int, kernel_size: tuple[int, int], *, rngs: nnx.Rngs, **kwargs) -> nnx.Conv:
    """An ``nnx.Conv`` (``kind="xla"``), its ``PatchConv`` twin (``"patches"``), or whichever suits the backend (``"auto"``)."""
    cls = PatchConv if resolve_conv(kind) == "patches" else nnx.Conv
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
