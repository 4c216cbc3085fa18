"""What grading produces: a score and feedback per part, and notes on the notebook."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PartResult:
    name: str
    max_score: float
    score: float = 0.0
    output: str = ""
    visibility: str = "visible"
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.score >= self.max_score - 1e-9


@dataclass
class GradeResult:
    submission: str
    assignment: str
    parts: list[PartResult]
    notebook: str = ""
    """Notes on the notebook as a whole: cells that raised or were skipped, printed output."""
    execution_time: float = 0.0
    error: str = ""
    """Set only when the grader itself failed (a bug or a broken installation), not the student."""
    sandbox: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        return round(sum(p.score for p in self.parts), 2)

    @property
    def max_score(self) -> float:
        return round(sum(p.max_score for p in self.parts), 2)

    def to_dict(self) -> dict:
        """The ``--format json`` document."""
        return {
            "submission": self.submission,
            "assignment": self.assignment,
            "score": self.score,
            "max_score": self.max_score,
            "execution_time": round(self.execution_time, 2),
            "notebook": self.notebook,
            "grader_error": self.error,
            "sandbox": self.sandbox,
            "tests": [{"name": p.name, "score": p.score, "max_score": p.max_score, "output": p.output}
                      for p in self.parts],
        }
