"""Exercise stack-update, a reference solution."""


def tally(counts, digits):
    """A copy of ``counts`` (10 int32 counts) with one added for every digit in ``digits``."""
    return counts.at[digits].add(1)
