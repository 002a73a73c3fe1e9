"""A run on disk: its configuration, folder, checkpoints, resume, and trained models."""
