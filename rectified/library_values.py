"""What TensorFlow and Keras return, recorded in data/library_values.json, for notebooks 02 and 03.

The notebooks compare the student's functions with these values instead of importing TensorFlow (seconds and
hundreds of megabytes per kernel). data/make_library_values.py wrote the file from the pinned TensorFlow and
Keras; `python data/make_library_values.py --check` recomputes every value with the installed libraries and
reports any difference, and tests/test_library_values.py does the same.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from rectified.data import DATA_DIR

PATH = DATA_DIR / "library_values.json"


def _arrays(value):
    """Lists of numbers (nested to any depth) become float64 arrays; dicts and other lists are walked."""
    if isinstance(value, dict):
        return {key: _arrays(item) for key, item in value.items()}
    if isinstance(value, list):
        if value and all(isinstance(item, dict | str) for item in value):
            return [_arrays(item) for item in value]
        return np.array(value, dtype=float)
    return value


def load_library_values(path: Path = PATH) -> dict:
    """The recorded values as plain dicts, lists and float64 arrays.

    Top level: "versions" ({"tensorflow": ..., "keras": ...}), "02_relu_family", "03_derivatives" and
    "06_dying_relu"; each notebook's part has its "inputs" (name -> array) and the values the libraries
    returned on them.
    """
    return _arrays(json.loads(Path(path).read_text()))


def in_keras_order(named: dict) -> list:
    """A network's recorded arrays "weights[0]", "weights[1]", ... as a list in the order of Keras'
    model.get_weights() (kernel, bias, kernel, ...); other keys of the dict are left out."""
    count = sum(1 for key in named if key.startswith("weights["))
    return [named[f"weights[{i}]"] for i in range(count)]
