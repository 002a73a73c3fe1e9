import sys

from mnistkit.cli import command

sys.exit(command())
