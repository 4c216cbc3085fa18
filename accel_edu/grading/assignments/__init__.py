"""Every graded notebook, by name: ``solutions/NN_topic.ipynb`` is graded by ``ASSIGNMENTS["NN_topic"]``.

A chapter adds its exercises by writing ``assignments/<topic>.py`` with an ``ASSIGNMENT`` and
listing it here. The notebook names its assignment in its metadata
(``{"accel_edu": {"assignment": "01_backprop"}}``), which the exercise keeps.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Assignment:
    name: str
    title: str
    parts: list


def _load() -> dict[str, Assignment]:
    from . import backprop, cnn, hardware, optim, regularization, rnn
    from . import compression
    from . import distributed
    return {a.name: a for a in (backprop.ASSIGNMENT, cnn.ASSIGNMENT, rnn.ASSIGNMENT, optim.ASSIGNMENT,
                                regularization.ASSIGNMENT, hardware.ASSIGNMENT, compression.ASSIGNMENT,
                                distributed.ASSIGNMENT)}


def get(name: str) -> Assignment:
    assignments = _load()
    if name not in assignments:
        raise ValueError(f"assignment must be one of {', '.join(sorted(assignments))}; got {name!r}")
    return assignments[name]


def names() -> list[str]:
    return sorted(_load())


def resolve(metadata: dict, path: str | Path, forced: str | None = None) -> Assignment:
    """``forced`` (the --assignment option) first, then the notebook's metadata, then a name
    in the file name, then the only assignment there is."""
    if forced:
        return get(forced)
    assignments = _load()
    tagged = metadata.get("accel_edu", {}) if isinstance(metadata, dict) else {}
    tagged = tagged.get("assignment") if isinstance(tagged, dict) else None
    if isinstance(tagged, str) and tagged in assignments:
        return assignments[tagged]
    stem = Path(path).stem
    for name in sorted(assignments, key=len, reverse=True):
        if name in stem:
            return assignments[name]
    if len(assignments) == 1:
        return next(iter(assignments.values()))
    raise ValueError(f"cannot tell which assignment {Path(path).name} is; pass --assignment "
                     f"({', '.join(sorted(assignments))})")
