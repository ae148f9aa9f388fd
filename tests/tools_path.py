"""Import the contributor tools (tools/ is not a package) in tests."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))

import nbsource  # noqa: E402

__all__ = ["nbsource"]
