"""A Finding: one named cause of a wrong gradient, with the numbers that show it.

A Finding *is* its sentence (a str subclass), so every place that prints a
diagnosis, formats it into a verdict or asks `"batch" in finding` keeps
working, while reports read its fields: the cause's short name, the evidence
and a confidence between 0 and 1.
"""

from __future__ import annotations

NO_PATTERN = "no_pattern"


class Finding(str):
    """The sentence a student reads, carrying `cause`, `evidence` and `confidence`."""

    cause: str
    evidence: str
    confidence: float

    def __new__(cls, sentence: str, *, cause: str, evidence: str = "", confidence: float = 0.9) -> "Finding":
        self = super().__new__(cls, sentence)
        self.cause, self.evidence, self.confidence = cause, evidence, float(confidence)
        return self

    def __reduce__(self):  # pickling (grading runs reports through worker processes)
        return (_rebuild, (str(self), self.cause, self.evidence, self.confidence))

    def to_dict(self) -> dict:
        return {"cause": self.cause, "message": str(self), "evidence": self.evidence,
                "confidence": round(self.confidence, 3)}


def _rebuild(sentence: str, cause: str, evidence: str, confidence: float) -> Finding:
    return Finding(sentence, cause=cause, evidence=evidence, confidence=confidence)


def as_finding(item: str) -> Finding:
    """A Finding for a plain sentence that some older code path produced (cause unnamed)."""
    if isinstance(item, Finding):
        return item
    return Finding(str(item), cause="explanation", confidence=0.5)
