"""Seed 000's own Keras experiment (OpenGenus, "ReLU6 in ML"), as one run of its script: the yardstick.

The seed's listing: ``make_circles(n_samples=600, noise=0.1, random_state=1)`` scaled to [-1, 1] by
``MinMaxScaler``, the first 500 points for training and the last 100 for testing, ``RandomUniform(0, 1)``
kernels, "10 shadow layers", a sigmoid output, ``SGD(learning_rate=0.01, momentum=0.9)``, binary
cross-entropy, 500 epochs, default batch 32, ``validation_data`` on the test points, then ``evaluate`` on both.
Its listing elides the layers themselves; they are rebuilt here as 10 hidden ``Dense(5)`` layers, the width
of the Machine Learning Mastery tutorial the seed follows. Changed only where needed here: the data come from
``data/make_data.py``'s copy of ``make_circles`` (identical points; the course ships no scikit-learn), the
scaling from ``rectified.data.scale_to_unit_box`` (MinMaxScaler's formula), ``keras.Input`` for ``input_dim``,
and the training-curve plot is left out.

    python benchmarks/seed000_experiment.py tanh     # the seed's first script; relu and relu6 are the others

It prints one line of JSON: the accuracies, and the seconds from the first import to the end.
"""

import time

START = time.perf_counter()

import json  # noqa: E402  (the clock starts before the imports, as a user running the script waits for them)
import os  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "data"))

import keras  # noqa: E402
from keras.initializers import RandomUniform  # noqa: E402
from keras.layers import Dense  # noqa: E402
from keras.models import Sequential  # noqa: E402
from keras.optimizers import SGD  # noqa: E402
from make_data import make_circles  # noqa: E402

from rectified.data import scale_to_unit_box  # noqa: E402

SHADOW_LAYERS = 10


def main(activation: str) -> None:
    """Run the seed's script once with the given hidden activation and print its figures."""
    X, y = make_circles(600, noise=0.1, seed=1)
    X = scale_to_unit_box(X)
    n_train = 500
    trainX, testX = X[:n_train, :], X[n_train:, :]
    trainy, testy = y[:n_train], y[n_train:]

    init = RandomUniform(minval=0, maxval=1)
    model = Sequential()
    model.add(keras.Input((2,)))
    for _ in range(SHADOW_LAYERS):
        model.add(Dense(5, activation=activation, kernel_initializer=init))
    model.add(Dense(1, activation="sigmoid", kernel_initializer=init))
    opt = SGD(learning_rate=0.01, momentum=0.9)
    model.compile(loss="binary_crossentropy", optimizer=opt, metrics=["accuracy"])
    fit_start = time.perf_counter()
    model.fit(trainX, trainy, validation_data=(testX, testy), epochs=500, verbose=0)
    _, train_acc = model.evaluate(trainX, trainy, verbose=0)
    _, test_acc = model.evaluate(testX, testy, verbose=0)
    end = time.perf_counter()
    result = {
        "activation": activation,
        "train": round(float(train_acc), 3),
        "test": round(float(test_acc), 3),
        "seconds": end - START,
        "fit_seconds": end - fit_start,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tanh")
