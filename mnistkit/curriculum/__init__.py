"""What is taught: lessons, progress, the runnable stages and the lessons' code."""
