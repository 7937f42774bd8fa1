"""`python3 -m gradproof check|serve ...` (see gradproof.cli)."""
import sys

from .cli import main

sys.exit(main())
