"""Starts moto's server on 127.0.0.1 with the project's emulator compatibility layer
(local/moto_compat, documented in local/EMULATOR-GAPS.md), pinned to the moto version below."""

import os
import sys

import moto

PINNED = "5.2.5"

if moto.__version__ != PINNED:
    sys.exit(f"moto {moto.__version__} found, {PINNED} expected (local/requirements.txt)")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import moto_compat  # noqa: E402

moto_compat.apply_all()

from moto.server import main  # noqa: E402

if __name__ == "__main__":
    main(sys.argv[1:])
