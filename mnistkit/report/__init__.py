"""Showing a run to a person: terminal views, plots and the digit grid."""
