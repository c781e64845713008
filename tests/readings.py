"""Shared by the reading tests: every reading of correct code that the confirm stage keeps must pass."""

from __future__ import annotations

from gradviz.checking.confirm import confirm
from gradviz.checking.handwritten import _options, check_subject
from gradviz.checking.subject import UserCodeError
from gradviz.errors import GradvizError


def confirmed_readings_pass(candidates) -> int:
    """How many of the candidate readings are confirmed; asserts each confirmed one passes its check."""
    confirmed = 0
    for candidate in candidates:
        try:
            reading = candidate.build()
        except (GradvizError, UserCodeError):
            continue
        if confirm(reading)[0] is None:
            confirmed += 1
            assert check_subject(reading, _options(1e-6, 1e-5, 1e-3, False, "auto", 0, 16)).ok, candidate.describe
    return confirmed
