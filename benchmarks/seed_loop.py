"""How much faster the course's training loop is than the seed's ``model.fit``, and what each notebook costs.

Part 1 trains the experiment notebooks 05 and 06 reproduce (Machine Learning Mastery's vanishing-gradients tutorial: two circles,
1000 points scaled to [-1, 1], first 500 for training, 5 hidden ReLU layers of 5 units with ``he_uniform``,
a sigmoid output, ``SGD(learning_rate=0.01, momentum=0.9)``, binary cross-entropy, batch 32, 500 epochs,
``validation_data`` on the other 500 points) twice: with the seed's own ``model.fit`` loop, changed only
where Keras 3 requires it (``learning_rate=`` for ``lr=``, ``keras.Input`` for ``input_dim=``,
``verbose=0``), and with ``rectified.training.train`` (same data, architecture, optimizer and number of
weight updates), for one network and for ten networks at once. It prints the seconds of each and the
speed-up per trained network.

Part 0 runs seed 000's own script once (``benchmarks/seed000_experiment.py``: 600 points, 10 tanh layers,
500 epochs), timed whole, from the first import to the end, as a user running it waits: the yardstick the
course must beat.

Part 2 executes every ``solutions/*/*.ipynb`` top to bottom in a fresh subprocess (nbclient, one kernel)
and prints its wall time and the peak resident memory of its kernel (max RSS of the runner's children, from
``getrusage``), once normally and, with ``--grading``, once more with ``NBGRADER_EXECUTION=autograde``.

    python benchmarks/seed_loop.py                 # everything, a few minutes on 2 cores
    python benchmarks/seed_loop.py --epochs 100    # seed loop for 100 epochs, scaled to 500
    python benchmarks/seed_loop.py --skip-notebooks
    python benchmarks/seed_loop.py --skip-seed --grading
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

EPOCHS = 500


def seed_fit_seconds(epochs: int) -> tuple[float, float, float]:
    """Seconds for the seed's model.fit loop over ``epochs`` epochs, and its final train/test accuracy."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import keras
    from keras.initializers import RandomUniform  # noqa: F401  (imported by the seed; unused by this model)
    from keras.layers import Dense
    from keras.models import Sequential
    from keras.optimizers import SGD

    from rectified.data import load_circles, scale_to_unit_box

    keras.utils.set_random_seed(1)
    X, y = load_circles()
    X = scale_to_unit_box(X)
    n_train = 500
    trainX, testX = X[:n_train, :], X[n_train:, :]
    trainy, testy = y[:n_train], y[n_train:]

    start = time.perf_counter()
    model = Sequential()
    model.add(keras.Input((2,)))
    model.add(Dense(5, activation="relu", kernel_initializer="he_uniform"))
    model.add(Dense(5, activation="relu", kernel_initializer="he_uniform"))
    model.add(Dense(5, activation="relu", kernel_initializer="he_uniform"))
    model.add(Dense(5, activation="relu", kernel_initializer="he_uniform"))
    model.add(Dense(5, activation="relu", kernel_initializer="he_uniform"))
    model.add(Dense(1, activation="sigmoid"))
    opt = SGD(learning_rate=0.01, momentum=0.9)
    model.compile(loss="binary_crossentropy", optimizer=opt, metrics=["accuracy"])
    model.fit(trainX, trainy, validation_data=(testX, testy), epochs=epochs, verbose=0)
    _, train_acc = model.evaluate(trainX, trainy, verbose=0)
    _, test_acc = model.evaluate(testX, testy, verbose=0)
    return time.perf_counter() - start, train_acc, test_acc


def course_seconds(n_models: int) -> tuple[float, float, float]:
    """Seconds for rectified.training on the same experiment with ``n_models`` networks at once."""
    from rectified import training

    x_train, y_train, x_test, y_test = training.circles_split()
    start = time.perf_counter()
    params = training.init_params(n_models, (5,) * 5, "he_uniform", seed=1)
    result = training.train(params, x_train, y_train, x_test, y_test, "relu", epochs=EPOCHS, seed=1)
    seconds = time.perf_counter() - start
    return seconds, float(result.train_accuracy[:, -1].mean()), float(result.test_accuracy[:, -1].mean())


def seed000_run() -> dict:
    """One run of seed 000's script in a fresh interpreter: its JSON line (seconds include the imports)."""
    out = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "seed000_experiment.py"), "tanh"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_one_notebook(path: str) -> None:
    """Execute one notebook (in this fresh process) and print a JSON line with time and peak memory."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    error = ""
    try:
        NotebookClient(nb, timeout=600, resources={"metadata": {"path": str(Path(path).parent)}}).execute()
    except Exception as exc:  # report, do not hide: the table shows which notebook failed
        error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:80]
    seconds = time.perf_counter() - start
    kernel_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(
        json.dumps(
            {
                "seconds": seconds,
                "kernel_mib": kernel_kib / 1024,
                "error": error,
            }
        )
    )


def notebook_table(grading: bool) -> list[dict]:
    """Run every solution notebook in its own subprocess; return one row per notebook."""
    rows = []
    for path in sorted((REPO / "solutions").glob("*/*.ipynb")):
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
        env.pop("NBGRADER_EXECUTION", None)
        if grading:
            env["NBGRADER_EXECUTION"] = "autograde"
        out = subprocess.run(
            [sys.executable, __file__, "--run-notebook", str(path)],
            capture_output=True,
            text=True,
            env=env,
            cwd=REPO,
        )
        try:
            row = json.loads(out.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            row = {
                "seconds": float("nan"),
                "kernel_mib": float("nan"),
                "error": (out.stderr.strip().splitlines() or ["no output"])[-1][:80],
            }
        row["notebook"] = path.relative_to(REPO / "solutions").as_posix()
        rows.append(row)
        print(
            f"  {row['notebook']:<60} {row['seconds']:6.1f} s  kernel {row['kernel_mib']:6.0f} MiB"
            f"  {row['error']}",
            flush=True,
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--epochs",
        type=int,
        default=EPOCHS,
        help="epochs for the seed's model.fit loop; its time is scaled to 500 epochs",
    )
    parser.add_argument("--skip-seed", action="store_true", help="do not run the training comparison")
    parser.add_argument("--skip-notebooks", action="store_true", help="do not execute the notebooks")
    parser.add_argument(
        "--grading", action="store_true", help="also execute the notebooks with NBGRADER_EXECUTION=autograde"
    )
    parser.add_argument("--run-notebook", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run_notebook:
        run_one_notebook(args.run_notebook)
        return 0

    print(f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}")
    seed000 = None
    if not args.skip_seed:
        print(
            "\nSeed 000's own experiment, one run of its script (10 x 5 tanh, RandomUniform(0, 1), 600 points)"
        )
        seed000 = seed000_run()
        print(
            f"  whole script, imports included       {seed000['seconds']:7.2f} s"
            f"   (model.fit and evaluate {seed000['fit_seconds']:.1f} s)"
            f"   train {seed000['train']:.3f} test {seed000['test']:.3f}"
        )
        print(
            "\nThe MLM tutorial's experiment (05, 06): 5 x 5 ReLU (he_uniform), SGD(0.01, momentum 0.9), batch 32, 500 epochs "
            "= 8000 weight updates per network"
        )
        fit_s, fit_train, fit_test = seed_fit_seconds(args.epochs)
        fit_500 = fit_s * EPOCHS / args.epochs
        scaled = f" ({fit_s:.1f} s for {args.epochs} epochs, scaled)" if args.epochs != EPOCHS else ""
        print(
            f"  its model.fit loop, 1 network         {fit_500:7.2f} s{scaled}"
            f"   final train {fit_train:.3f} test {fit_test:.3f}"
        )
        for n_models in (1, 10):
            seconds, train_acc, test_acc = course_seconds(n_models)
            per_model = seconds / n_models
            print(
                f"  rectified.training, {n_models:2d} network(s)    {seconds:7.2f} s"
                f"   = {per_model:.2f} s per network, {fit_500 / per_model:6.1f}x faster"
                f"   mean final train {train_acc:.3f} test {test_acc:.3f}"
            )
        print("  (accuracies differ between runs because the random draws differ; see facts.md §4.3)")

    if not args.skip_notebooks:
        for grading in (False, True) if args.grading else (False,):
            label = "NBGRADER_EXECUTION=autograde" if grading else "normal run"
            print(f"\nSolution notebooks, top to bottom ({label}); limits: 30 s, 1.5 GB")
            rows = notebook_table(grading)
            course = sum(row["seconds"] for row in rows)
            print(f"  {'the whole course':<60} {course:6.1f} s")
            if seed000 is not None and not grading:
                print(
                    f"\nSide by side: the whole course {course:.1f} s, one run of seed 000's experiment"
                    f" {seed000['seconds']:.1f} s: {course / seed000['seconds']:.2f}x"
                    f" ({'faster' if course < seed000['seconds'] else 'SLOWER'})"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
