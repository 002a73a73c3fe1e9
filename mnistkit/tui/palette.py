"""The command palette's entries (ctrl+p): what the app can do, each named and explained for a learner."""

ACTIONS = (
    ("Show the lesson", "Switch to the lesson tab", "show_tab('lesson-tab')", False),
    ("Show the run", "Switch to the run tab: charts, digits, jit, log", "show_tab('run-tab')", False),
    ("Toggle the sidebar", "Hide or show the list of lessons", "toggle_sidebar", False),
    ("Next lesson", "Open the next lesson in the sidebar's order", "next_lesson", False),
    ("Previous lesson", "Open the previous lesson", "previous_lesson", False),
    ("Mark the lesson done", "Record this lesson as done in your progress", "mark_done", False),
    ("Open the lesson's exercise", "Write the code the lesson asks for; mnistkit checks it", "exercise", False),
    ("Choose what to train", "Pick the model, optimizer, metrics, hyper-parameters and data", "train", False),
    ("Train again", "Start a run with the last settings you chose", "train_again", False),
    ("Resume a run", "Continue a cancelled or interrupted run from its last checkpoint", "resume", False),
    ("Compare with an earlier run", "Draw an earlier run's test curves in grey under the current ones", "compare", False),
    ("Your first ten minutes", "Train, read what happened, change the learning rate, train again and compare",
     "welcome", False),
    ("Run the lesson's stage", "Run the runnable step that goes with this lesson", "run_stage", False),
    ("Cancel the run", "Stop training cleanly; the model keeps what it learnt", "cancel_run", True),
    ("Browse plugins", "Every plugin mnistkit found, what it provides, what failed", "plugins", True),
    ("Toggle light and dark", "Switch between the light and dark themes", "toggle_theme", True),
    ("Show the keys", "The help screen with every key", "help", True),
)
"""Command-palette entries: title, help, app action, and whether it is offered on every screen (else the main one)."""
