"""`mnistkit lesson export`: a lesson as a notebook or a script that runs top to bottom."""

import json
import subprocess
import sys
import textwrap

import nbformat
import pytest

from mnistkit.cli import main
from mnistkit.curriculum.export import export_lesson, lesson_cells
from mnistkit.curriculum.lesson_code import code_blocks
from mnistkit.curriculum.lessons import load_curriculum, load_lessons, parse_lesson

DEMO = """---
id: demo
title: Demo
order: 1
minutes: 5
prerequisites: [data]
---

# Demo

Some prose. <!-- check: x == 2 -->

<!-- ci: EPOCHS=1 -->
```python
EPOCHS = 10
x = 2
print(EPOCHS * x)  # prints: 20
```

A shell command is shown, never run:

```bash
mnistkit run
```

<!-- no-run: needs the network -->
```python
raise SystemExit("downloads")
```

## Check yourself

1. Why? *(Because
   of this.)*
"""


def exit_code(argv) -> int:
    """What the command exits with, whether argparse or the handler refuses."""
    try:
        return main(argv)
    except SystemExit as exit:
        return int(exit.code or 0)


@pytest.fixture
def demo(tmp_path):
    path = tmp_path / "demo.md"
    path.write_text(DEMO)
    return parse_lesson(DEMO, path)


def test_prose_becomes_markdown_and_runnable_blocks_become_code_cells(demo):
    cells = lesson_cells(demo)
    assert [cell.kind for cell in cells] == ["markdown", "markdown", "code", "markdown"]
    assert "Lesson 1 of the mnistkit curriculum, about 5 minutes; it builds on data" in cells[0].source
    assert cells[1].source == "# Demo\n\nSome prose."
    assert cells[2].source == 'EPOCHS = 10\nx = 2\nprint(EPOCHS * x)  # prints: 20'
    after = cells[3].source
    assert "```bash\nmnistkit run\n```" in after
    assert "*Not run here: needs the network.*" in after and 'raise SystemExit("downloads")' in after
    assert "<!--" not in "".join(cell.source for cell in cells)


def test_short_uses_the_ci_settings_in_the_code(demo):
    code = [cell.source for cell in lesson_cells(demo, short=True) if cell.kind == "code"]
    assert code == ['EPOCHS = 1\nx = 2\nprint(EPOCHS * x)  # prints: 20']
    assert "short ones the test suite uses" in lesson_cells(demo, short=True)[0].source


def test_the_notebook_is_valid_folds_the_answers_and_runs_in_order(demo, capsys):
    notebook = nbformat.reads(export_lesson(demo, "ipynb", version="9.9"), as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata["mnistkit"] == {"lesson": "demo", "version": "9.9", "short": False}
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    last = notebook.cells[-1].source
    assert "1. Why? <details><summary>Answer</summary>Because\n   of this.</details>" in last
    namespace: dict = {}
    for cell in notebook.cells:
        if cell.cell_type == "code":
            exec(cell.source, namespace)  # noqa: S102 - running the notebook is the point
    assert capsys.readouterr().out == "20\n"


def test_the_export_is_the_same_every_time(demo):
    assert export_lesson(demo, "ipynb") == export_lesson(demo, "ipynb")


def test_the_script_is_percent_cells_that_python_runs(demo, tmp_path):
    script = export_lesson(demo, "py", short=True)
    assert script.startswith("# %% [markdown]\n# *Lesson 1")
    assert "\n# %%\nEPOCHS = 1\n" in script and "# 1. Why? *(Because\n#    of this.)*" in script
    path = tmp_path / "demo.py"
    path.write_text(script)
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, "2\n")


@pytest.mark.parametrize("lesson", load_lessons(), ids=lambda lesson: lesson.id)
def test_every_lesson_exports_its_runnable_code_unchanged(lesson):
    notebook = nbformat.reads(export_lesson(lesson, "ipynb"), as_version=4)
    nbformat.validate(notebook)
    cells = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    assert cells == [block.code.rstrip("\n") for block in code_blocks(lesson) if block.runs]
    markdown = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    assert "<!-- check" not in markdown and "<!-- ci" not in markdown and "<!-- no-run" not in markdown
    assert cells == [cell.source for cell in lesson_cells(lesson) if cell.kind == "code"]


def _expected_prints(lesson) -> list[str]:
    return [text for block in code_blocks(lesson) if block.runs for _, text in block.expected]


RUN_SCRIPTS = textwrap.dedent("""
    import contextlib, io, json, os, runpy, sys
    results = {}
    for name, script, folder in json.loads(sys.argv[1]):
        os.chdir(folder)
        buffer = io.StringIO()
        try:
            with contextlib.redirect_stdout(buffer):
                runpy.run_path(script, run_name="__main__")
        except BaseException as err:
            results[name] = {"error": f"{type(err).__name__}: {err}", "out": buffer.getvalue()}
        else:
            results[name] = {"error": None, "out": buffer.getvalue()}
    print(json.dumps(results))
""")


def test_the_exported_script_of_every_core_lesson_runs_and_prints_what_the_lesson_says(tmp_path):
    """Each core lesson's script, exported with --short, runs as `python lesson.py` would (one process for all)."""
    jobs = []
    for lesson in load_curriculum():
        folder = tmp_path / lesson.id
        folder.mkdir()
        script = folder / f"{lesson.id}.py"
        assert main(["lesson", "export", lesson.id, "--short", "--out", str(script)]) == 0
        jobs.append((lesson.id, str(script), str(folder)))
    assert len(jobs) == 13
    done = subprocess.run([sys.executable, "-c", RUN_SCRIPTS, json.dumps(jobs)], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.splitlines()[-1])
    for lesson in load_curriculum():
        result = results[lesson.id]
        assert result["error"] is None, f"{lesson.id}: {result['error']}\n{result['out'][-2000:]}"
        printed, position = [line.strip() for line in result["out"].splitlines()], 0
        for text in _expected_prints(lesson):
            assert text in printed[position:], f"{lesson.id}: the script never printed {text!r}"
            position = printed.index(text, position) + 1


def test_export_writes_the_file_and_says_how_to_run_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["lesson", "export", "pipeline"]) == 0
    assert "Wrote pipeline.ipynb. Run it with: jupyter lab pipeline.ipynb" in capsys.readouterr().out
    assert nbformat.read(tmp_path / "pipeline.ipynb", as_version=4).metadata["mnistkit"]["lesson"] == "pipeline"
    assert main(["lesson", "export", "pipeline", "--out", "scripts.py"]) == 0
    assert (tmp_path / "scripts.py").read_text().startswith("# %% [markdown]")
    (tmp_path / "folder").mkdir()
    assert main(["lesson", "export", "data", "--format", "py", "--out", "folder"]) == 0
    assert (tmp_path / "folder" / "data.py").is_file()


def test_export_never_replaces_a_file_without_force(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pipeline.ipynb").write_text("my edits")
    assert main(["lesson", "export", "pipeline"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "exists (it may hold your edits); pass --force" in err[0]
    assert (tmp_path / "pipeline.ipynb").read_text() == "my edits"
    assert main(["lesson", "export", "pipeline", "--force"]) == 0
    assert (tmp_path / "pipeline.ipynb").read_text().startswith("{")


@pytest.mark.parametrize(("args", "message"), [
    (["--format", "py", "--out", "x.ipynb"], "ends in .ipynb but --format is py"),
    (["--out", "missing/x.py"], "the folder missing does not exist"),
    (["--format", "pdf"], "invalid choice: 'pdf'"),
])
def test_a_bad_export_target_is_one_line_exit_2_and_writes_nothing(args, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert exit_code(["lesson", "export", "pipeline", *args]) == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_lesson_is_named(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["lesson", "export", "quantum"]) == 2
    assert "no lesson 'quantum'" in capsys.readouterr().err and list(tmp_path.iterdir()) == []


def test_out_dash_prints_the_export_and_nothing_else(capsys):
    assert main(["lesson", "export", "stack", "--format", "py", "--out", "-"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# %% [markdown]\n# *Lesson 1") and "Wrote" not in out
