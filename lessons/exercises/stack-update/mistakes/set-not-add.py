"""`.set` with repeated indices keeps one write per index, so a digit seen twice counts once."""


def tally(counts, digits):
    return counts.at[digits].set(counts[digits] + 1)
