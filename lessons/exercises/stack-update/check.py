"""Checker of stack-update: tally adds one per digit to a copy of the counts, eagerly and under jax.jit."""

import numpy as np

from mnistkit.curriculum.checks import Failed, function


def _show(array) -> str:
    return "[" + " ".join(str(int(v)) for v in np.asarray(array).ravel()) + "]"


def _call(tally, counts, digits, jitted: bool):
    import jax

    try:
        return np.asarray(jax.jit(tally)(counts, digits) if jitted else tally(counts, digits))
    except Exception as err:
        if "immutable" in str(err) or "item assignment" in str(err):
            raise Failed("JAX arrays are immutable: `counts[...] += 1` cannot change one in place. "
                         "Return an updated copy instead: the lesson's `.at[...]` gives one.") from None
        if not jitted:
            raise
        raise Failed(f"tally fails under jax.jit ({type(err).__name__}): inside jit the arrays are tracers, not values, "
                     "so NumPy cannot copy or change them; stay with jax.numpy and its `.at[...]` updates.") from None


def check(learner):
    import jax.numpy as jnp

    tally = function(learner, "tally")
    rng = np.random.default_rng(12)
    cases = [(np.array([5, 0, 2, 0, 1, 0, 0, 4, 0, 0]), np.array([3, 3, 3, 3, 7, 1, 1, 0])),
             (rng.integers(0, 20, size=10), rng.integers(0, 10, size=50))]
    for jitted in (False, True):
        for start, batch in cases:
            counts, digits = jnp.asarray(start, jnp.int32), jnp.asarray(batch, jnp.int32)
            expected = start + np.bincount(batch, minlength=10)
            result = _call(tally, counts, digits, jitted)
            where = " under jax.jit" if jitted else ""
            if not np.array_equal(np.asarray(counts), start):
                raise Failed("tally changed the counts it was given; leave them as they are and return an updated copy.")
            if result.shape == (10,) and not np.issubdtype(result.dtype, np.integer):
                raise Failed(f"tally returned {result.dtype} counts{where}; counts are whole numbers: keep them int32, "
                             "as the counts you were given.")
            if result.shape != (10,):
                raise Failed(f"tally returned an array of shape {result.shape}{where}; it must return the ten counts, shape (10,).")
            if np.array_equal(result, expected):
                continue
            if np.array_equal(result, start):
                raise Failed("tally returned the counts unchanged: add one for every digit in the batch and return "
                             "the updated copy.")
            if np.array_equal(result, start + (np.bincount(batch, minlength=10) > 0)):
                digit = int(np.bincount(batch, minlength=10).argmax())
                times = int(np.bincount(batch, minlength=10).max())
                raise Failed(f"digit {digit} appears {times} times in the batch {_show(batch)} but its count grew by 1: "
                             "`.at[...].set` keeps one write per repeated index; `.at[digits].add(1)` adds once per appearance.")
            raise Failed(f"starting from counts {_show(start)} with the digits {_show(batch)}, tally returned {_show(result)}{where}; "
                         f"the right counts are {_show(expected)}.")
    return "tally returns updated counts, leaves its input unchanged and works under jax.jit."
