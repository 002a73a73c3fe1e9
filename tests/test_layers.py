"""PatchConv is nnx.Conv computed another way: same parameters, same outputs, same gradients."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from mnistkit.engine.layers import PatchConv, conv


@pytest.mark.parametrize(("kernel", "cin", "cout"), [((3, 3), 1, 4), ((3, 3), 5, 7), ((5, 5), 1, 24), ((4, 4), 3, 5), ((2, 3), 2, 3)])
def test_patch_conv_matches_flax_conv_outputs_and_gradients(kernel, cin, cout):
    x = jax.random.uniform(jax.random.key(1), (3, 12, 12, cin))
    reference = nnx.Conv(cin, cout, kernel_size=kernel, rngs=nnx.Rngs(0))
    patches = PatchConv(cin, cout, kernel_size=kernel, rngs=nnx.Rngs(0))
    np.testing.assert_allclose(reference(x), patches(x), rtol=1e-5, atol=1e-5)

    def loss(model):
        return (model(x) ** 2).mean()

    g_ref, g_patch = nnx.grad(loss)(reference), nnx.grad(loss)(patches)
    for a, b in zip(jax.tree.leaves(g_ref), jax.tree.leaves(g_patch), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_both_kinds_share_parameter_names_and_shapes_so_checkpoints_transfer():
    a = conv("xla", 2, 3, (3, 3), rngs=nnx.Rngs(0))
    b = conv("patches", 2, 3, (3, 3), rngs=nnx.Rngs(0))
    shapes = lambda m: jax.tree.map(jnp.shape, nnx.to_pure_dict(nnx.state(m, nnx.Param)))
    assert shapes(a) == shapes(b)


def test_unknown_conv_kind_is_rejected():
    with pytest.raises(ValueError, match="'auto', 'xla' or 'patches'"):
        conv("fft", 1, 1, (3, 3), rngs=nnx.Rngs(0))


def test_patch_conv_uses_flax_conv_in_eval_mode_with_the_same_result():
    x = jax.random.uniform(jax.random.key(2), (2, 10, 10, 3))
    layer = PatchConv(3, 4, kernel_size=(3, 3), rngs=nnx.Rngs(0))
    train_out = layer(x)
    layer.eval()
    assert layer.deterministic
    np.testing.assert_allclose(layer(x), train_out, rtol=1e-5, atol=1e-5)


def test_max_pool_2x2_matches_flax_max_pool_and_its_gradient():
    from mnistkit.engine.layers import max_pool_2x2

    x = jax.random.normal(jax.random.key(3), (2, 8, 8, 3))
    reference = lambda v: nnx.max_pool(v, window_shape=(2, 2), strides=(2, 2))
    np.testing.assert_array_equal(max_pool_2x2(x), reference(x))
    g1 = jax.grad(lambda v: (max_pool_2x2(v) ** 2).sum())(x)
    g2 = jax.grad(lambda v: (reference(v) ** 2).sum())(x)
    np.testing.assert_allclose(g1, g2)


def test_avg_pool_2x2_matches_flax_avg_pool():
    from mnistkit.engine.layers import avg_pool_2x2

    x = jax.random.normal(jax.random.key(4), (2, 8, 8, 3))
    np.testing.assert_allclose(avg_pool_2x2(x), nnx.avg_pool(x, window_shape=(2, 2), strides=(2, 2)), rtol=1e-6)


def test_auto_picks_patches_on_a_cpu_and_plain_conv_elsewhere(monkeypatch):
    from mnistkit.engine import layers

    assert isinstance(conv("auto", 1, 2, (3, 3), rngs=nnx.Rngs(0)), PatchConv)  # the test suite runs on a CPU
    monkeypatch.setattr(layers.jax, "default_backend", lambda: "gpu")
    layer = conv("auto", 1, 2, (3, 3), rngs=nnx.Rngs(0))
    assert type(layer) is nnx.Conv
