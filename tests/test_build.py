"""Building a model: one compiled initialisation, the factory's own parameters, and factories that cannot be traced."""

import jax
import numpy as np
import optax
import pytest
from flax import nnx

from mnistkit.errors import PluginError
from mnistkit.host.build import build_model, initialised_in_one_program, optimizer_in_one_program
from mnistkit.host.loading import load_registry
from mnistkit.specs import ModelSpec


@pytest.mark.parametrize("name", ["cnn", "cnn-bn", "speedrun", "mlp", "lenet5"])
def test_the_one_program_initialisation_gives_the_factorys_parameters(name):
    spec = load_registry().model(name)
    built = build_model(spec, dict(spec.options), seed=3)
    eager = spec.factory(nnx.Rngs(3), **dict(spec.options))
    assert type(built) is type(eager)
    ours, theirs = jax.tree.leaves(nnx.state(built)), jax.tree.leaves(nnx.state(eager))
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(_values(a), _values(b), rtol=1e-5, atol=1e-6)


def _values(leaf) -> np.ndarray:
    """A state leaf as numbers (a random key as its key data)."""
    if jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key):
        leaf = jax.random.key_data(leaf)
    return np.asarray(leaf)


def test_the_same_seed_builds_the_same_model_bit_for_bit():
    spec = load_registry().model("cnn")
    first, second = (build_model(spec, dict(spec.options), seed=7) for _ in range(2))
    for a, b in zip(jax.tree.leaves(nnx.state(first)), jax.tree.leaves(nnx.state(second))):
        assert np.array_equal(_values(a), _values(b))


class HostInit(nnx.Module):
    """A factory that reads its weights' values on the host, as loading pretrained weights would."""

    def __init__(self, rngs):
        self.dense = nnx.Linear(784, 10, rngs=rngs)
        self.scale = float(np.asarray(self.dense.kernel[...]).std())  # needs a concrete value: untraceable

    def __call__(self, x):
        return self.dense(x.reshape(x.shape[0], -1)) * self.scale


def test_a_factory_that_cannot_be_traced_still_builds_as_written():
    with pytest.raises(Exception):  # noqa: B017 - whatever jax raises for a traced value read on the host
        initialised_in_one_program(lambda: HostInit(nnx.Rngs(0)))
    model = build_model(ModelSpec("host", HostInit, "lesson.md"), {}, seed=0)
    assert isinstance(model, HostInit) and model.scale > 0


def test_a_factory_that_returns_no_module_is_named():
    with pytest.raises(PluginError, match="factory returned str, not an nnx.Module"):
        build_model(ModelSpec("text", lambda rngs: "a model", "lesson.md"), {}, seed=0)


@pytest.mark.parametrize("name", ["adamw", "sgd", "lion"])
def test_the_one_program_optimizer_state_is_the_eager_one(name):
    registry = load_registry()
    spec = registry.optimizer(name)
    tx = spec.factory(learning_rate=optax.linear_schedule(0.01, 0.0, 100), **dict(spec.options))
    model = build_model(registry.model("cnn"), {}, seed=0)
    ours = nnx.state(optimizer_in_one_program(model, tx))
    eager = nnx.state(nnx.Optimizer(model, tx, wrt=nnx.Param))
    assert jax.tree.structure(ours) == jax.tree.structure(eager)
    for a, b in zip(jax.tree.leaves(ours), jax.tree.leaves(eager)):
        assert a.dtype == b.dtype and np.array_equal(np.asarray(a), np.asarray(b))


def test_an_optimizer_whose_state_cannot_be_traced_is_made_as_written():
    def init(params):
        float(jax.tree.leaves(params)[0].sum())  # reads a value on the host: untraceable
        return optax.EmptyState()

    tx = optax.chain(optax.GradientTransformation(init, lambda updates, state, params=None: (updates, state)), optax.sgd(0.1))
    model = build_model(load_registry().model("mlp"), {}, seed=0)
    optimizer = optimizer_in_one_program(model, tx)
    assert isinstance(optimizer, nnx.Optimizer) and int(optimizer.step[...]) == 0


def test_the_model_and_the_optimizer_take_the_one_program_path_not_the_fallback():
    from mnistkit.host.build import made_in_one_program

    model = initialised_in_one_program(lambda: load_registry().model("cnn").factory(nnx.Rngs(0)))  # raises if the path breaks
    graphdef, values = nnx.split(model)
    tx = optax.adamw(0.005)
    optimizer = made_in_one_program(lambda values: nnx.Optimizer(nnx.merge(graphdef, values), tx, wrt=nnx.Param), values)
    assert isinstance(optimizer, nnx.Optimizer) and int(optimizer.step[...]) == 0
