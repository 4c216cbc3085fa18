"""A GradeResult as a terminal table, JSON, Gradescope's results.json, or JUnit XML.

Gradescope's format follows its autograder specification
(https://gradescope-autograders.readthedocs.io/en/latest/specs/): a top-level ``score``,
``execution_time`` and ``output``, and one entry in ``tests`` per part with ``name``,
``score``, ``max_score``, ``status`` ("passed" or "failed"), ``output`` and ``visibility``.
"""
from __future__ import annotations

import json
import re
import textwrap
import xml.etree.ElementTree as ET

from .result import GradeResult

FORMATS = ("table", "json", "gradescope", "junit")
EXTENSIONS = {"table": ".txt", "json": ".json", "gradescope": ".json", "junit": ".xml"}


def render(result: GradeResult, fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"--format must be one of {', '.join(FORMATS)}; got {fmt!r}")
    return {"table": table, "json": as_json, "gradescope": gradescope, "junit": junit}[fmt](result)


def _points(x: float) -> str:
    return f"{x:g}"


def table(result: GradeResult, width: int = 100) -> str:
    name_w = max([len("Part")] + [len(p.name) for p in result.parts]) + 2
    pts_w = 9
    feedback_w = max(40, width - name_w - pts_w)
    lines = [f"Grading {result.submission} ({result.assignment})", ""]
    lines.append(f"{'Part':<{name_w}}{'Points':>{pts_w - 2}}  Feedback")
    lines.append("-" * min(width, name_w + pts_w + feedback_w))
    for part in result.parts:
        points = f"{_points(part.score)}/{_points(part.max_score)}"
        wrapped = _wrap(part.output or ("All checks passed." if part.passed else ""), feedback_w)
        first, rest = (wrapped[0] if wrapped else ""), wrapped[1:]
        lines.append(f"{part.name:<{name_w}}{points:>{pts_w - 2}}  {first}")
        lines += [" " * (name_w + pts_w) + line for line in rest]
    lines.append("-" * min(width, name_w + pts_w + feedback_w))
    lines.append(f"{'Total':<{name_w}}{_points(result.score) + '/' + _points(result.max_score):>{pts_w - 2}}")
    if result.notebook:
        lines += ["", "About the notebook:"] + ["  " + line for line in _wrap(result.notebook, width - 2)]
    if result.error:
        lines += ["", "GRADER ERROR (not the student's fault):", textwrap.indent(result.error.strip(), "  ")]
    return "\n".join(lines) + "\n"


def _wrap(text: str, width: int) -> list[str]:
    out = []
    for paragraph in text.splitlines():
        indent = len(paragraph) - len(paragraph.lstrip())
        out += textwrap.wrap(paragraph, width, subsequent_indent=" " * (indent + 2),
                             break_long_words=True, replace_whitespace=False) or [""]
    return out


def as_json(result: GradeResult) -> str:
    return json.dumps(result.to_dict(), indent=2) + "\n"


def gradescope(result: GradeResult) -> str:
    summary = f"Score: {_points(result.score)}/{_points(result.max_score)}"
    output = summary + (f"\n\nAbout the notebook:\n{result.notebook}" if result.notebook else "")
    if result.error:
        output += "\n\nThe grader itself failed on part of this submission; your instructor can see the details."
    doc = {
        "score": result.score,
        "execution_time": int(round(result.execution_time)),
        "output": output,
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [{"name": p.name, "number": str(i), "score": p.score, "max_score": p.max_score,
                   "status": "passed" if p.passed else "failed", "output": p.output,
                   "output_format": "text", "visibility": p.visibility}
                  for i, p in enumerate(result.parts, start=1)],
    }
    if result.error:
        doc["extra_data"] = {"grader_error": result.error}
    return json.dumps(doc, indent=2) + "\n"


_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(text: str) -> str:
    return _XML_ILLEGAL.sub("?", text)


def junit(result: GradeResult) -> str:
    failures = sum(not p.passed for p in result.parts)
    errors = 1 if result.error else 0
    attrs = {"tests": str(len(result.parts) + errors), "failures": str(failures), "errors": str(errors),
             "time": f"{result.execution_time:.3f}"}
    root = ET.Element("testsuites", {"name": "accel-edu grade", **attrs})
    suite = ET.SubElement(root, "testsuite", {"name": _xml_text(f"{result.assignment}: {result.submission}"),
                                              "skipped": "0", **attrs})
    props = ET.SubElement(suite, "properties")
    for name, value in (("score", result.score), ("max_score", result.max_score)):
        ET.SubElement(props, "property", {"name": name, "value": _points(value)})
    for part in result.parts:
        case = ET.SubElement(suite, "testcase", {"classname": result.assignment, "name": _xml_text(part.name),
                                                 "time": f"{part.seconds:.3f}"})
        points = f"{_points(part.score)}/{_points(part.max_score)} points"
        if not part.passed:
            first = part.output.splitlines()[0] if part.output else ""
            failure = ET.SubElement(case, "failure", {"message": _xml_text(f"{points}: {first}"[:500]),
                                                      "type": "PartialCredit" if part.score > 0 else "NoCredit"})
            failure.text = _xml_text(part.output)
        out = ET.SubElement(case, "system-out")
        out.text = _xml_text(f"{points}\n{part.output}")
    if result.error:  # the grader's own failure is an <error>, not the student's <failure>
        case = ET.SubElement(suite, "testcase", {"classname": result.assignment, "name": "Grader", "time": "0"})
        ET.SubElement(case, "error", {"message": "the grader itself failed", "type": "GraderError"}).text = \
            _xml_text(result.error)
    if result.notebook:
        ET.SubElement(suite, "system-out").text = _xml_text(result.notebook)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
