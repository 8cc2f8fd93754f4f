"""The project's compatibility layer for moto (pinned version: see ../moto_server.py).

One module per gap, each naming the gap it covers and documented in ../EMULATOR-GAPS.md. Every module
in this package is imported (and so applied) before moto's server starts.
"""

import importlib
import pkgutil


def apply_all():
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "apply"):
            module.apply()
