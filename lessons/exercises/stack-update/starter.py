"""Exercise stack-update: count digits without changing an array in place.

Check your work with:  mnistkit exercise check stack-update
"""

import jax
import jax.numpy as jnp


def tally(counts, digits):
    """A copy of ``counts`` (10 int32 counts) with one added for every digit in ``digits``."""
    # TODO: return an updated copy of counts; `counts[digits] += 1` fails, JAX arrays are immutable.
    return counts
