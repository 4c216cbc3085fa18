"""Outputs checked field by field: Gradescope's results.json, JUnit XML, JSON, the table;
the command line end to end; and the Gradescope autograder bundle."""
from __future__ import annotations

import json
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from accel_edu.cli import main
from accel_edu.grading.formats import as_json, gradescope, junit, table
from accel_edu.grading.result import GradeResult, PartResult

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def result():
    return GradeResult("alice.ipynb", "01_backprop", [
        PartResult("Part 1: Linear backward", 10, 10.0, "12 of 12 checks passed.", seconds=0.5),
        PartResult("Part 2: Numerical gradient", 10, 2.5, "1 of 4 checks passed.\nFAILED [x]: bad \x00 byte",
                   seconds=1.25),
        PartResult("Part 3: Softmax", 20, 0.0, "No function named `f` was found."),
    ], notebook="cell 3 raised SyntaxError", execution_time=12.6)


def test_gradescope_results_json_field_by_field(result):
    doc = json.loads(gradescope(result))
    assert doc["score"] == 12.5 and doc["execution_time"] == 13
    assert doc["output"].startswith("Score: 12.5/40") and "cell 3 raised SyntaxError" in doc["output"]
    assert doc["visibility"] == "visible" and doc["stdout_visibility"] == "hidden"
    assert "extra_data" not in doc
    assert [t["name"] for t in doc["tests"]] == [p.name for p in result.parts]
    first, second, third = doc["tests"]
    assert first == {"name": "Part 1: Linear backward", "number": "1", "score": 10.0, "max_score": 10,
                     "status": "passed", "output": "12 of 12 checks passed.", "output_format": "text",
                     "visibility": "visible"}
    assert (second["score"], second["max_score"], second["status"]) == (2.5, 10, "failed")
    assert (third["score"], third["status"], third["number"]) == (0.0, "failed", "3")
    result.error = "Traceback: boom"
    doc = json.loads(gradescope(result))
    assert doc["extra_data"] == {"grader_error": "Traceback: boom"} and "grader itself failed" in doc["output"]


def test_junit_xml_field_by_field(result):
    root = ET.fromstring(junit(result).encode())
    assert root.tag == "testsuites" and root.get("tests") == "3" and root.get("failures") == "2"
    assert root.get("errors") == "0" and root.get("time") == "12.600"
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "01_backprop: alice.ipynb" and suite.get("tests") == "3"
    props = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert props == {"score": "12.5", "max_score": "40"}
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [p.name for p in result.parts]
    assert all(c.get("classname") == "01_backprop" for c in cases)
    assert cases[0].find("failure") is None and cases[0].get("time") == "0.500"
    failure = cases[1].find("failure")
    assert failure.get("type") == "PartialCredit" and failure.get("message") == "2.5/10 points: 1 of 4 checks passed."
    assert "bad ? byte" in failure.text  # characters XML cannot hold are replaced
    assert cases[2].find("failure").get("type") == "NoCredit"
    assert suite.find("system-out").text == "cell 3 raised SyntaxError"
    result.error = "Traceback: boom"
    root = ET.fromstring(junit(result).encode())
    grader = root.find("testsuite").findall("testcase")[-1]
    assert root.get("errors") == "1" and grader.get("name") == "Grader"
    assert grader.find("error").get("type") == "GraderError"


def test_json_and_table(result):
    doc = json.loads(as_json(result))
    assert (doc["score"], doc["max_score"]) == (12.5, 40)
    assert doc["tests"][1] == {"name": "Part 2: Numerical gradient", "score": 2.5, "max_score": 10,
                               "output": "1 of 4 checks passed.\nFAILED [x]: bad \x00 byte"}
    text = table(result)
    assert "Part 2: Numerical gradient" in text and "2.5/10" in text and "12.5/40" in text
    assert "About the notebook:" in text


def test_cli_grades_one_notebook_to_a_gradescope_file(tmp_path):
    out = tmp_path / "results" / "results.json"
    proc = subprocess.run([sys.executable, "-m", "accel_edu.cli", "grade", str(ROOT / "exercises" / "01_backprop.ipynb"),
                           "--format", "gradescope", "--output", str(out), "--part-timeout", "30"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    assert doc["score"] == 0 and len(doc["tests"]) == 5
    assert all(t["status"] == "failed" and t["max_score"] > 0 for t in doc["tests"])


def test_cli_bad_arguments_exit_2_with_a_message(tmp_path, capsys):
    assert main(["grade", str(tmp_path / "missing.ipynb")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["grade", str(tmp_path), "--jobs", "2"]) == 2  # a folder without notebooks
    assert main(["grade", str(ROOT / "exercises" / "01_backprop.ipynb"), "--assignment", "99_nope"]) == 2
    assert "assignment must be one of" in capsys.readouterr().err


def test_autograder_bundle(tmp_path):
    zip_path = tmp_path / "autograder.zip"
    assert main(["autograder-bundle", "--out", str(zip_path), "--memory-mb", "1536"]) == 0
    with zipfile.ZipFile(zip_path) as z:
        names = set(z.namelist())
        assert {"setup.sh", "run_autograder", "requirements.txt", "accel_edu_src/pyproject.toml",
                "accel_edu_src/accel_edu/cli.py", "accel_edu_src/accel_edu/grading/worker.py"} <= names
        assert not any("solutions" in n or "__pycache__" in n for n in names)
        for script in ("setup.sh", "run_autograder"):
            mode = z.getinfo(script).external_attr >> 16
            assert stat.S_ISREG(mode) and mode & stat.S_IXUSR, script
            assert z.read(script).startswith(b"#!/usr/bin/env bash\n")
        run = z.read("run_autograder").decode()
        assert "accel-edu grade" in run and "--format gradescope" in run
        assert "--output results/results.json" in run and "--memory-mb 1536" in run
        assert "/autograder/submission" in run or "submission/" in run
        setup = z.read("setup.sh").decode()
        assert f"uv venv --python {sys.version_info.major}.{sys.version_info.minor}" in setup
        for script in ("setup.sh", "run_autograder"):  # both parse as bash
            check = subprocess.run(["bash", "-n"], input=z.read(script), capture_output=True)
            assert check.returncode == 0, check.stderr
        requirements = z.read("requirements.txt").decode()
        assert "numba==" in requirements and "pyopencl==" in requirements
