"""Prove an exercise: its starter fails as intended, its solution passes, each mistake fails naming itself.

The test suite proves every builtin exercise with ``prove``, and the plugin
contract checks prove a plugin's the same way. From a shell, for an exercise
author::

    python -m mnistkit.curriculum.proving [EXERCISE_ID ...]   # default: all

prints one line per file checked and exits 1 when any proof fails.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from mnistkit.curriculum.checking import CheckResult, check_many
from mnistkit.curriculum.exercises import Exercise


@dataclass(frozen=True)
class Proof:
    exercise: Exercise
    case: str  # "starter", "solution" or "mistake NAME"
    file: Path
    expected: str | None  # the part of the message a failure must contain; None: it must pass
    result: CheckResult

    @property
    def holds(self) -> bool:
        if self.expected is None:
            return self.result.passed
        return not self.result.passed and self.expected.lower() in self.result.message.lower()

    def describe(self) -> str:
        want = "pass" if self.expected is None else f"fail with {self.expected!r}"
        got = ("passed" if self.result.passed else "failed") + f": {self.result.message}"
        mark = "ok  " if self.holds else "FAIL"
        return f"{mark} {self.exercise.id} {self.case} ({self.result.seconds:.1f} s): should {want}; {got}"


def cases(exercise: Exercise) -> list[tuple[str, Path, str | None]]:
    """What proving ``exercise`` checks: ``(case, file, expected message part or None to pass)``."""
    found: list[tuple[str, Path, str | None]] = [("starter", exercise.starter_path, exercise.starter_fails_with),
                                                 ("solution", exercise.solution_path, None)]
    found += [(f"mistake {name}", exercise.mistake_path(name), part) for name, part in exercise.mistakes.items()]
    return found


def prove(exercises: Iterable[Exercise], timeout: float | None = None) -> list[Proof]:
    """Check every case of every exercise, in one checker process."""
    plan = [(exercise, case, file, expected) for exercise in exercises for case, file, expected in cases(exercise)]
    results = check_many([(exercise, file) for exercise, _, file, _ in plan], timeout=timeout)
    return [Proof(exercise, case, file, expected, result) for (exercise, case, file, expected), result in zip(plan, results, strict=True)]


def main(argv: Sequence[str]) -> int:
    from mnistkit.curriculum.exercises import load_exercises
    from mnistkit.curriculum.loader import load
    from mnistkit.host.loading import load_registry

    every = load_exercises(load(load_registry()))
    for problem in every.problems:
        print(f"problem: {problem}")
    chosen = [every.get(name) for name in argv] if argv else list(every)
    proofs = prove(chosen)
    for proof in proofs:
        print(proof.describe())
    return 0 if all(proof.holds for proof in proofs) and not every.problems else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
