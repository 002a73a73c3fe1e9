import sys

from mnistkit.cli import main

sys.exit(main())
