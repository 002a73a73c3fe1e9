"""Every Python block of every lesson runs, in order, and says what it prints."""

import pytest

from mnistkit.curriculum.lesson_code import Check, LessonCodeFailure, code_blocks, run_lesson_code, steps
from mnistkit.curriculum.lessons import lessons_dir, load_curriculum, load_lessons, parse_lesson
from mnistkit.errors import ConfigError

HEAD = "---\nid: demo\ntitle: Demo\norder: 1\nminutes: 1\n---\n"


def demo(body: str, tmp_path):
    path = tmp_path / "demo.md"
    path.write_text(HEAD + body)
    return parse_lesson(path.read_text(), path)


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    """Lessons save pictures in the working directory; keep them out of the repository."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


LESSON_FILES = sorted(p for p in lessons_dir().glob("*.md") if p.name != "README.md")


@pytest.mark.parametrize("path", LESSON_FILES, ids=lambda path: path.stem)
def test_every_block_of_the_lesson_runs_and_prints_what_it_says(path, in_tmp):
    lesson = parse_lesson(path.read_text(encoding="utf-8"), path)
    run = run_lesson_code(lesson, short=True)
    runnable = [block for block in code_blocks(lesson) if block.runs]
    assert [r.block for r in run.blocks if r.output is not None] == runnable


def test_core_lessons_check_what_they_state():
    for lesson in load_curriculum():
        found = steps(lesson)
        checks = [step for step in found if isinstance(step, Check)]
        printed = [text for block in code_blocks(lesson) for _, text in block.expected]
        assert checks or printed, f"{lesson.id} checks none of its figures"


def test_every_skipped_block_says_why():
    for lesson in load_lessons():
        for block in code_blocks(lesson):
            if block.language == "python" and not block.runs:
                assert len(block.skip) > 10, f"{lesson.path}:{block.line}"


def test_blocks_share_one_namespace_in_order(tmp_path):
    lesson = demo("```python\nx = 20\n```\n\ntext <!-- check: x == 20 -->\n\n```python\nprint(x + 1)  # prints: 21\n```\n", tmp_path)
    run = run_lesson_code(lesson)
    assert run.namespace["x"] == 20 and run.output == "21\n"


def test_other_languages_and_no_run_blocks_are_skipped(tmp_path):
    lesson = demo("```bash\nexit 1\n```\n<!-- no-run: needs the network -->\n```python\nraise SystemExit\n```\n", tmp_path)
    assert [r.output for r in run_lesson_code(lesson).blocks] == [None, None]
    assert code_blocks(lesson)[1].skip == "needs the network"


def test_ci_markers_shorten_settings_only_under_test(tmp_path):
    lesson = demo("<!-- ci: EPOCHS=1, NAME='short' -->\n```python\nEPOCHS = 10\nNAME = 'long'\nprint(EPOCHS, NAME)\n```\n", tmp_path)
    assert run_lesson_code(lesson, short=True).output == "1 short\n"
    assert run_lesson_code(lesson, short=False).output == "10 long\n"


def test_a_ci_marker_for_a_name_the_block_never_sets_fails(tmp_path):
    lesson = demo("<!-- ci: STEPS=1 -->\n```python\nEPOCHS = 10\n```\n", tmp_path)
    with pytest.raises(LessonCodeFailure, match="sets STEPS, which the block never assigns"):
        run_lesson_code(lesson)


def test_a_wrong_prints_comment_fails_naming_its_line(tmp_path):
    lesson = demo("```python\nprint(1)\nprint(2)  # prints: 3\n```\n", tmp_path)
    with pytest.raises(LessonCodeFailure, match=r"demo\.md:9: the comment says the code prints '3'"):
        run_lesson_code(lesson)


def test_prints_comments_must_match_in_order(tmp_path):
    lesson = demo("```python\nprint('b')  # prints: a\nprint('a')  # prints: b\n```\n", tmp_path)
    with pytest.raises(LessonCodeFailure, match="prints 'b'"):
        run_lesson_code(lesson)


def test_a_false_check_fails_naming_its_line(tmp_path):
    lesson = demo("```python\ntotal = 5\n```\nThe total is 6. <!-- check: total == 6 -->\n", tmp_path)
    with pytest.raises(LessonCodeFailure, match=r"demo\.md:10: check `total == 6` is false"):
        run_lesson_code(lesson)


def test_an_error_points_at_the_markdown_line(tmp_path):
    lesson = demo("text\n\n```python\nx = 1\ny = x / 0\n```\n", tmp_path)
    with pytest.raises(LessonCodeFailure, match=r"demo\.md:10: the code block raised ZeroDivisionError") as failure:
        run_lesson_code(lesson)
    frame = failure.value.__cause__.__traceback__.tb_next
    assert (frame.tb_frame.f_code.co_filename, frame.tb_lineno) == (str(lesson.path), 11)


def test_classes_in_blocks_read_their_annotations_at_run_time(tmp_path):
    # clu reads annotations at run time; the runner must not impose `from __future__ import annotations`.
    lesson = demo("```python\nclass A:\n    x: int\nprint(A.__annotations__['x'] is int)  # prints: True\n```\n", tmp_path)
    run_lesson_code(lesson)


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ("<!-- no-run: -->\n```python\nx = 1\n```\n", "needs its reason"),
        ("<!-- no-run: offline -->\nsome prose\n```python\nx = 1\n```\n", "must be right before a code block"),
        ("<!-- ci: EPOCHS -->\n```python\nEPOCHS = 1\n```\n", "Python literals"),
        ("<!-- ci: EPOCHS=1 -->\n```bash\necho\n```\n", "only makes sense before a python block"),
        ("text <!-- check: x == -->\n", "holds a Python expression"),
        ("```python\nx = 1\n", "never closed"),
    ],
)
def test_malformed_markers_are_config_errors(body, complaint, tmp_path):
    with pytest.raises(ConfigError, match=complaint):
        steps(demo(body, tmp_path))


def test_core_lesson_code_fits_a_terminal():
    for lesson in load_curriculum():
        for block in code_blocks(lesson):
            for offset, line in enumerate(block.code.splitlines()):
                assert len(line) <= 92, f"{lesson.path}:{block.line + offset} is {len(line)} characters wide"


@pytest.mark.parametrize(
    "body",
    [
        "1. First, add:\n\n   ```python\n   total = 1 + 1\n   print(total)  # prints: 3\n   ```\n",
        "- ```python\n  total = 1 + 1\n  print(total)  # prints: 3\n  ```\n",
        "  ```python\n  total = 1 + 1\n  print(total)  # prints: 3\n  ```\n",
        "> ```python\n> total = 1 + 1\n> print(total)  # prints: 3\n> ```\n",
    ],
    ids=["list-item", "bullet", "indented", "quote"],
)
def test_python_blocks_run_wherever_markdown_draws_them(body, tmp_path):
    lesson = demo(body, tmp_path)
    [block] = code_blocks(lesson)
    assert block.runs and block.code == "total = 1 + 1\nprint(total)  # prints: 3\n"
    with pytest.raises(LessonCodeFailure, match=r"the comment says the code prints '3', but the block \(line \d+\) printed:\n2"):
        run_lesson_code(lesson)
    assert run_lesson_code(demo(body.replace("prints: 3", "prints: 2"), tmp_path)).output == "2\n"


def test_a_list_items_block_keeps_its_markdown_line_numbers(tmp_path):
    lesson = demo("Steps:\n\n1. Divide:\n\n   ```python\n   x = 1\n   y = x / 0\n   ```\n", tmp_path)
    assert code_blocks(lesson)[0].line == 12
    with pytest.raises(LessonCodeFailure, match=r"demo\.md:12: the code block raised ZeroDivisionError") as failure:
        run_lesson_code(lesson)
    frame = failure.value.__cause__.__traceback__.tb_next
    assert (frame.tb_frame.f_code.co_filename, frame.tb_lineno) == (str(lesson.path), 13)


def test_markers_apply_to_the_block_of_a_list_item(tmp_path):
    lesson = demo("1. Offline:\n\n   <!-- no-run: needs the network -->\n   ```python\n   raise SystemExit\n   ```\n", tmp_path)
    assert code_blocks(lesson)[0].skip == "needs the network"
    assert [r.output for r in run_lesson_code(lesson).blocks] == [None]


def test_an_indented_four_spaces_block_is_shown_not_run(tmp_path):
    lesson = demo("Text.\n\n    raise SystemExit\n", tmp_path)
    [block] = code_blocks(lesson)
    assert block.language == "" and not block.runs


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ("```python3\nprint(1)  # prints: 2\n```\n", r"demo\.md:7: a ```python3 block is drawn as Python but does not run"),
        ("```pycon\n>>> 1\n1\n```\n", "tag it ```python"),
        ("1. Step:\n\n   ```python\n   x = 1\n\nOutside the list.\n", r"demo\.md:9: this code block is never closed"),
    ],
)
def test_blocks_drawn_as_python_that_would_not_run_are_refused(body, complaint, tmp_path):
    with pytest.raises(ConfigError, match=complaint):
        steps(demo(body, tmp_path))
