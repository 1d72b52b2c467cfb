"""What every kind's check suite shares: a named check, a pytest parametrisation, a runner.

Each extension kind (methods, readers, tables, figures, dataset sources, CLI verbs) has a
generator ``<kind>_checks(subject) -> Iterator[tuple[str, Check]]`` (scikit-learn's
``check_estimator(generate_only=True)``).  :func:`parametrize_with_checks` turns the pairs
of several subjects into one pytest test per ``(subject, check)``, id ``subject-check``, so
a failure names its check, the other checks still run, and ``pytest -k deterministic``
selects one check across every subject.  A subject's declared ``expected_failed_checks``
(``{check: reason}``) marks that check xfail with the reason, strictly: a check that starts
passing is reported, so the declaration cannot outlive the fault.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from benchmark.contract.errors import first_line


class CheckError(AssertionError):
    """A plugin broke a contract; the message names the subject and the check."""


@dataclass(frozen=True)
class Check:
    """One contract check of one plugin; calling it runs it (raising on failure)."""

    subject: str
    name: str
    run: Callable[[], Any]
    #: why this check is expected to fail (the subject's ``expected_failed_checks``)
    expected_failure: str | None = None

    @property
    def id(self) -> str:
        return f"{self.subject}-{self.name}"

    def __call__(self) -> None:
        try:
            self.run()
        except CheckError:
            raise
        except Exception as exc:
            raise CheckError(
                f"{self.subject}: {self.name}: {type(exc).__name__}: {first_line(exc)}"
            ) from exc


CheckPairs = Iterator[tuple[str, Check]]


def make_checks(
    subject: str,
    checks: Iterable[tuple[str, Callable[[], Any]]],
    expected_failed: Mapping[str, str] | None = None,
) -> CheckPairs:
    """``(name, Check)`` pairs for ``subject``; refuses an expected failure that names no
    check (a typo would otherwise silently expect nothing)."""
    pairs = list(checks)
    expected = dict(expected_failed or {})
    unknown = sorted(set(expected) - {name for name, _ in pairs})
    if unknown:
        raise ValueError(
            f"{subject}: expected_failed_checks names unknown check(s) "
            f"{unknown}; checks: {', '.join(name for name, _ in pairs)}"
        )
    for name, fn in pairs:
        yield name, Check(subject, name, fn, expected.get(name))


def parametrize_with_checks(
    subjects: Iterable[Any], generate: Callable[[Any], Iterable[tuple[str, Check]]]
):
    """``@parametrize_with_checks(list_methods(...), method_checks)``: one pytest test per
    check of every subject; the test receives ``check`` and calls it."""
    import pytest

    params = []
    for subject in subjects:
        for _, check in generate(subject):
            marks = (
                pytest.mark.xfail(reason=check.expected_failure, strict=True, raises=CheckError)
                if check.expected_failure
                else ()
            )
            params.append(pytest.param(check, id=check.id, marks=marks))
    return pytest.mark.parametrize("check", params)


def run_checks(pairs: Iterable[tuple[str, Check]]) -> list[str]:
    """Run every check (not stopping at the first failure); returns the names that passed
    or failed as expected.  Raises :class:`CheckError` listing every unexpected result,
    the first failure first."""
    done: list[str] = []
    failures: list[str] = []
    for name, check in pairs:
        try:
            check()
        except CheckError as exc:
            if check.expected_failure is None:
                failures.append(str(exc))
                continue
        else:
            if check.expected_failure is not None:
                failures.append(
                    f"{check.id}: expected to fail ({check.expected_failure}) but passed"
                )
                continue
        done.append(name)
    if failures:
        raise CheckError("; ".join(failures))
    return done
