"""Starts moto's server on 127.0.0.1 with the project's emulator compatibility layer (see
local/EMULATOR-GAPS.md): each patch names the gap it covers and is pinned to the moto version below."""

import sys

import moto

PINNED = "5.2.5"

if moto.__version__ != PINNED:
    sys.exit(f"moto {moto.__version__} found, {PINNED} expected (local/requirements.txt)")

from moto.server import main  # noqa: E402

if __name__ == "__main__":
    main(sys.argv[1:])
