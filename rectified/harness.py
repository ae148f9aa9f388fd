"""The one harness of the hidden tests: a probe that runs in the student's kernel, a judge that runs elsewhere.

A test cell's hidden region has three parts (../shared/GRADING.md, section 6):

    ### BEGIN HIDDEN TESTS
    <fixtures: the grader's inputs, plain NumPy, no student names>
    ### PROBE
    with harness.Probe("test_relu", globals()) as probe:
        probe.elementwise("relu")          # calls the student's relu on the standard inputs
    ### JUDGE
    judge = harness.Judge.receive("test_relu")
    judge.elementwise("relu", reference)   # decides, and words the message
    ### END HIDDEN TESTS

The probe only calls the student's functions and reports what came back as plain data: arrays as raw
bytes with a numeric dtype, numbers, strings, containers of these, and the type and message of an
exception. It never needs a reference answer. The report travels as one JSON display output of the test
cell. The grading command (autograder.judging) executes fixtures and probe in the sandboxed kernel, then
reads that output as data and runs fixtures and judge in its own process: nothing the student's code does
in the kernel can change how the judge decides, only what the student's functions computed. Plain nbgrader
runs the whole cell in the kernel; the report then makes the same round trip through JSON, so both paths
judge the same data, without the guarantee.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import math
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

MIME = "application/vnd.rectified.probe+json"
VERSION = 1
REPORT_BYTES = 8 << 20  # a report larger than this is not read
ARRAY_BYTES = 4 << 20  # an array larger than this is reported by shape and dtype only
DEPTH = 8  # containers nested deeper than this are reported as opaque
ITEMS = 10_000  # containers longer than this are reported as opaque
TEXT = 500  # characters kept of a string, an exception message or a repr
NUMERIC_KINDS = "biufc"
RTOL, ATOL = 1e-6, 1e-12  # ../shared/GRADING.md, section 2
INPUT_RTOL = 1e-9  # fixtures recomputed in another process may differ in the last bits (BLAS)

# The reports of the cells probed in this process, for the judge of plain nbgrader (which runs in the same
# kernel); the grading command fills it in its own process from the cells' outputs instead.
INBOX: dict[str, str] = {}


class Tampered(AssertionError):
    """The report shows that the probe did not run as written: the grading command flags the submission."""


class Opaque:
    """A value that is not plain data (or too large): what the judge knows of it is its type and repr."""

    def __init__(self, type_name: str, text: str) -> None:
        self.type_name = type_name
        self.text = text

    def __repr__(self) -> str:
        return f"<{self.type_name}: {self.text}>"


ANY = object()  # an argument the judge does not know in advance (a value the student's code made)

# ------------------------------------------------------------------------------------------ plain data


def _type_name(value: object) -> str:
    kind = type(value)
    module = getattr(kind, "__module__", "") or ""
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"


def _short(text: object) -> str:
    try:
        text = str(text)
    except Exception:  # a hostile __str__
        text = "(unprintable)"
    return text if len(text) <= TEXT else text[: TEXT - 3] + "..."


def _safe_repr(value: object) -> str:
    try:
        return _short(repr(value))
    except Exception:
        return "(unprintable)"


def _encode_array(array: np.ndarray, type_name: str) -> dict:
    # Unbound ndarray methods: a subclass cannot change what is read (views, copies, tobytes).
    base = np.ndarray.view(array, np.ndarray)
    if base.dtype.kind not in NUMERIC_KINDS or base.dtype.itemsize > 16:
        return {"opaque": type_name, "repr": f"array of dtype {base.dtype} and shape {base.shape}"}
    if base.nbytes > ARRAY_BYTES:
        return {"opaque": type_name, "repr": f"array of dtype {base.dtype} and shape {base.shape}, too large"}
    little = np.ndarray.astype(base, base.dtype.newbyteorder("<"), order="C")
    data = base64.b64encode(np.ndarray.tobytes(little)).decode("ascii")
    return {"array": little.dtype.str, "shape": list(base.shape), "data": data, "type": type_name}


def encode(value: object, depth: int = 0) -> object:
    """value as JSON-able plain data; never raises, whatever the value is."""
    try:
        return _encode(value, depth)
    except Exception as error:  # a hostile __len__, __iter__, __getitem__ ...
        return {"opaque": _type_name(value), "repr": f"could not be read: {_short(error)}"}


def _encode(value: object, depth: int) -> object:
    kind = type(value)
    if value is None or kind is bool:
        return value
    if kind is int:
        return value if abs(value) < 2**63 else {"opaque": "int", "repr": _safe_repr(value)}
    if kind is float:
        return value if math.isfinite(value) else {"float": repr(value)}
    if kind is str:
        return {"str": _short(value)}
    if isinstance(value, np.generic) and not isinstance(value, np.object_):
        return {"scalar": _encode_array(np.array(value), _type_name(value))}
    if isinstance(value, np.ndarray):
        return _encode_array(value, _type_name(value))
    if depth >= DEPTH:
        return {"opaque": _type_name(value), "repr": "nested too deep"}
    if kind in (list, tuple):
        if len(value) > ITEMS:
            return {"opaque": kind.__name__, "repr": f"{len(value)} items, too many"}
        return {kind.__name__: [_encode(v, depth + 1) for v in value]}
    if kind is dict:
        if len(value) > ITEMS:
            return {"opaque": "dict", "repr": f"{len(value)} items, too many"}
        items = dict.items(value)
        return {"dict": [[_encode(k, depth + 1), _encode(v, depth + 1)] for k, v in items]}
    return {"opaque": _type_name(value), "repr": _safe_repr(value)}


def _decode_array(data: dict) -> np.ndarray:
    dtype = np.dtype(str(data["array"]))
    if dtype.kind not in NUMERIC_KINDS or dtype.itemsize > 16 or dtype.byteorder not in "<|=":
        raise ValueError(f"dtype {dtype} is not plain numeric data")
    shape = tuple(int(n) for n in data["shape"])
    if any(n < 0 for n in shape) or len(shape) > 32:
        raise ValueError(f"bad shape {shape}")
    raw = base64.b64decode(str(data["data"]), validate=True)
    if len(raw) != math.prod(shape) * dtype.itemsize:
        raise ValueError("array data does not match its shape")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def decode(data: object, depth: int = 0) -> object:
    """The value that encode() described. Raises ValueError on anything encode() cannot have written."""
    if depth > DEPTH + 2:
        raise ValueError("nested too deep")
    if data is None or type(data) in (bool, int, float):
        return data
    if type(data) is not dict or len(data) == 0:
        raise ValueError(f"unexpected {type(data).__name__} in a report")
    if "array" in data:
        return _decode_array(data)
    tags = [key for key in data if key not in ("type", "repr")]
    if len(tags) != 1:
        raise ValueError(f"unknown entry {sorted(data)} in a report")
    tag, body = tags[0], data[tags[0]]
    if tag == "str":
        return str(body)
    if tag == "float":
        if body not in ("nan", "inf", "-inf"):
            raise ValueError(f"bad float {body!r}")
        return float(body)
    if tag == "scalar":
        return _decode_array(body)[()]
    if tag in ("list", "tuple"):
        if type(body) is not list:
            raise ValueError("bad sequence")
        items = [decode(v, depth + 1) for v in body]
        return items if tag == "list" else tuple(items)
    if tag == "dict":
        if type(body) is not list:
            raise ValueError("bad mapping")
        decoded = {}
        for pair in body:
            if type(pair) is not list or len(pair) != 2:
                raise ValueError("bad mapping item")
            key = decode(pair[0], depth + 1)
            if not isinstance(key, str | int | float | bool | tuple) and key is not None:
                raise ValueError("bad mapping key")
            decoded[key] = decode(pair[1], depth + 1)
        return decoded
    if tag == "opaque":
        return Opaque(str(body), str(data.get("repr", "")))
    raise ValueError(f"unknown entry {sorted(data)} in a report")


# ------------------------------------------------------------------------------------------ inputs


def elementwise_inputs(avoid: Sequence[float] = ()) -> list[np.ndarray]:
    """The standard inputs of an elementwise function: signs mixed (first element negative), 0-d to 3-d.

    Every point lies at least 0.05 away from the kinks in `avoid`; kinks are checked on their own.
    """
    rng = np.random.default_rng(2024)

    def away(values: np.ndarray) -> np.ndarray:
        values = np.array(values, dtype=float)
        for kink in avoid:
            values[np.abs(values - kink) < 0.05] += 0.1
        return values

    matrix = away(rng.uniform(-8, 8, size=(4, 3)))
    matrix[0, 0] = -2.0
    cube = away(rng.uniform(-8, 8, size=(2, 3, 4)))
    cube[0, 0, 0] = -3.25
    return [
        away(np.array(-1.25)),
        away(np.array(2.5)),
        away(np.array([-2.5, 3.0, -0.25, 0.75, 5.5, 7.0, -8.0, 0.3])),
        matrix,
        cube,
        away(np.array([0.5, 1.0, 2.0, 6.5, 10.0])),
        np.array([-3, -1, 2, 4, 7]),  # integers: the result must still be float
        np.array([-2.0, -0.5, 0.5, 3.0, 7.5], dtype=np.float32),
    ]


PYTHON_NUMBERS = (-2.5, 3.0, -2, 3)


# ------------------------------------------------------------------------------------------ the probe


class _Raised:
    """What a probed call gives back to the probe's own code when the student's function raised."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def __getitem__(self, key: object) -> _Raised:
        return self

    def __repr__(self) -> str:
        return f"<raised {type(self.error).__name__}>"


class Probe:
    """Calls the student's functions on the grader's inputs and reports what came back; decides nothing.

    Use as a context manager: the report is sent when the block ends, even when the probe's own code
    fails part way (the judge then sees the calls made so far, and why it stopped).
    """

    def __init__(self, cell_id: str, namespace: Mapping[str, object]) -> None:
        self.cell_id = cell_id
        self.namespace = namespace
        self.calls: list[dict] = []
        self.values: dict[str, object] = {}
        self.stopped = ""

    def __enter__(self) -> Probe:
        return self

    def __exit__(self, kind, error, traceback) -> bool:
        if error is not None:
            self.stopped = f"{kind.__name__}: {_short(error)}"
        self.send()
        # A timeout's interrupt still stops the cell; anything else the probe met is for the judge.
        return error is not None and not isinstance(error, KeyboardInterrupt)

    def function(self, name: str) -> Callable | None:
        """The student's function called name, or None when the notebook has none."""
        found = self.namespace.get(name)
        return found if callable(found) else None

    def call(self, label: str, name: str, *args: object, **kwargs: object) -> object:
        """Call the student's function `name` with these arguments and record it under label.

        Returns what the function returned (for a later call that takes it), or a stand-in when it
        raised. Output and warnings of the call are swallowed: nbgrader gives 0 to a cell that writes to
        stderr, and the specs allow warnings.
        """
        record: dict = {"label": label, "function": name, "args": encode(list(args))}
        record["kwargs"] = encode(dict(kwargs))
        function = self.function(name)
        result: object
        if function is None:
            record["missing"] = True
            self.calls.append(record)
            return _Raised(NameError(f"name {name!r} is not defined"))
        sink = io.StringIO()
        try:
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    result = function(*args, **kwargs)
        except KeyboardInterrupt:
            raise
        except BaseException as error:  # SystemExit too: it is the student's function that stopped
            record["raised"] = {"type": type(error).__name__, "message": _short(error)}
            result = _Raised(error)
        else:
            record["returned"] = encode(result)
            record["shares"] = [_shares(result, arg) for arg in args]
        record["args_after"] = encode(list(args))
        record["kwargs_after"] = encode(dict(kwargs))
        self.calls.append(record)
        return result

    def record(self, label: str, value: object) -> None:
        """Report a value the probe's code computed from the student's results (a count, a flag)."""
        self.values[label] = encode(value)

    @contextlib.contextmanager
    def replaced(self, name: str, stand_in: Callable) -> Iterator[None]:
        """Within the block, the notebook's global `name` is stand_in (the givens of a later exercise)."""
        namespace = self.namespace
        had, before = name in namespace, namespace.get(name)
        namespace[name] = stand_in  # type: ignore[index]
        try:
            yield
        finally:
            if had:
                namespace[name] = before  # type: ignore[index]
            else:
                namespace.pop(name, None)  # type: ignore[attr-defined]

    def elementwise(self, name: str, avoid: Sequence[float] = (), tag: str = "", **kwargs: object) -> None:
        """The standard calls of an elementwise function (see elementwise_inputs), with these parameters.

        tag goes into every label (name/<tag>array0, ...), so the battery can run once per parameter value.
        """
        for index, x in enumerate(elementwise_inputs(avoid)):
            self.call(f"{name}/{tag}array{index}", name, x, **kwargs)
        for index, number in enumerate(PYTHON_NUMBERS):
            self.call(f"{name}/{tag}number{index}", name, number, **kwargs)

    def points(self, name: str, xs: Sequence[object], tag: str = "point", **kwargs: object) -> None:
        """One call of `name` per input in xs (labels name/tag0, name/tag1, ...)."""
        for index, x in enumerate(xs):
            self.call(f"{name}/{tag}{index}", name, x, **kwargs)

    def large(self, name: str, xs: Sequence[float], tag: str = "", **kwargs: object) -> None:
        """Large inputs where the spec promises finite results: once as one array, then one by one."""
        self.call(f"{name}/{tag}large", name, np.array(xs, dtype=float), **kwargs)
        self.points(name, xs, tag=f"{tag}large", **kwargs)

    def report(self) -> str:
        """The report as JSON text."""
        report = {
            "version": VERSION,
            "cell": self.cell_id,
            "calls": self.calls,
            "values": self.values,
            "stopped": self.stopped,
        }
        return json.dumps(report, allow_nan=False, separators=(",", ":"))

    def send(self) -> None:
        """Display the report as the cell's output (the grading command reads it there)."""
        text = self.report()
        INBOX[self.cell_id] = text
        try:
            from IPython import get_ipython
            from IPython.display import display

            if get_ipython() is None:  # outside a kernel (the graders' own tests): the inbox is enough
                return
            summary = f"(report of the hidden tests of {self.cell_id}: {len(self.calls)} calls)"
            display({MIME: {"report": text}, "text/plain": summary}, raw=True)
        except ImportError:
            pass


def _shares(result: object, arg: object) -> bool:
    """True when an array in the result (or in a tuple, list or dict of them) shares memory with the argument."""
    targets = list(dict.values(arg)) if type(arg) is dict else [arg]
    results = (
        list(dict.values(result))
        if type(result) is dict
        else list(result)
        if type(result) in (tuple, list)
        else [result]
    )
    try:
        return any(
            isinstance(r, np.ndarray)
            and isinstance(t, np.ndarray)
            and np.shares_memory(np.ndarray.view(r, np.ndarray), np.ndarray.view(t, np.ndarray))
            for r in results
            for t in targets
        )
    except Exception:
        return False


# ------------------------------------------------------------------------------------------ the judge


def describe(value: object) -> str:
    """A short description of a value for a message: its shape and dtype, or its repr."""
    if isinstance(value, np.ndarray):
        if value.size <= 6:
            return f"{value.tolist()!r} (shape {value.shape}, dtype {value.dtype})"
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, Opaque):
        return f"a {value.type_name} ({value.text})"
    if isinstance(value, list | tuple | dict) and len(repr(value)) > 80:
        return f"a {type(value).__name__} of {len(value)} items"
    return _short(repr(value))


def shown(value: object) -> str:
    """describe(value), with the shape added once for a value that is not an array but has one (a list)."""
    shape = shape_of(value)
    if shape is None or isinstance(value, np.ndarray) or as_float_array(value) is None:
        return describe(value)
    return f"{describe(value)} (shape {shape})"


def keys_text(mapping: Mapping) -> str:
    """A mapping's keys for a message, sorted: 'W1', 'b1'."""
    return ", ".join(sorted(map(repr, mapping)))


def shape_of(value: object) -> tuple | None:
    """np.shape of a plain value, None when it has none."""
    if isinstance(value, Opaque):
        return None
    try:
        return np.shape(value)
    except Exception:
        return None


def as_float_array(value: object) -> np.ndarray | None:
    """value as a float array, None when it is not numeric data."""
    if isinstance(value, Opaque):
        return None
    try:
        array = np.asarray(value)
    except Exception:
        return None
    if array.dtype.kind not in NUMERIC_KINDS or array.dtype.kind == "c":
        return None
    return array.astype(float)


def _alike(got: object, want: object, rtol: float) -> bool:
    """True when got reads as want: same structure, types, shapes and dtypes; floats within rtol (0: exactly)."""
    if want is ANY:
        return True
    if isinstance(want, np.ndarray) or isinstance(got, np.ndarray):
        if not (isinstance(want, np.ndarray) and isinstance(got, np.ndarray)):
            return False
        if got.shape != want.shape or got.dtype != want.dtype:
            return False
        if want.dtype.kind in "fc" and rtol:
            return bool(np.allclose(got, want, rtol=rtol, atol=0.0, equal_nan=True))
        return bool(np.array_equal(got, want, equal_nan=want.dtype.kind in "fc"))
    if isinstance(want, dict):
        return (
            isinstance(got, dict)
            and got.keys() == want.keys()
            and all(_alike(got[k], want[k], rtol) for k in want)
        )
    if isinstance(want, list | tuple):
        return (
            type(got) is type(want)
            and len(got) == len(want)
            and all(_alike(g, w, rtol) for g, w in zip(got, want, strict=True))
        )
    if isinstance(want, Opaque):
        return isinstance(got, Opaque) and got.text == want.text
    if isinstance(want, float) and isinstance(got, float) and math.isnan(want):
        return math.isnan(got)
    return type(got) is type(want) and got == want


def same_input(got: object, want: object) -> bool:
    """True when a reported input is the judge's own (floats equal up to the last bits of another BLAS)."""
    return _alike(got, want, INPUT_RTOL)


def unchanged(after: object, before: object) -> bool:
    """True when an argument reads the same after the call as before it (exactly: same process)."""
    return _alike(after, before, 0.0)


@dataclass
class Call:
    """One recorded call of a student's function."""

    label: str
    function: str
    text: str  # how a message names the call, e.g. "relu(x) with x of shape (4, 3)"
    args: list
    kwargs: dict
    args_after: list
    kwargs_after: dict
    returned: object = None
    raised: dict | None = None
    missing: bool = False
    shares: list = field(default_factory=list)

    def value(self) -> object:
        """What the function returned; a failure that says so when it raised, or when it is not defined."""
        if self.missing:
            raise AssertionError(
                f"{self.function} is not defined: did the cell that defines it run, and is it spelled "
                f"{self.function!r}?"
            )
        if self.raised is not None:
            kind, message = self.raised["type"], self.raised["message"]
            if kind == "NotImplementedError" and not message:
                raise AssertionError(f"{self.text} raised NotImplementedError: the exercise is not done yet")
            raise AssertionError(f"{self.text} raised {kind}" + (f": {message}" if message else ""))
        if self.returned is None:
            raise AssertionError(f"{self.text} returned None; is a `return` missing?")
        return self.returned

    def array(self, what: str = "") -> np.ndarray:
        """What the function returned, as a float array; a failure when it is not numeric."""
        value = self.value()
        array = as_float_array(value)
        if array is None:
            raise AssertionError(f"{self.text} returned {describe(value)}{what}; expected numbers")
        return array

    def left_arguments_alone(self) -> None:
        """A failure when the call modified one of its arguments."""
        for index, (before, after) in enumerate(zip(self.args, self.args_after, strict=False)):
            if not unchanged(after, before):
                which = "x" if len(self.args) == 1 else f"number {index + 1}"
                raise AssertionError(
                    f"{self.text} modified its argument {which}; it must leave its inputs unchanged"
                )
        for key, before in self.kwargs.items():
            if not unchanged(self.kwargs_after.get(key), before):
                raise AssertionError(f"{self.text} modified its argument {key}; it must leave it unchanged")

    def left_inputs_alone(self, names: Sequence[str]) -> None:
        """left_arguments_alone, naming each argument (and each array of a dict) as names says."""
        after = self.args_after if type(self.args_after) is list else []
        for index, (name, before) in enumerate(zip(names, self.args, strict=False)):
            got = after[index] if index < len(after) else None
            if isinstance(before, dict):
                if not isinstance(got, dict) or set(got) != set(before):
                    keys = keys_text(got) if isinstance(got, dict) else describe(got)
                    raise AssertionError(
                        f"{self.text} changed the keys of {name} to {keys}; leave the dict {name} as it was given"
                    )
                for key, value in before.items():
                    if not unchanged(got[key], value):
                        raise AssertionError(
                            f"{self.text} modified {name}[{key!r}] in place; leave {name} and its arrays unchanged"
                        )
            elif not unchanged(got, before):
                raise AssertionError(f"{self.text} modified its argument {name}; leave it unchanged")

    def number(self) -> float:
        """What the call returned, as a float; a failure unless it is one floating-point number."""
        got = self.value()
        if isinstance(got, float | np.floating) and not isinstance(got, bool):
            return float(got)
        if isinstance(got, np.ndarray) and got.ndim == 0 and got.dtype.kind == "f":
            return float(got)
        why = ""
        if isinstance(got, bool | np.bool_):
            why = " -- a comparison gives a bool"
        elif isinstance(got, int | np.integer) or (isinstance(got, np.ndarray) and got.dtype.kind in "iu"):
            why = " -- an integer: integer division (//) or round(...) without digits loses the fraction"
        elif isinstance(got, np.ndarray):
            why = f" -- an array of shape {got.shape}; return one number, e.g. float(...) of a scalar"
        elif isinstance(got, list | tuple):
            why = f" -- a {type(got).__name__}; return the number itself"
        raise AssertionError(f"{self.text} returned {describe(got)}; expected one floating-point number{why}")

    def returned_new_memory(self) -> None:
        """A failure when the result shares memory with an argument."""
        if any(self.shares):
            raise AssertionError(f"{self.text} returned memory shared with its argument; return a new array")


def _argument_text(arg: object) -> str:
    """How a message shows one argument: numbers as they are, arrays and containers by their size."""
    if isinstance(arg, np.ndarray):
        return f"array of shape {arg.shape}"
    if isinstance(arg, list | tuple | dict):
        return f"{type(arg).__name__} of {len(arg)}"
    return _short(repr(arg))


def _arguments_text(args: list, kwargs: dict) -> str:
    """How a message shows a call's arguments: (x) with x of shape (4, 3), or (2, 0.5, array of shape (3,))."""
    keywords = [f"{k}={_argument_text(v)}" for k, v in kwargs.items()]
    if len(args) == 1 and isinstance(args[0], np.ndarray) and args[0].ndim == 0:
        return f"({', '.join([f'np.array({args[0].item()!r})', *keywords])})"
    if len(args) == 1 and isinstance(args[0], np.ndarray):
        return f"({', '.join(['x', *keywords])}) with x of shape {args[0].shape}"
    return f"({', '.join([*(_argument_text(a) for a in args), *keywords])})"


def close(got: object, want: object, message: str, rtol: float = RTOL, atol: float = ATOL) -> None:
    """A failure, with message and the first differing element, when got is not close to want."""
    got_array, want_array = as_float_array(got), np.asarray(want, dtype=float)
    if got_array is None:
        raise AssertionError(f"{message}: got {describe(got)}; expected numbers")
    if got_array.shape != want_array.shape:
        raise AssertionError(f"{message}: got shape {got_array.shape}; expected {want_array.shape}")
    bad = ~np.isclose(got_array, want_array, rtol=rtol, atol=atol, equal_nan=True)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0]) if bad.ndim else ()
        count = int(bad.sum())
        raise AssertionError(
            f"{message}: {count} of {bad.size} values differ; first at index {where}: "
            f"got {float(got_array[where])!r}, expected {float(want_array[where])!r}"
        )


class Judge:
    """Reads one cell's report and decides: every method raises AssertionError with the student's message."""

    def __init__(self, cell_id: str, report: dict) -> None:
        self.cell_id = cell_id
        self.report = report
        self.calls: dict[str, Call] = {}
        for raw in report["calls"]:
            call = _call_from(raw)
            if call.label in self.calls:
                raise Tampered(f"the report of {cell_id} holds the call {call.label!r} twice")
            self.calls[call.label] = call
        self.values = {str(k): decode(v) for k, v in dict(report.get("values", {})).items()}

    @classmethod
    def receive(cls, cell_id: str) -> Judge:
        """The judge of the report that the probe of cell_id sent (see the module's docstring)."""
        text = INBOX.pop(cell_id, None)
        if text is None:
            raise AssertionError(f"the hidden tests of {cell_id} sent no report")
        return cls.read(cell_id, text)

    @classmethod
    def read(cls, cell_id: str, text: str) -> Judge:
        """Parse a report, as data only; Tampered when it is not what a probe writes."""
        if len(text) > REPORT_BYTES:
            raise Tampered(f"the report of {cell_id} is larger than any probe writes")
        try:
            report = json.loads(text)
            if (
                type(report) is not dict
                or report.get("version") != VERSION
                or type(report.get("calls")) is not list
            ):
                raise ValueError("not a report")
            if report.get("cell") != cell_id:
                raise Tampered(f"{cell_id} carries the report of another cell ({_short(report.get('cell'))})")
            return cls(cell_id, report)
        except Tampered:
            raise
        except Exception as error:
            raise Tampered(f"the report of {cell_id} is malformed ({_short(error)})") from None

    def call(self, label: str, *args: object, **kwargs: object) -> Call:
        """The call recorded under label; Tampered when its inputs are not the judge's own (ANY: unknown)."""
        call = self.calls.get(label)
        if call is None:
            stopped = self.report.get("stopped")
            if stopped:
                raise AssertionError(
                    f"the hidden tests stopped before they could call your code ({_short(stopped)})"
                )
            raise Tampered(f"the report of {self.cell_id} lacks the call {label!r}")
        if args or kwargs:
            if len(call.args) != len(args) or not all(
                same_input(g, w) for g, w in zip(call.args, args, strict=True)
            ):
                raise Tampered(f"the call {label!r} in {self.cell_id} did not get the grader's inputs")
            if call.kwargs.keys() != kwargs.keys() or not all(
                same_input(call.kwargs[k], w) for k, w in kwargs.items()
            ):
                raise Tampered(f"the call {label!r} in {self.cell_id} did not get the grader's parameters")
        return call

    def value(self, label: str) -> object:
        """A value the probe recorded; Tampered when it is missing."""
        if label not in self.values:
            raise Tampered(f"the report of {self.cell_id} lacks the value {label!r}")
        return self.values[label]

    # -------------------------------------------------------------- the standard checks

    def formula(
        self,
        name: str,
        cases: Sequence[tuple],
        want: Callable[..., float],
        formula: str,
        mistakes: Sequence[tuple[Callable[..., float], str]] = (),
        otherwise: str = "",
    ) -> None:
        """Each call name(*args) returned one float close to want(*args); a failure otherwise that names the
        mistake (a formula in mistakes) explaining every value returned, or else says otherwise."""
        calls = [self.call(f"{name}({', '.join(map(repr, args))})", *args) for args in cases]
        got = [call.number() for call in calls]

        def gives(mistake: Callable[..., float], args: tuple, value: float) -> bool:
            try:
                return bool(np.isclose(value, float(mistake(*(float(a) for a in args))), rtol=RTOL, atol=0))
            except (ArithmeticError, ValueError):
                return False

        for call, value, args in zip(calls, got, cases, strict=True):
            expected = want(*(float(a) for a in args))
            if not np.isclose(value, expected, rtol=RTOL, atol=0):
                named = next(
                    (
                        f" -- that is {what}"
                        for mistake, what in mistakes
                        if all(gives(mistake, a, g) for a, g in zip(cases, got, strict=True))
                    ),
                    f" ({otherwise})" if otherwise else "",
                )
                raise AssertionError(
                    f"{call.text} returned {value!r}; expected {expected!r} = {formula}{named}"
                )

    def elementwise(
        self,
        name: str,
        ref: Callable[..., np.ndarray],
        avoid: Sequence[float] = (),
        hint: str = "",
        tag: str = "",
        rtol: float = RTOL,
        atol: float = ATOL,
        **kwargs: object,
    ) -> None:
        """Shapes 0-d to 3-d, Python numbers, integers, float32, no mutation, no shared memory, values.

        rtol and atol are the spec's tolerance; float32 input is compared to at least rtol 1e-4, atol 1e-6.
        """
        extra = "".join(f", {k}={v!r}" for k, v in kwargs.items())
        for index, x in enumerate(elementwise_inputs(avoid)):
            call = self.call(f"{name}/{tag}array{index}", x, **kwargs)
            got = _as_array(call)
            if got.shape != x.shape:
                why = (
                    " -- a reduction such as np.all or np.sum turns the array into one number"
                    if got.shape == ()
                    else ""
                )
                if x.dtype.kind == "i":
                    why = " -- a copy of an integer array (np.zeros_like(x), x.copy()) stays integer"
                raise AssertionError(f"{call.text} returned shape {got.shape}; expected {x.shape}{why}")
            if got.dtype.kind != "f":
                why = ""
                if x.dtype.kind == "i":
                    why = " -- a copy of an integer array (np.zeros_like(x), x.copy()) stays integer and truncates"
                raise AssertionError(
                    f"{call.text} returned dtype {got.dtype}; expected a floating-point array{why}"
                )
            call.left_arguments_alone()
            call.returned_new_memory()
            wide = x.dtype == np.float32
            tolerance = {"rtol": max(rtol, 1e-4) if wide else rtol, "atol": max(atol, 1e-6) if wide else atol}
            on = (
                " on integers"
                if x.dtype.kind == "i"
                else " on float32 input"
                if x.dtype == np.float32
                else ""
            )
            close(got, ref(x.astype(float), **kwargs), f"{call.text}{on}{hint}", **tolerance)
        for index, number in enumerate(PYTHON_NUMBERS):
            call = self.call(f"{name}/{tag}number{index}", number, **kwargs)
            got = _as_array(call)
            if got.shape != () or got.dtype.kind != "f":
                raise AssertionError(
                    f"{name}({number!r}{extra}) returned shape {got.shape}, dtype {got.dtype}; "
                    "expected a float of shape ()"
                )
            close(
                got,
                ref(np.array(float(number)), **kwargs),
                f"{name}({number!r}{extra}){hint}",
                rtol=rtol,
                atol=atol,
            )

    def points(
        self,
        name: str,
        xs: Sequence[object],
        want: Callable[[object], object] | Sequence[object],
        tag: str = "point",
        what: str = "",
        rtol: float = RTOL,
        atol: float = ATOL,
        **kwargs: object,
    ) -> None:
        """The calls that Probe.points made, each close to want(x) (or to want[i]); finite where want is."""
        for index, x in enumerate(xs):
            call = self.call(f"{name}/{tag}{index}", x, **kwargs)
            expected = want(x) if callable(want) else want[index]
            got = call.array()
            expected_array = np.asarray(expected, dtype=float)
            if np.all(np.isfinite(expected_array)) and not np.all(np.isfinite(got)):
                raise AssertionError(
                    f"{call.text} returned {describe(got)}; expected the finite {describe(expected_array)}{what}"
                )
            close(got, expected_array, f"{call.text}{what}", rtol=rtol, atol=atol)

    def large(self, name: str, expected: Mapping[float, float], tag: str = "", **kwargs: object) -> None:
        """The calls of Probe.large: finite and close to expected[x], as one array and one by one."""
        xs = list(expected)
        want = np.array([expected[x] for x in xs], dtype=float)
        extra = "".join(f", {k}={v!r}" for k, v in kwargs.items())
        call = self.call(f"{name}/{tag}large", np.array(xs, dtype=float), **kwargs)
        got = call.array()
        if got.shape == want.shape and not np.all(np.isfinite(got)):
            raise AssertionError(
                f"{name}({xs}{extra}) returned {got.tolist()}; expected the finite values {want.tolist()}"
            )
        close(got, want, f"{name}({xs}{extra}) at large |x|")
        self.points(name, xs, want, tag=f"{tag}large", what=" at large |x|", **kwargs)

    def between(
        self,
        name: str,
        xs: Sequence[object],
        low: Sequence[float],
        high: Sequence[float],
        tag: str = "kink",
        what: str = "",
        **kwargs: object,
    ) -> None:
        """The calls that Probe.points made with this tag: x's shape, each value between low[i] and high[i].

        The bounds may come in either order (a one-sided derivative alpha > 1 lies above the other side's 1).
        """
        for index, x in enumerate(xs):
            call = self.call(f"{name}/{tag}{index}", x, **kwargs)
            got = call.array(what)
            if isinstance(x, np.ndarray) and got.shape != x.shape:
                raise AssertionError(f"{call.text} returned shape {got.shape}; expected {x.shape}")
            lo, hi = np.minimum(low[index], high[index]), np.maximum(low[index], high[index])
            lo, hi = np.broadcast_to(lo, got.shape), np.broadcast_to(hi, got.shape)
            inside = (got >= lo - ATOL) & (got <= hi + ATOL)
            if not inside.all():
                where = tuple(int(i) for i in np.argwhere(~inside)[0]) if got.ndim else ()
                raise AssertionError(
                    f"{call.text} returned {float(got[where])!r} at index {where}; expected a value between "
                    f"{float(lo[where])!r} and {float(hi[where])!r}{what}"
                )

    def kinks(
        self,
        name: str,
        xs: Sequence[np.ndarray],
        low: Sequence[object],
        high: Sequence[object],
        note: str = "",
        tag: str = "kink",
        **kwargs: object,
    ) -> None:
        """between() for the kinks of a derivative, each call named by its input's values."""
        extra = "".join(f", {k}={v!r}" for k, v in kwargs.items())
        for index, x in enumerate(xs):
            self.call(f"{name}/{tag}{index}", x, **kwargs).text = f"{name}(np.array({x.tolist()}){extra})"
        what = f" (at a kink any value between the one-sided derivatives is accepted{note})"
        self.between(name, xs, low, high, tag=tag, what=what, **kwargs)


def _as_array(call: Call) -> np.ndarray:
    """What the call returned as an array of any dtype; a failure when it cannot be one (ragged, opaque)."""
    value = call.value()
    if isinstance(value, Opaque):
        raise AssertionError(f"{call.text} returned {describe(value)}; expected an array")
    try:
        return np.asarray(value)
    except Exception:
        raise AssertionError(f"{call.text} returned {describe(value)}, which is not an array") from None


def _call_from(raw: object) -> Call:
    if type(raw) is not dict:
        raise ValueError("a call is not a mapping")
    args, kwargs = decode(raw["args"]), decode(raw["kwargs"])
    if type(args) is not list or type(kwargs) is not dict:
        raise ValueError("bad arguments")
    function = str(raw["function"])
    call = Call(
        label=str(raw["label"]),
        function=function,
        text=f"{function}{_arguments_text(args, kwargs)}",
        args=args,
        kwargs=kwargs,
        args_after=decode(raw.get("args_after", raw["args"])),
        kwargs_after=decode(raw.get("kwargs_after", raw["kwargs"])),
        missing=bool(raw.get("missing", False)),
    )
    if "raised" in raw:
        raised = raw["raised"]
        if type(raised) is not dict:
            raise ValueError("bad exception")
        call.raised = {"type": _short(raised.get("type")), "message": _short(raised.get("message"))}
    elif not call.missing:
        call.returned = decode(raw["returned"])
        shares = raw.get("shares", [])
        call.shares = [bool(s) for s in shares] if type(shares) is list else []
    return call


__all__ = [
    "ANY",
    "INBOX",
    "MIME",
    "Call",
    "Judge",
    "Opaque",
    "Probe",
    "Tampered",
    "close",
    "decode",
    "describe",
    "elementwise_inputs",
    "encode",
    "same_input",
    "as_float_array",
    "keys_text",
    "shape_of",
    "shown",
    "unchanged",
]
