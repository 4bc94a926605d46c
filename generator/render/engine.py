"""Which engine renders documents: PACKETS_ENGINE (see the package's docstring), checked before a run
starts. Its own module, as every build asks it first, and most builds need nothing else of render."""

from __future__ import annotations

import os

from generator.findings import PacketsError

ENGINE_ENV = "PACKETS_ENGINE"
ENGINES = ("fast", "reference")


def check_engine() -> str:
    """Return the engine PACKETS_ENGINE chooses ('fast' when unset or empty); an unknown one is a PacketsError."""
    chosen = os.environ.get(ENGINE_ENV, "").strip().lower() or "fast"
    if chosen not in ENGINES:
        raise PacketsError(f"{ENGINE_ENV}={os.environ[ENGINE_ENV]!r} is not an engine. Fix: set it to 'reference' "
                           "(every document rendered by the reference engines) or 'fast', or unset it.")
    return chosen
