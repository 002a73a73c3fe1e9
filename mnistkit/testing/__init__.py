"""Contract checks for mnistkit plugins, in the spirit of scikit-learn's ``check_estimator``.

For every model, optimizer and metric a plugin registers there is a list of
small named checks (``mnistkit.testing.checks``): it builds; its output has
the right shape and dtype; it compiles once under ``jax.jit``; its gradients
are finite and match finite differences; a few optimizer steps lower the
loss; a short seeded training reaches the accuracy floor the spec declares;
the same seed gives the same result; metric values are finite and within
their bounds; the lesson exists and parses. A spec lists checks it is known
to fail in ``expected_failures`` (check name -> reason), by the name its test
id ends with (``learns`` for ``model:cnn:learns``; the function's name,
``check_model_learns``, works too); they run as expected failures.

Run every check over a plugin, one line (the pytest plugin is installed with
mnistkit)::

    pytest --mnistkit-plugin my_plugin        # or: mnistkit plugin check my_plugin

or keep them in the plugin's own test suite::

    from mnistkit.testing import parametrize_with_checks

    @parametrize_with_checks("my_plugin")
    def test_mnistkit_contract(check):
        check()

``my_plugin`` is the plugin's name (its entry-point name), or a path to a
``.py`` plugin file. This module imports only the standard library; the
checks import JAX when they are built.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Check", "check_plugin", "checks_for", "parametrize_with_checks"]


@dataclass(frozen=True)
class Check:
    """One check of one registration: call it to run it; it raises ``AssertionError`` on failure."""

    target: Any  # mnistkit.testing.checks.Target
    function: Callable[[Any], None]
    expected_failure: str | None = None

    @property
    def name(self) -> str:
        return self.function.__name__

    @property
    def id(self) -> str:
        """``kind:name:what``, e.g. ``model:cnn:learns``, for test ids and ``-k``."""
        return f"{self.target.kind}:{self.target.name}:{_short(self.function, self.target.kind)}"

    def __call__(self) -> None:
        """Run the check. Any exception but a failed check's ``AssertionError`` is the plugin's code
        raising where the check did not expect it: it becomes a failure that names the target."""
        try:
            self.function(self.target)
        except AssertionError:
            raise
        except Exception as exc:
            from mnistkit.testing.common import label

            raise AssertionError(f"{label(self.target)}: {type(exc).__name__} during the {self.id} check: {exc}") from exc

    def __repr__(self) -> str:
        return f"Check({self.id})"


def _split(plugin: str) -> tuple[str, tuple[str, ...]]:
    """A plugin name, or a ``.py`` path to load as a local plugin (named after its file)."""
    if plugin.endswith(".py") or "/" in plugin:
        return Path(plugin).stem, (str(Path(plugin).resolve()),)
    return plugin, ()


@functools.lru_cache(maxsize=8)
def _registry(extra: tuple[str, ...]):
    from mnistkit.host.loading import load_registry

    return load_registry(extra)


def checks_for(plugin: str, *, extra: Iterable[str] = ()) -> list[Check]:
    """Every check that applies to ``plugin``: plugin-level checks, then one list per registration.

    ``plugin`` is an installed plugin's name or a ``.py`` path; ``extra``
    are more local plugins to load first (``--plugin`` values).
    """
    from mnistkit.testing import checks

    name, local = _split(plugin)
    registry = _registry((*extra, *local))
    out = [Check(checks.Target(name, "plugin", name, registry=registry), fn) for fn in checks.PLUGIN_CHECKS]
    for kind, spec in registry.provided_by(name):
        target = checks.Target(name, kind, spec.name, spec, registry.lessons[(kind, spec.name)], registry)
        chosen = [fn for fn in checks.CHECKS[kind] if checks.applies(fn, target)]
        expected = dict(spec.expected_failures)
        names = {fn: _short(fn, kind) for fn in chosen}
        unknown = sorted(set(expected) - set(names.values()) - {fn.__name__ for fn in chosen})
        if unknown:
            out.append(Check(target, _unknown_expected_failures(unknown, list(names.values()))))
        out += [Check(target, fn, expected.get(names[fn], expected.get(fn.__name__))) for fn in chosen]
    return out


def _short(function: Callable[[Any], None], kind: str) -> str:
    """A check's name as in its test id and in ``expected_failures``: ``learns`` for ``check_model_learns``."""
    return function.__name__.removeprefix("check_").removeprefix(f"{kind}_")


def _unknown_expected_failures(unknown: list[str], known: list[str]) -> Callable[[Any], None]:
    def check_expected_failures_name_checks(target: Any) -> None:
        from mnistkit.testing.common import label

        raise AssertionError(
            f"{label(target)}: expected_failures names "
            f"{', '.join(unknown)}, which are not checks of a {target.kind} (its checks: {', '.join(known)})"
        )

    return check_expected_failures_name_checks


def parametrize_with_checks(*plugins: str, extra: Iterable[str] = ()):
    """A ``pytest.mark.parametrize`` over every check of ``plugins``, with ids like ``model:cnn:learns``.

    The test receives the check as ``check`` and calls it. Checks a spec
    lists in ``expected_failures`` are marked ``xfail`` with its reason.
    """
    import pytest

    params = [as_param(check) for plugin in plugins for check in checks_for(plugin, extra=extra)]
    return pytest.mark.parametrize("check", params)


def as_param(check: Check):
    import pytest

    marks = [pytest.mark.xfail(reason=check.expected_failure, strict=False)] if check.expected_failure else []
    return pytest.param(check, id=check.id, marks=marks)


def check_plugin(plugin: str, *, extra: Iterable[str] = ()) -> None:
    """Run every check of ``plugin`` outside pytest; raise ``AssertionError`` listing the failures.

    Checks the spec lists as expected failures are not run.
    """
    failures = []
    for check in checks_for(plugin, extra=extra):
        if check.expected_failure is not None:
            continue
        try:
            check()
        except AssertionError as exc:
            failures.append(f"{check.id}: {exc}")
    if failures:
        raise AssertionError(f"{len(failures)} check(s) failed:\n" + "\n".join(failures))
