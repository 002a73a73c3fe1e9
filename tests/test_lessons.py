"""The curriculum's files parse, hang together, and keep each user's progress."""

import functools
import itertools
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mnistkit.curriculum import stages
from mnistkit.curriculum.lessons import hide_answers, lessons_dir, load_curriculum, load_lessons, parse_lesson
from mnistkit.curriculum.loader import load, load_plugin_lessons
from mnistkit.curriculum.progress import ProgressStore
from mnistkit.errors import ConfigError


@functools.cache
def curriculum():
    """The curriculum over the installed plugins, as every front end loads it."""
    from mnistkit.host.loading import load_registry

    return load(load_registry())


def get_lesson(lesson_id: str):
    return curriculum().lesson(lesson_id)

CORE_STAGES = ["setup", "data", "pipeline", "model", "forward", "metrics", "optimizer",
               "train_step", "evaluate", "seeds", "train", "curves", "predict"]

LESSON = """---
id: demo
title: "Demo: a lesson"
order: 3
stage: data
minutes: 5
prerequisites: [stack, data]
---

# Demo

Text.

## Check yourself

1. First question? *(First answer.)*
2. A question that goes on
   over two lines? *(Second answer, with (parentheses).)*

## After

1. Not a question.
"""


def test_every_lesson_file_parses():
    files = sorted(p for p in lessons_dir().glob("*.md") if p.name != "README.md")
    assert len(load_lessons()) == len(files)


def test_the_curriculum_is_the_tutorial_in_order_one_stage_per_lesson():
    core = load_curriculum()
    assert [lesson.order for lesson in core] == list(range(1, len(core) + 1))
    assert [lesson.stage for lesson in core] == CORE_STAGES


def test_core_lessons_are_named_after_their_ids_and_plugin_lessons_come_after():
    for lesson in load_lessons():
        if lesson.is_plugin_lesson:
            assert lesson.id.startswith("plugin-") and lesson.order >= 100, lesson.path
        else:
            assert lesson.path.stem == lesson.id and lesson.order < 100


def test_ids_and_orders_are_unique():
    lessons = load_lessons()
    assert len({lesson.id for lesson in lessons}) == len(lessons)
    assert len({lesson.order for lesson in lessons}) == len(lessons)


def test_prerequisites_name_earlier_lessons():
    lessons = load_lessons()
    order = {lesson.id: lesson.order for lesson in lessons}
    for lesson in lessons:
        for prerequisite in lesson.prerequisites:
            assert order[prerequisite] < lesson.order, f"{lesson.id} needs the later {prerequisite}"


def test_each_core_lesson_builds_on_the_one_before():
    core = load_curriculum()
    for before, lesson in itertools.pairwise(core):
        assert lesson.prerequisites == (before.id,), lesson.id


def test_every_stage_a_lesson_names_exists():
    for lesson in load_lessons():
        if lesson.stage is not None:
            assert lesson.stage in stages.STAGES, f"{lesson.path}: no stage {lesson.stage!r}"


def test_relative_links_point_to_lesson_files():
    for lesson in load_lessons():
        for target in re.findall(r"\]\(([^)\s]+)\)", lesson.body):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            path = (lesson.path.parent / target.split("#")[0]).resolve()
            assert path.is_file(), f"{lesson.path}: the link to {target} leads nowhere"


def test_every_lesson_asks_two_or_three_questions_with_answers():
    for lesson in load_lessons():
        assert 2 <= len(lesson.questions) <= 3, lesson.path
        assert all(q.question.endswith("?") and q.answer for q in lesson.questions), lesson.path


def test_core_lessons_have_the_sections_the_issue_asks_for():
    for lesson in load_curriculum():
        what_goes_wrong = r"^## (What goes wrong|What else breaks|Reading the|About the original|The original's)"
        assert re.search(what_goes_wrong, lesson.body, re.MULTILINE), lesson.id
        assert "## Try next" in lesson.body or "## Where to go from here" in lesson.body, lesson.id
        assert 60 <= len(lesson.body.splitlines()) <= 260, lesson.id


@pytest.mark.parametrize(
    ("lesson_id", "fact"),
    [
        ("pipeline", "scores 9,984 of the 10,000 test images"),
        ("pipeline", "repeat(num_epochs).shuffle(1024)"),
        ("evaluate", "9,984 of 10,000"),
        ("train-step", "second forward pass"),
        ("predict", "read a global variable, `test_batch`"),
        ("stack", "there is no section 8"),
        ("stack", "flax.experimental.nnx"),
    ],
)
def test_the_original_tutorials_mistakes_are_stated(lesson_id, fact):
    assert fact in " ".join(get_lesson(lesson_id).body.split())


def test_the_stack_lesson_counts_the_lessons_right():
    assert len(load_curriculum()) == 13 and "In thirteen short lessons" in get_lesson("stack").body


def test_the_data_lessons_figures_for_full_mnist_hold(data_real_mnist):
    import numpy as np

    from mnistkit.data.sources import load_idx_dir

    full = load_idx_dir(data_real_mnist)
    body = " ".join(get_lesson("data").body.split())
    assert "60,000 images to learn from and 10,000 to test on" in body
    assert (len(full.train_labels), len(full.test_labels)) == (60_000, 10_000)
    assert "Full MNIST is close to balanced but not exactly" in body
    counts = np.bincount(full.train_labels, minlength=10)
    assert len(set(counts.tolist())) > 1 and counts.min() > 0.8 * counts.max()


def test_a_lesson_parses_into_its_fields(tmp_path):
    lesson = parse_lesson(LESSON, tmp_path / "demo.md")
    assert (lesson.id, lesson.title, lesson.order, lesson.stage, lesson.minutes) == ("demo", "Demo: a lesson", 3, "data", 5)
    assert lesson.prerequisites == ("stack", "data")
    assert lesson.body.startswith("\n# Demo") and lesson.body_line == 9
    assert [q.answer for q in lesson.questions] == ["First answer.", "Second answer, with (parentheses)."]
    assert lesson.questions[1].question == "A question that goes on over two lines?"


def test_hidden_answers_leave_the_questions():
    shown = hide_answers(parse_lesson(LESSON, "demo.md").body, "*(hidden)*")
    assert "First question? *(hidden)*" in shown and "First answer" not in shown
    assert "1. Not a question." in shown


@pytest.mark.parametrize(
    ("text", "line", "complaint"),
    [
        ("# no front matter\n", 1, "starts with a front-matter block"),
        ("---\nid: a\n", 1, "not closed"),
        ("---\nid: a\ntitle: T\norder: 1\n---\n", 1, "lacks minutes"),
        ("---\nid: a\ncolour: red\n---\n", 3, "unknown front-matter key 'colour'"),
        ("---\nid: a\nid: b\n---\n", 3, "given twice"),
        ("---\nid: a\ntitle: T\norder: first\nminutes: 1\n---\n", 4, "order must be a whole number"),
        ("---\nid: a\ntitle: T\norder: 1\nminutes: 0\n---\n", 5, "minutes must be a whole number of at least 1"),
        ("---\nid: A B\n---\n", 2, "id must be lowercase"),
        ("---\nprerequisites: data\n---\n", 2, "must be a list"),
        ("---\njust words\n---\n", 2, "expected `key: value`"),
        ("---\nid: a\ntitle: T\norder: 1\nminutes: 1\n---\n## Check yourself\n\n1. No answer?\n", 9, "answer in *(...)*"),
    ],
)
def test_bad_lessons_name_the_file_and_line(text, line, complaint, tmp_path):
    with pytest.raises(ConfigError) as error:
        parse_lesson(text, tmp_path / "bad.md")
    assert str(error.value).startswith(f"{tmp_path / 'bad.md'}:{line}: ")
    assert complaint in str(error.value)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("-:[],\"' \n\t#*()1aZ.\u0661")), max_size=80))
def test_any_text_parses_or_raises_a_config_error(text):
    try:
        parse_lesson("---\n" + text, "fuzz.md")
        parse_lesson(text, "fuzz.md")
    except ConfigError as error:
        assert str(error).startswith("fuzz.md:")


def test_duplicate_ids_and_unknown_prerequisites_are_refused(tmp_path):
    (tmp_path / "a.md").write_text("---\nid: a\ntitle: A\norder: 1\nminutes: 1\n---\n")
    (tmp_path / "b.md").write_text("---\nid: a\ntitle: B\norder: 2\nminutes: 1\n---\n")
    with pytest.raises(ConfigError, match="lesson id 'a' is also used"):
        load_lessons(tmp_path)
    (tmp_path / "b.md").write_text("---\nid: b\ntitle: B\norder: 2\nminutes: 1\nprerequisites: [c]\n---\n")
    with pytest.raises(ConfigError, match="prerequisite 'c' is not a lesson id"):
        load_lessons(tmp_path)


def test_unknown_lesson_ids_list_the_known_ones():
    with pytest.raises(ConfigError, match="no lesson 'nope'; the lessons are: stack, data"):
        get_lesson("nope")


def test_next_lesson_follows_the_order_and_ends():
    assert curriculum().following("stack").id == "data"
    assert curriculum().following("predict").id.startswith("plugin-")
    assert curriculum().following(list(curriculum().ordered())[-1].id) is None


def test_plugin_lessons_come_from_the_registry_with_their_plugin():
    from mnistkit.host.loading import load_registry

    problems: list[str] = []
    found = load_plugin_lessons(load_registry(), problems)
    assert problems == []
    assert "plugin-cnn" in [lesson.id for lesson in found["models"]]
    assert all(lesson.plugin == name for name, lessons in found.items() for lesson in lessons)


def test_progress_starts_empty_and_remembers_the_last_lesson(tmp_path):
    store = ProgressStore(tmp_path / "progress.json")
    assert store.status("data") == "not started" and store.last_lesson() is None
    store.mark("data", "current")
    assert store.status("data") == "current" and store.last_lesson() == "data"
    store.mark("data", "done")
    store.mark("pipeline", "current")
    assert (store.status("data"), store.status("pipeline")) == ("done", "current")
    store.mark("data", "not started")
    assert store.status("data") == "not started" and store.last_lesson() == "pipeline"


def test_progress_is_shared_through_one_file(tmp_path):
    ProgressStore(tmp_path / "p.json").mark("model", "done")
    assert ProgressStore(tmp_path / "p.json").status("model") == "done"
    saved = json.loads((tmp_path / "p.json").read_text())
    assert saved == {"version": 1, "done": ["model"], "last": "model", "exercises": {}}
    assert [p.name for p in tmp_path.iterdir()] == ["p.json"]


def test_progress_lives_in_mnistkits_home_by_default(monkeypatch, tmp_path):
    monkeypatch.setenv("MNISTKIT_HOME", str(tmp_path / "home"))
    ProgressStore().mark("stack", "done")
    assert (tmp_path / "home" / "progress.json").is_file()


@pytest.mark.parametrize("content", ["{not json", "[]", '{"done": "stack", "last": 3}'])
def test_an_unreadable_progress_file_counts_as_no_progress(content, tmp_path):
    path = tmp_path / "progress.json"
    path.write_text(content)
    store = ProgressStore(path)
    assert store.status("stack") == "not started" and store.last_lesson() is None
    store.mark("stack", "done")
    assert store.status("stack") == "done"


def test_an_unknown_status_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="unknown lesson status 'finished'"):
        ProgressStore(tmp_path / "p.json").mark("stack", "finished")


def test_importing_lessons_stays_cheap():
    import subprocess
    import sys

    code = ("import sys, mnistkit.curriculum.lessons, mnistkit.curriculum.lesson_code, mnistkit.curriculum.stages; "
            "print([m for m in ('jax', 'flax', 'tensorflow', 'numpy', 'rich') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"



def test_an_answer_spanning_lines_is_hidden_whole():
    body = "## Check yourself\n\n1. Why? *(Because\n   of this.)*\n2. And? *(So.)*\n"
    assert hide_answers(body, "*(?)*") == "## Check yourself\n\n1. Why? *(?)*\n2. And? *(?)*\n"


def front_matter(*lines: str) -> str:
    return "---\n" + "\n".join(lines) + "\n---\n\nBody.\n"


def test_the_front_matter_is_read_as_yaml(tmp_path):
    lesson = parse_lesson(front_matter('id: a', 'title: "A \\"quoted\\" word"  # not part of it', 'order: 3',
                                       'minutes: 2', 'prerequisites:', '  - data', '  - "model"', 'stage: ~'),
                          tmp_path / "a.md")
    assert (lesson.title, lesson.prerequisites, lesson.stage) == ('A "quoted" word', ("data", "model"), None)
    assert parse_lesson(front_matter("id: a", "title: Plain # a comment", "order: 1", "minutes: 1"), "a.md").title == "Plain"


@pytest.mark.parametrize("text", ["010", "0x1A", "0o7", "1_000"])
def test_an_order_that_yaml_readers_disagree_on_is_refused(text):
    # PyYAML (YAML 1.1) reads 010 as octal 8, GitHub's renderer (YAML 1.2) as 10: neither guess is safe.
    with pytest.raises(ConfigError, match=f"a.md:4: write order as a plain decimal number, got '{text}'"):
        parse_lesson(front_matter("id: a", "title: T", f"order: {text}", "minutes: 1"), "a.md")
    assert parse_lesson(front_matter("id: a", "title: T", "order: 10", "minutes: 1"), "a.md").order == 10


@pytest.mark.parametrize(
    ("lines", "line", "complaint"),
    [
        (("id: a", "title: Don't: stop", "order: 1", "minutes: 1"), 3, "the front matter is not valid YAML (mapping values are not allowed"),
        (("id: a", "title: T", "order: '3'", "minutes: 1"), 4, "order must be a whole number of at least 0, got '3'"),
        (("id: a", "title: T", "order: true", "minutes: 1"), 4, "order must be a whole number of at least 0, got True"),
        (("id: a", "title: T", "order: 1.5", "minutes: 1"), 4, "order must be a whole number of at least 0, got 1.5"),
        (("id: a", "title: 1984", "order: 1", "minutes: 1"), 3, "title must be text, got 1984"),
        (("id: a", "title:", "order: 1", "minutes: 1"), 3, "title is empty"),
        (("id: a", "title: T", "order: 1", "minutes: 1", "prerequisites: [data, 3]"), 6, "prerequisite 3 is not a lesson id"),
    ],
)
def test_front_matter_that_yaml_reads_differently_is_refused_in_one_line(lines, line, complaint, tmp_path):
    with pytest.raises(ConfigError) as error:
        parse_lesson(front_matter(*lines), tmp_path / "bad.md")
    assert str(error.value).startswith(f"{tmp_path / 'bad.md'}:{line}: ") and complaint in str(error.value)
    assert "\n" not in str(error.value)


def test_a_heading_inside_a_list_items_code_block_is_not_the_check_yourself_section():
    body = "1. Write:\n\n   ```text\n   ## Check yourself\n\n   1. Fake? *(no)*\n   ```\n\n## Check yourself\n\n1. Real? *(Yes.)*\n"
    lesson = parse_lesson("---\nid: a\ntitle: T\norder: 1\nminutes: 1\n---\n" + body, "a.md")
    assert [q.answer for q in lesson.questions] == ["Yes."]
    assert "1. Fake? *(no)*" in hide_answers(lesson.body, "*(?)*")
