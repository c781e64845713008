"""Numeric warnings raised while a check probes user code belong to the report, not to stderr.

Overflow, log(0) and division by zero met while finite differences move the
inputs say something about the function at this point; printed with
gradviz's own source lines they would only confuse.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any, Callable

MAX_NUMERIC_WARNINGS = 5  # distinct numeric warnings listed in a report
Report = Any  # anything with a `warnings` list: checking's Report


def folding_numeric_warnings(run: Callable[..., Report]) -> Callable[..., Report]:
    """Numeric warnings raised while a check probes the function (overflow, log(0), division by zero)
    become lines of the report's warnings instead of being printed with gradviz's source lines."""

    @functools.wraps(run)
    def checked(*args: Any, **kwargs: Any) -> Report:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            report = run(*args, **kwargs)
        numeric = []
        for w in caught:
            if issubclass(w.category, RuntimeWarning):
                text = f"numeric: {w.message}"
                if text not in numeric:
                    numeric.append(text)
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        report.warnings.extend(numeric[:MAX_NUMERIC_WARNINGS])
        if len(numeric) > MAX_NUMERIC_WARNINGS:
            report.warnings.append(f"numeric: {len(numeric) - MAX_NUMERIC_WARNINGS} more numeric warnings")
        return report

    return checked
