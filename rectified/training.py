"""Train many small dense networks at once: the seeds' two-circles experiment, reproduced fast.

The seed experiment (Machine Learning Mastery's "How to Fix the Vanishing Gradients Problem Using the
ReLU") trains a Keras ``Sequential`` of ``Dense`` layers on the two-circles data with
``SGD(learning_rate=0.01, momentum=0.9)``, binary cross-entropy, batch 32 with the training set
reshuffled every epoch, for 500 epochs. One such ``model.fit`` run takes tens of seconds on two cores,
almost all of it per-batch overhead (the model has a few dozen weights).

This module runs *the same computation* in NumPy, for ``S`` independently initialised networks at once:
every weight matrix carries a leading seed axis, ``(S, n_in, n_out)``, and one ``np.matmul`` serves all
networks. Per weight update it does exactly what Keras does:

* forward pass ``h_k = act(h_{k-1} @ W_k + b_k)`` for the hidden layers, ``p = sigmoid(h @ W + b)`` at the
  output;
* loss: the mean binary cross-entropy over the batch, computed from the logit as Keras does for a sigmoid
  output (``softplus(z) - y * z``), so its gradient with respect to the logit is ``(p - y) / batch``;
* the gradient of that loss by back-propagation, with TensorFlow's conventions at kinks (ReLU's derivative
  at exactly 0 is 0, Leaky ReLU's is the negative slope, ELU's and SELU's are their slopes above 0, ReLU6's is
  0 at 0 and at 6, PReLU's is 0, and tied Maxout pieces share the gradient equally); a PReLU network's slopes
  are weights too, learned by the same update (see :data:`ACTIVATIONS` for the whole family);
* Keras 3's ``SGD`` update with momentum ``m``: ``v <- m * v - lr * g`` then ``w <- w + v`` (velocity
  starts at 0, no Nesterov);
* batches of 32 taken in order from a fresh permutation of the training set each epoch; 500 training
  points give 15 batches of 32 and a last batch of 20, i.e. 16 updates per epoch, as ``model.fit`` does.

All arithmetic is float32, like Keras. Each network ``i`` draws its initial weights and its shuffles from
its own generator ``np.random.default_rng([seed, i])``, so network ``i`` is the same whether it is
trained alone or with others. Keras' own random streams are not reproduced (nothing could be: they are
TensorFlow's), so results match ``model.fit`` in distribution, not bit for bit; ``tests/test_training.py``
checks that, from identical weights and batches, the updates equal those of a Keras model.

The networks of one call share their layer widths, but each can have its own activation, learning rate, L1
activity penalty, L2 weight penalty and training inputs, so that several settings train side by side in one call:
:meth:`Params.concatenate` joins their initial weights, and ``train(streams=...)`` lets network ``k`` of
every setting see the same batches.

Main entry points:

* :func:`circles_split` - the seed's data: 1000 two-circles points scaled to [-1, 1], first 500 train.
* :func:`init_params` - Keras-style initial weights for ``S`` networks; :meth:`Params.concatenate` joins
  several such sets.
* :func:`train` - the training loop; returns a :class:`TrainResult` with per-epoch curves.
* :func:`forward` - predictions and, optionally, every hidden layer's activations on a data set.
* :func:`evaluate` - loss and accuracy of each network on a data set.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from rectified.data import load_circles, scale_to_unit_box

DTYPE = np.float32

# Standard deviation of N(0, 1) truncated to [-2, 2]; Keras divides by it so that a truncated normal
# initialiser has exactly the requested standard deviation (keras/src/initializers/random_initializers.py).
_TRUNCATED_STD = 0.87962566103423978

Activation = str | tuple[str, float]
Activations = Activation | list[Activation]  # one for every network, or a list with one per network
PerModel = float | Sequence[float] | np.ndarray  # one value for every network, or one per network
Initializer = str | tuple | Callable[[np.random.Generator, int, int], np.ndarray]


# ----------------------------------------------------------------------------------------------------------
# data


def circles_split(n_train: int = 500) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The seed's data: ``(x_train, y_train, x_test, y_test)``, float32 features and float32 0/1 labels.

    The 1000 two-circles points of :func:`rectified.data.load_circles`, each column scaled to [-1, 1]
    using all 1000 points (the seed fits ``MinMaxScaler(feature_range=(-1, 1))`` before splitting), then
    the first ``n_train`` rows for training and the rest for testing.
    """
    x, y = load_circles()
    x = scale_to_unit_box(x).astype(DTYPE)
    y = y.astype(DTYPE)
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]


# ----------------------------------------------------------------------------------------------------------
# activations


# Every hidden activation the trainer knows, with the Keras / tf.nn function it reproduces (value and gradient).
ACTIVATIONS = {
    "relu": "tf.nn.relu",
    "leaky_relu": "keras.layers.LeakyReLU(negative_slope=param), default 0.2 as keras.activations.leaky_relu",
    "prelu": "keras.layers.PReLU: the slope is learned, one per unit, starting at param (Keras starts at 0)",
    "relu6": "tf.nn.relu6",
    "elu": "keras.layers.ELU(alpha=param), default 1",
    "selu": "tf.nn.selu (use it with lecun_normal weights, as Klambauer et al. require)",
    "softplus": "tf.nn.softplus",
    "silu": "tf.nn.silu (swish with beta 1)",
    "gelu": "tf.nn.gelu: param 0 is the exact erf form (the default), 1 the tanh approximation",
    "maxout": "Goodfellow et al. (2013): each unit is the max of param linear pieces (default 2), as Dense(width *"
    " pieces) then a max over each unit's adjacent pieces; the networks need init_params(..., pieces=param)",
    "tanh": "tf.nn.tanh",
    "sigmoid": "tf.nn.sigmoid",
    "linear": "the identity",
}
_DEFAULT_PARAMETER = {"leaky_relu": 0.2, "elu": 1.0, "maxout": 2.0}
# tf.nn.selu's constants (Klambauer et al. 2017)
SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805


# Numerical Recipes' Chebyshev fit of erfc (2nd ed., section 6.2), highest power first
_ERFC_COEFFICIENTS = (
    0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807,
    -0.18628806, 0.09678418, 0.37409196, 1.00002368, -1.26551223,
)  # fmt: skip


def _erf(x: np.ndarray) -> np.ndarray:
    """The error function in x's precision (the fit's relative error is below 1.2e-7), for the exact GELU: NumPy
    has no erf, and the course does not depend on SciPy."""
    t = 1 / (1 + 0.5 * np.abs(x))
    poly = np.full_like(t, _ERFC_COEFFICIENTS[0])
    for coefficient in _ERFC_COEFFICIENTS[1:]:  # Horner's rule, in place
        poly *= t
        poly += coefficient
    erfc = t * np.exp(-x * x + poly)
    return np.where(x >= 0, 1 - erfc, erfc - 1)


def _parse_activation(activation: Activation) -> tuple[str, float]:
    """``"relu"`` or ``("leaky_relu", 0.1)`` -> (name, parameter)."""
    if isinstance(activation, str):
        name, param = activation, _DEFAULT_PARAMETER.get(activation, 0.0)
    else:
        name, param = activation[0], float(activation[1])
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}")
    return name, param


def _runs(activation: Activations, n_models: int) -> list[tuple[slice, str, float]]:
    """Group the networks into runs of consecutive ones with the same activation: ``(rows, name, param)``."""
    if not isinstance(activation, list):
        return [(slice(None), *_parse_activation(activation))]
    if len(activation) != n_models:
        raise ValueError(f"{len(activation)} activations for {n_models} networks")
    parsed = [_parse_activation(a) for a in activation]
    starts = [i for i in range(n_models) if i == 0 or parsed[i] != parsed[i - 1]]
    return [(slice(a, b), *parsed[a]) for a, b in zip(starts, [*starts[1:], n_models], strict=True)]


def _activate(name: str, param: float, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The activation ``a = f(z)`` and its derivative ``f'(z)``, with TensorFlow's values at the kinks."""
    if name == "relu":
        positive = z > 0
        return np.where(positive, z, DTYPE(0)), positive.astype(DTYPE)
    if name == "leaky_relu":
        positive = z > 0
        return np.where(positive, z, DTYPE(param) * z), np.where(positive, DTYPE(1), DTYPE(param))
    if name == "elu":
        # tf.nn.elu's gradient is 1 at exactly 0 (relu_op_functor.h: activations < 0 ? ... : grad).
        negative = np.expm1(np.minimum(z, 0)) * DTYPE(param)
        return np.where(z > 0, z, negative), np.where(z < 0, negative + DTYPE(param), DTYPE(1))
    if name == "prelu":  # param: the slopes, broadcastable to z; Keras computes relu(z) - alpha relu(-z)
        negative = z < 0
        # at exactly 0 both relu terms have TensorFlow's derivative 0, so the slope there is 0
        return np.where(negative, param * z, np.maximum(z, 0)), np.where(negative, param, z > 0).astype(DTYPE)
    if (
        name == "maxout"
    ):  # z holds width * pieces columns; unit j is the max of columns j*pieces ... +pieces-1
        grouped = z.reshape(*z.shape[:-1], -1, int(param))
        a = grouped.max(axis=-1)
        winners = grouped == a[..., None]  # tf.reduce_max's gradient: shared equally by tied pieces
        return a, (winners / winners.sum(axis=-1, keepdims=True)).astype(DTYPE).reshape(z.shape)
    if name == "relu6":  # tf.nn.relu6's gradient is 0 at both kinks, 0 and 6
        return np.clip(z, 0, 6), ((z > 0) & (z < 6)).astype(DTYPE)
    if name == "selu":  # tf.nn.selu's gradient: scale alpha e^z below 0, scale at and above 0
        negative = DTYPE(SELU_SCALE * SELU_ALPHA) * np.expm1(np.minimum(z, 0))
        a = np.where(z > 0, DTYPE(SELU_SCALE) * z, negative)
        return a, np.where(z < 0, negative + DTYPE(SELU_SCALE * SELU_ALPHA), DTYPE(SELU_SCALE))
    if name == "softplus":
        return np.logaddexp(DTYPE(0), z), _sigmoid(z)
    if name == "silu":
        s = _sigmoid(z)
        return z * s, s * (1 + z * (1 - s))
    if name == "gelu" and param:  # tanh approximation, as tf.nn.gelu(approximate=True)
        c = DTYPE(np.sqrt(2 / np.pi))
        inner = c * (z + DTYPE(0.044715) * z**3)
        th = np.tanh(inner)
        slope = 0.5 * (1 + th) + 0.5 * z * (1 - th * th) * c * (1 + DTYPE(3 * 0.044715) * z * z)
        return 0.5 * z * (1 + th), slope
    if name == "gelu":  # z Phi(z), Phi the standard normal CDF
        cdf = 0.5 * (1 + _erf(z * DTYPE(np.sqrt(0.5))))
        return z * cdf, cdf + z * np.exp(-0.5 * z * z) * DTYPE(1 / np.sqrt(2 * np.pi))
    if name == "tanh":
        a = np.tanh(z)
        return a, 1 - a * a
    if name == "sigmoid":
        a = _sigmoid(z)
        return a, a * (1 - a)
    return z, np.ones_like(z)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function without overflow warnings."""
    return np.exp(-np.logaddexp(DTYPE(0), -z)).astype(z.dtype, copy=False)


def _bce_from_logits(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Binary cross-entropy of logits z against labels y, elementwise (``softplus(z) - y z``)."""
    return np.logaddexp(DTYPE(0), z) - y * z


# ----------------------------------------------------------------------------------------------------------
# initialisation


def _draw(init: Initializer, rng: np.random.Generator, n_in: int, n_out: int) -> np.ndarray:
    """One (n_in, n_out) kernel drawn as the named Keras initialiser would (same distribution)."""
    if callable(init):
        return np.asarray(init(rng, n_in, n_out), dtype=DTYPE).reshape(n_in, n_out)
    if isinstance(init, tuple):
        kind, *args = init
        if kind == "uniform":  # ("uniform", minval, maxval): keras.initializers.RandomUniform
            return rng.uniform(args[0], args[1], size=(n_in, n_out)).astype(DTYPE)
        if kind == "normal":  # ("normal", stddev): keras.initializers.RandomNormal(0, stddev)
            return (args[0] * rng.standard_normal((n_in, n_out))).astype(DTYPE)
        if kind == "constant":
            return np.full((n_in, n_out), args[0], dtype=DTYPE)
        raise ValueError(f"unknown initializer {init!r}")
    if init == "zeros":
        return np.zeros((n_in, n_out), DTYPE)
    family, _, distribution = init.partition("_")
    scale, n = {
        "he": (2.0, n_in),
        "glorot": (1.0, (n_in + n_out) / 2),
        "lecun": (1.0, n_in),
    }.get(family, (None, None))
    if scale is None or distribution not in ("uniform", "normal"):
        raise ValueError(f"unknown initializer {init!r}")
    if distribution == "uniform":  # VarianceScaling, uniform: limit sqrt(3 scale / n)
        limit = np.sqrt(3 * scale / n)
        return rng.uniform(-limit, limit, size=(n_in, n_out)).astype(DTYPE)
    # VarianceScaling, truncated_normal: N(0, s) re-drawn beyond 2 s, s = sqrt(scale / n) / 0.8796...
    s = np.sqrt(scale / n) / _TRUNCATED_STD
    w = rng.standard_normal((n_in, n_out))
    while (outside := np.abs(w) > 2).any():
        w[outside] = rng.standard_normal(int(outside.sum()))
    return (s * w).astype(DTYPE)


@dataclass
class Params:
    """Weights of ``S`` networks with the same layer widths.

    ``kernels[k]`` has shape ``(S, widths[k], widths[k + 1])`` and ``biases[k]`` shape ``(S, widths[k + 1])``;
    the last layer is the single sigmoid output unit. Arrays are float32. ``alphas[k]``, shape
    ``(S, widths[k + 1])``, holds the learned slopes of hidden layer ``k`` for PReLU networks (``None`` until
    :func:`train` has made them; other networks' entries are unused).
    """

    kernels: list[np.ndarray]
    biases: list[np.ndarray]
    alphas: list[np.ndarray] | None = None

    @property
    def n_models(self) -> int:
        return self.kernels[0].shape[0]

    @property
    def widths(self) -> list[int]:
        """Units per layer, inputs first (a Maxout unit counts once, whatever its pieces)."""
        return [k.shape[1] for k in self.kernels] + [self.kernels[-1].shape[2]]

    @property
    def pieces(self) -> int:
        """Linear pieces per hidden unit: 1, or the Maxout networks' ``pieces``."""
        return self.kernels[0].shape[2] // self.widths[1]

    def copy(self) -> Params:
        alphas = None if self.alphas is None else [a.copy() for a in self.alphas]
        return Params([k.copy() for k in self.kernels], [b.copy() for b in self.biases], alphas)

    def model(self, i: int) -> list[np.ndarray]:
        """Network i's weights in Keras' ``model.get_weights()`` order: kernel0, bias0, kernel1, ...; with
        learned slopes, each hidden layer's ``alpha`` follows its bias (a ``PReLU`` layer after each ``Dense``)."""
        weights = []
        for k, (kernel, bias) in enumerate(zip(self.kernels, self.biases, strict=True)):
            weights += [kernel[i].copy(), bias[i].copy()]
            if self.alphas is not None and k < len(self.alphas):
                weights.append(self.alphas[k][i].copy())
        return weights

    def slopes(self, k: int, rows: slice, initial: float) -> np.ndarray | float:
        """PReLU slopes of hidden layer ``k`` for networks ``rows``, shaped to broadcast over (S, m, width)."""
        return initial if self.alphas is None else self.alphas[k][rows, None, :]

    @classmethod
    def concatenate(cls, parts: Sequence[Params]) -> Params:
        """The networks of several ``Params`` (same widths) side by side, in order, as one ``Params``."""
        kernels = [np.concatenate([p.kernels[k] for p in parts]) for k in range(len(parts[0].kernels))]
        biases = [np.concatenate([p.biases[k] for p in parts]) for k in range(len(kernels))]
        if all(p.alphas is None for p in parts):
            return cls(kernels, biases)
        alphas = [
            np.concatenate([p.alphas[k] if p.alphas else np.zeros_like(p.biases[k]) for p in parts])
            for k in range(len(kernels) - 1)
        ]
        return cls(kernels, biases, alphas)

    @classmethod
    def from_keras_weights(cls, weights: Sequence[Sequence[np.ndarray]]) -> Params:
        """Stack several networks' ``model.get_weights()`` lists (kernel0, bias0, kernel1, ...)."""
        kernels = [np.stack([np.asarray(w[k], DTYPE) for w in weights]) for k in range(0, len(weights[0]), 2)]
        biases = [np.stack([np.asarray(w[k], DTYPE) for w in weights]) for k in range(1, len(weights[0]), 2)]
        return cls(kernels, biases)


def init_params(
    n_models: int,
    hidden: Sequence[int] = (5,) * 5,
    kernel_init: Initializer = "he_uniform",
    output_init: Initializer | None = None,
    bias_init: float = 0.0,
    n_inputs: int = 2,
    seed: int = 0,
    pieces: int = 1,
) -> Params:
    """Initial weights for ``n_models`` networks ``n_inputs -> hidden[0] -> ... -> hidden[-1] -> 1``.

    Args:
        n_models: how many independent networks (the seed axis S).
        hidden: widths of the hidden layers; the seed's deep model is ``(5,) * 5``, its shallow one ``(5,)``.
        kernel_init: initialiser of the hidden layers' kernels: ``"he_uniform"``, ``"he_normal"``,
            ``"glorot_uniform"`` (Keras' Dense default), ``"glorot_normal"``, ``"lecun_uniform"``,
            ``"lecun_normal"`` (the normal ones truncated at two standard deviations, as Keras does),
            ``("uniform", minval, maxval)`` for ``RandomUniform``, ``("normal", stddev)``,
            ``("constant", value)``, ``"zeros"``, or a callable ``f(rng, n_in, n_out) -> array``.
        output_init: initialiser of the output layer's kernel; ``None`` means ``"glorot_uniform"``, the
            Keras default (the seed's ReLU model leaves the output layer at the default, its tanh models
            use ``RandomUniform(0, 1)`` on every layer including the output).
        bias_init: the constant every hidden bias starts at (Keras default 0); the output bias starts at 0.
        n_inputs: input features (2 for the circles).
        seed: network ``i`` draws from ``np.random.default_rng([seed, i])``.
        pieces: for Maxout networks, the linear pieces of each hidden unit: hidden layer ``k`` then has a
            ``(n_in, hidden[k] * pieces)`` kernel, drawn as a ``Dense(hidden[k] * pieces)`` layer's would be.
    """
    widths = [n_inputs, *hidden, 1]
    columns = [*(w * pieces for w in hidden), 1]  # outputs of each layer's kernel
    output_init = "glorot_uniform" if output_init is None else output_init
    per_model = []
    for i in range(n_models):
        rng = np.random.default_rng([seed, i])
        layers = []
        for k in range(len(widths) - 1):
            init = output_init if k == len(widths) - 2 else kernel_init
            layers.append(_draw(init, rng, widths[k], columns[k]))
        per_model.append(layers)
    kernels = [np.stack([layers[k] for layers in per_model]) for k in range(len(widths) - 1)]
    biases = [
        np.full((n_models, columns[k]), bias_init if k < len(widths) - 2 else 0.0, DTYPE)
        for k in range(len(widths) - 1)
    ]
    return Params(kernels, biases)


# ----------------------------------------------------------------------------------------------------------
# forward pass and evaluation


def forward(
    params: Params, x: np.ndarray, activation: Activations = "relu", hidden: bool = False
) -> np.ndarray | tuple[np.ndarray, list[np.ndarray]]:
    """Output probabilities ``(S, m)`` of every network on ``x``, shape ``(m, n_inputs)`` or ``(S, m, n)``.

    ``activation`` is one activation (as in :func:`train`) or a list of ``S``, one per network. With
    ``hidden=True`` also returns the list of hidden-layer activations, each ``(S, m, width)``
    (post-activation, first hidden layer first; the input and the output are not included).
    """
    runs = _runs(activation, params.n_models)
    h = np.asarray(x, DTYPE)
    if h.ndim == 2:
        h = np.broadcast_to(h, (params.n_models, *h.shape))
    layers = []
    for k, (w, b) in enumerate(zip(params.kernels, params.biases, strict=True)):
        z = np.matmul(h, w) + b[:, None, :]
        if k == len(params.kernels) - 1:
            p = _sigmoid(z[..., 0])
            return (p, layers) if hidden else p
        h = np.concatenate(
            [
                _activate(name, _layer_param(params, k, rows, name, param), z[rows])[0]
                for rows, name, param in runs
            ]
        )
        layers.append(h)
    raise AssertionError("unreachable")


def _layer_param(params: Params, k: int, rows: slice, name: str, param: float) -> np.ndarray | float:
    """The activation parameter of hidden layer ``k``: the learned slopes for PReLU, else the fixed value."""
    return params.slopes(k, rows, param) if name == "prelu" else param


def _activate_in_place(
    runs: list[tuple[slice, str, float]], z: np.ndarray, params: Params, k: int
) -> np.ndarray:
    """Overwrite ``z`` (S, m, width) with each run's activation of it (hidden layer ``k``) and return it."""
    for rows, name, param in runs:
        part = z[rows]
        if name == "relu":
            np.maximum(part, 0, out=part)
        elif name == "tanh":
            np.tanh(part, out=part)
        else:
            part[...] = _activate(name, _layer_param(params, k, rows, name, param), part)[0]
    return z


def _logits(params: Params, x: np.ndarray, activation: Activations) -> np.ndarray:
    """Output logits ``(S, m)``: the forward pass without storing anything."""
    runs = _runs(activation, params.n_models)
    h = np.asarray(x, DTYPE)
    for k, (w, b) in enumerate(zip(params.kernels, params.biases, strict=True)):
        z = np.matmul(h, w)
        z += b[:, None, :]
        if k == len(params.kernels) - 1:
            return z[..., 0]
        if params.pieces > 1:  # Maxout: fewer outputs than columns, so not in place
            h = _activate(*runs[0][1:], z)[0]
        else:
            h = _activate_in_place(runs, z, params, k)
    raise AssertionError("unreachable")


def evaluate(
    params: Params, x: np.ndarray, y: np.ndarray, activation: Activations = "relu"
) -> tuple[np.ndarray, np.ndarray]:
    """Mean binary cross-entropy and accuracy (prediction > 0.5) of each network: two arrays of shape (S,).

    These are the numbers ``model.evaluate(x, y)`` returns with ``metrics=["accuracy"]``. ``x`` is
    ``(m, n_inputs)`` or ``(S, m, n_inputs)`` and ``activation`` as in :func:`forward`.
    """
    z = _logits(params, x, activation)
    y = np.asarray(y, DTYPE)
    loss = _bce_from_logits(z, y).mean(axis=1)
    accuracy = ((z > 0) == (y > 0.5)).mean(axis=1)
    return loss, accuracy


# ----------------------------------------------------------------------------------------------------------
# training


@dataclass
class TrainResult:
    """What :func:`train` returns.

    ``train_loss``, ``train_accuracy``, ``test_loss``, ``test_accuracy``: arrays ``(S, epochs)`` evaluated
    with each epoch's final weights on the whole training / test set (Keras' ``val_*`` curves are computed
    the same way; Keras' ``loss``/``accuracy`` curves are instead running means over the epoch's batches);
    ``(S, 0)`` with ``record_curves=False``.
    ``grad_norms``: ``(S, epochs, n_layers)``, the L2 norm of each kernel's gradient averaged over the
    epoch's updates (only with ``record_grad_norms=True``). ``hidden``: ``{epoch: [layer activations
    (S, m, width)]}`` on ``hidden_x`` at the requested epochs (epoch 0 is before training). ``params``: the
    final weights.
    """

    params: Params
    train_loss: np.ndarray
    train_accuracy: np.ndarray
    test_loss: np.ndarray
    test_accuracy: np.ndarray
    grad_norms: np.ndarray | None = None
    hidden: dict[int, list[np.ndarray]] = field(default_factory=dict)


class _Flat:
    """Parameters (or gradients, or velocities) of all networks in one float32 buffer.

    Layer k is stored bias-augmented, as one ``(S, n_in + 1, n_out)`` block whose last row is the bias, so
    a single matmul of ``[h, 1]`` computes ``h @ W + b`` and a single matmul gives both gradients; one
    in-place operation on the whole buffer then updates every parameter of every network.
    """

    def __init__(
        self, widths: Sequence[int], n_models: int, learned_slopes: bool = False, pieces: int = 1
    ) -> None:
        columns = [*(n * pieces for n in widths[1:-1]), widths[-1]]
        shapes = [(n_models, n_in + 1, n_out) for n_in, n_out in zip(widths[:-1], columns, strict=True)]
        if learned_slopes:  # PReLU: one slope per hidden unit, after the layer blocks
            shapes += [(n_models, 1, n) for n in widths[1:-1]]
        sizes = [int(np.prod(s)) for s in shapes]
        self.buffer = np.zeros(sum(sizes), DTYPE)
        offsets = np.cumsum([0, *sizes])
        self.all_blocks = [
            self.buffer[a:b].reshape(s) for a, b, s in zip(offsets[:-1], offsets[1:], shapes, strict=True)
        ]
        self.blocks = self.all_blocks[: len(widths) - 1]
        self.kernels = [block[:, :-1, :] for block in self.blocks]
        self.biases = [block[:, -1, :] for block in self.blocks]
        self.alphas = (
            [block[:, 0, :] for block in self.all_blocks[len(widths) - 1 :]] if learned_slopes else None
        )

    def spread(self, values: PerModel) -> np.ndarray:
        """A buffer-shaped array that holds ``values[i]`` at every parameter of network ``i``."""
        column = np.asarray(values, DTYPE).reshape(-1, 1, 1)
        return np.concatenate([np.broadcast_to(column, block.shape).ravel() for block in self.all_blocks])


class _Buffers:
    """Preallocated activations for one batch size: inputs ``[h, 1]`` of each layer, pre-activations, slopes."""

    def __init__(
        self,
        widths: Sequence[int],
        n_models: int,
        batch: int,
        runs: list[tuple[slice, str, float]],
        live: Params,
        pieces: int = 1,
    ) -> None:
        self.inputs = [np.ones((n_models, batch, n + 1), DTYPE) for n in widths[:-1]]
        self.hidden = [h[..., :-1] for h in self.inputs[1:]]  # views: where each hidden layer writes
        self.pre = [np.empty((n_models, batch, n * pieces), DTYPE) for n in widths[1:-1]]
        self.pre.append(np.empty((n_models, batch, widths[-1]), DTYPE))
        self.slopes = [np.empty((n_models, batch, n * pieces), DTYPE) for n in widths[1:-1]]
        self.scale = DTYPE(1 / batch)
        # per hidden layer, per run of networks: (name, param, z, h, f'(z)) as views of the arrays above; for
        # PReLU the param is the live view of the slopes being learned
        runs = _merge_leaky(runs, n_models)
        self.runs = [
            [
                (name, _layer_param(live, k, rows, name, param), z[rows], h[rows], d[rows])
                for rows, name, param in runs
            ]
            for k, (z, h, d) in enumerate(zip(self.pre, self.hidden, self.slopes, strict=False))
        ]


def _merge_leaky(runs: list[tuple[slice, str, float]], n_models: int) -> list[tuple[slice, str, float]]:
    """Join adjacent runs of ReLU and Leaky ReLU (slope in [0, 1]) into one run of ``"leaky_rows"``, whose
    param holds each network's slope (ReLU's is 0), so that the training loop makes one call for all of them.

    ReLU as a leak of 0 computes the same values and slopes: ``z * (z > 0)`` is ``max(z, 0)`` (up to the sign
    of a zero, -0.0 where z < 0, which changes no sum it enters)."""

    def joinable(run: tuple[slice, str, float]) -> bool:
        return run[1] == "relu" or (run[1] == "leaky_relu" and 0 <= run[2] <= 1)

    merged: list[tuple[slice, str, float]] = []
    group: list[tuple[slice, str, float]] = []
    for run in [*runs, (slice(0, 0), "end", 0.0)]:
        if joinable(run):
            group.append(run)
            continue
        if len(group) == 1:
            merged.append(group[0])
        elif group:
            rows = [r.indices(n_models) for r, _, _ in group]
            slopes = np.concatenate(
                [np.full(b - a, param, DTYPE) for (a, b, _), (_, _, param) in zip(rows, group, strict=True)]
            )
            merged.append((slice(rows[0][0], rows[-1][1]), "leaky_rows", slopes.reshape(-1, 1, 1)))
        group = []
        if run[1] != "end":
            merged.append(run)
    return merged


def _activate_into(name: str, param: float, z: np.ndarray, out: np.ndarray, slope: np.ndarray) -> None:
    """``out[...] = f(z)`` and ``slope[...] = f'(z)`` in place (TensorFlow's derivative at the kinks)."""
    if name == "relu":
        np.maximum(z, 0, out=out)
        np.greater(z, 0, out=slope)
    elif name == "leaky_relu" and 0 <= param <= 1:
        np.greater(z, 0, out=slope)
        np.maximum(slope, DTYPE(param), out=slope)  # 1 above 0, the slope at and below 0
        np.multiply(z, slope, out=out)
    elif name == "leaky_rows":  # _merge_leaky's runs: param is (rows, 1, 1), each network's slope in [0, 1]
        np.greater(z, 0, out=slope)
        np.maximum(slope, param, out=slope)
        np.multiply(z, slope, out=out)
    elif name == "elu":
        np.minimum(z, 0, out=out)
        np.expm1(out, out=out)
        out *= DTYPE(param)  # alpha (e^z - 1) below 0, 0 above
        np.add(out, DTYPE(param), out=slope)  # TensorFlow's derivative below 0: elu(z) + alpha
        if param != 1:
            slope[z >= 0] = 1
        out += np.maximum(z, 0)
    elif name == "tanh":
        np.tanh(z, out=out)
        np.square(out, out=slope)
        np.subtract(1, slope, out=slope)
    elif name in _IN_PLACE:
        _IN_PLACE[name](param, z, out, slope)
    else:
        a, d = _activate(name, param, z)
        out[...] = a
        slope[...] = d


# The training loop calls the activation once per layer and update on small arrays, so the members of the
# family below are written with preallocated outputs (the same values as _activate, a few times faster).


def _sigmoid_into(z: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out = sigmoid(z)`` as ``(1 + tanh(z / 2)) / 2``: no overflow, no float64."""
    np.multiply(z, DTYPE(0.5), out=out)
    np.tanh(out, out=out)
    out += 1
    out *= DTYPE(0.5)
    return out


def _sigmoid_in_place(param: float, z: np.ndarray, out: np.ndarray, slope: np.ndarray) -> None:
    _sigmoid_into(z, out)
    np.subtract(1, out, out=slope)
    slope *= out


def _prelu_in_place(alpha: np.ndarray, z: np.ndarray, out: np.ndarray, slope: np.ndarray) -> None:
    np.greater(z, 0, out=slope)  # 1 above 0, and TensorFlow's 0 at exactly 0
    np.copyto(slope, np.broadcast_to(alpha, z.shape), where=z < 0)
    np.multiply(z, slope, out=out)


def _relu6_in_place(param: float, z: np.ndarray, out: np.ndarray, slope: np.ndarray) -> None:
    np.clip(z, 0, 6, out=out)
    np.logical_and(z > 0, z < 6, out=slope, casting="unsafe")  # 0 at both kinks, as tf.nn.relu6


def _selu_in_place(param: float, z: np.ndarray, out: np.ndarray, slope: np.ndarray) -> None:
    scale, scaled_alpha = DTYPE(SELU_SCALE), DTYPE(SELU_SCALE * SELU_ALPHA)
    np.minimum(z, 0, out=out)
    np.expm1(out, out=out)
    out *= scaled_alpha
    np.add(out, scaled_alpha, out=slope)  # tf.nn.selu's derivative below 0, then scale at and above 0
    np.copyto(slope, scale, where=z >= 0)
    out += scale * np.maximum(z, 0)


def _softplus_in_place(param: float, z: np.ndarray, out: np.ndarray, slope: np.ndarray) -> None:
    np.abs(z, out=slope)  # log(1 + e^z) = max(z, 0) + log1p(e^-|z|); slope is scratch until the end
    np.negative(slope, out=slope)
    np.exp(slope, out=slope)
    np.log1p(slope, out=slope)
    np.maximum(z, 0, out=out)
    out += slope
    _sigmoid_into(z, slope)


def _silu_in_place(param: float, z: np.ndarray, out: np.ndarray, slope: np.ndarray) -> None:
    s = _sigmoid_into(z, slope)
    np.multiply(z, s, out=out)  # z s
    one_minus = 1 - s
    one_minus *= out
    slope += one_minus  # s + z s (1 - s)


def _gelu_in_place(param: float, z: np.ndarray, out: np.ndarray, slope: np.ndarray) -> None:
    if param:  # the tanh approximation
        c, cubic = DTYPE(np.sqrt(2 / np.pi)), DTYPE(0.044715)
        z2 = z * z
        th = np.tanh(c * z * (1 + cubic * z2))
        np.add(1, th, out=out)
        out *= DTYPE(0.5) * z
        np.multiply(th, th, out=slope)
        np.subtract(1, slope, out=slope)
        slope *= DTYPE(0.5) * c * z * (1 + DTYPE(3) * cubic * z2)
        slope += DTYPE(0.5) * (1 + th)
        return
    cdf = _erf(z * DTYPE(np.sqrt(0.5)))
    cdf += 1
    cdf *= DTYPE(0.5)
    np.multiply(z, cdf, out=out)
    np.multiply(z, z, out=slope)
    slope *= DTYPE(-0.5)
    np.exp(slope, out=slope)
    slope *= z
    slope *= DTYPE(1 / np.sqrt(2 * np.pi))
    slope += cdf


def _maxout_in_place(param: float, z: np.ndarray, out: np.ndarray, slope: np.ndarray) -> None:
    if param != 2:
        a, d = _activate("maxout", param, z)
        out[...], slope[...] = a, d
        return
    first, second = z[..., 0::2], z[..., 1::2]
    np.maximum(first, second, out=out)
    np.greater(first, second, out=slope[..., 0::2])
    np.less(first, second, out=slope[..., 1::2])
    tie = first == second  # tf.reduce_max shares a tie equally
    if tie.any():
        np.copyto(slope[..., 0::2], DTYPE(0.5), where=tie)
        np.copyto(slope[..., 1::2], DTYPE(0.5), where=tie)


_IN_PLACE = {
    "sigmoid": _sigmoid_in_place,
    "prelu": _prelu_in_place,
    "relu6": _relu6_in_place,
    "selu": _selu_in_place,
    "softplus": _softplus_in_place,
    "silu": _silu_in_place,
    "gelu": _gelu_in_place,
    "maxout": _maxout_in_place,
}


def _check_pieces(runs: list[tuple[slice, str, float]], params: Params) -> int:
    """The pieces per unit of a call's networks: Maxout networks all have the same, and only they have more than 1
    (their kernels have another shape, so they cannot share a call with other activations)."""
    wanted = {int(param) if name == "maxout" else 1 for _, name, param in runs}
    if len(wanted) > 1:
        raise ValueError(
            "Maxout networks cannot be trained in one call with other activations or other pieces"
        )
    (pieces,) = wanted
    if params.pieces != pieces:
        raise ValueError(
            f"the activation has {pieces} piece(s) per unit, params have {params.pieces}: "
            "use init_params(..., pieces=...)"
        )
    return pieces


def train(
    params: Params,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
    activation: Activations = "relu",
    epochs: int = 500,
    batch_size: int = 32,
    learning_rate: PerModel = 0.01,
    momentum: float = 0.9,
    activity_l1: PerModel = 0.0,
    weight_l2: PerModel = 0.0,
    seed: int = 0,
    batches: Sequence[np.ndarray] | None = None,
    record_grad_norms: bool = False,
    hidden_x: np.ndarray | None = None,
    hidden_epochs: Sequence[int] = (),
    callback: Callable[[int, Params], None] | None = None,
    streams: Sequence[int] | None = None,
    record_curves: bool = True,
) -> TrainResult:
    """Train the ``S`` networks in ``params`` (left unchanged) with mini-batch SGD and momentum.

    Args:
        params: initial weights, e.g. from :func:`init_params`; copied, not modified.
        x_train, y_train: ``(m, n_inputs)`` features and ``(m,)`` 0/1 labels; ``x_train`` may also be
            ``(S, m, n_inputs)``, each network's own version of the same ``m`` examples.
        x_test, y_test: an optional held-out set, evaluated after every epoch (defaults to the training set);
            ``x_test`` may be ``(S, m_test, n_inputs)`` too.
        activation: hidden-layer activation, a name from :data:`ACTIVATIONS` (``"relu"``, ``"tanh"``,
            ``"elu"``, ``"prelu"``, ``"gelu"``, ...) or ``(name, parameter)``: ``("leaky_relu", slope)``
            (default 0.2, the Keras function's), ``("elu", alpha)``, ``("prelu", starting slope)`` (default 0,
            as Keras; the slopes are then learned, one per unit, like the weights), ``("gelu", 1)`` for the
            tanh approximation; or a list of ``S`` of these, one per network (fastest when equal ones are
            adjacent). The output unit is always a sigmoid.
        epochs, batch_size, learning_rate, momentum: as in ``model.fit`` and ``keras.optimizers.SGD``;
            ``learning_rate`` may be a sequence of ``S`` values, one per network.
        activity_l1: adds ``activity_l1 * sum(|h|)`` over every hidden activation, averaged over the batch,
            to the loss (an L1 activity penalty; 0 turns it off); a sequence gives each network its own.
        weight_l2: adds ``weight_l2 * sum(W ** 2)`` over every kernel ``W`` (the hidden layers' and the
            output layer's; not the biases, not PReLU slopes) to the loss, so each kernel's gradient gains
            ``2 * weight_l2 * W``: Keras' ``kernel_regularizer=keras.regularizers.L2(weight_l2)`` on every
            ``Dense`` layer (its ``L2(l2)`` computes ``l2 * sum(square(x))``, not divided by the batch
            size). 0 turns it off; a sequence gives each network its own.
        seed: network ``i`` shuffles with ``np.random.default_rng([seed, i])`` (use a different seed from
            :func:`init_params` if the two streams must be independent; they are separate generators).
        batches: fixed batch order instead of shuffling: a sequence of index arrays, each ``(S, b)`` (or
            ``(b,)`` for all networks), used in order for all updates; ``epochs`` is then ignored and the
            curves have one entry per batch. Used by the tests to compare with Keras step by step.
        record_grad_norms: also return each kernel gradient's norm, averaged over each epoch.
        hidden_x, hidden_epochs: return hidden activations on ``hidden_x`` (``(m, n)`` or ``(S, m, n)``)
            after the listed epochs (0 = initial weights).
        callback: ``callback(epoch, params)`` after each epoch (epoch counts from 1), e.g. to measure
            dead units; it must not modify ``params``.
        streams: network ``i`` shuffles with ``default_rng([seed, streams[i]])`` instead, so networks with
            the same stream see the same batches in the same order (e.g. one stream per seed, shared by
            several settings).
        record_curves: evaluate on the training and test sets after every epoch; ``False`` skips that
            (the four curves are then empty), which saves time when only the weights are needed.

    Returns:
        A :class:`TrainResult`.
    """
    x_train = np.asarray(x_train, DTYPE)
    y_train = np.asarray(y_train, DTYPE).reshape(-1)
    x_test = x_train if x_test is None else np.asarray(x_test, DTYPE)
    y_test = y_train if y_test is None else np.asarray(y_test, DTYPE).reshape(-1)
    n_models, widths = params.n_models, params.widths
    runs = _runs(activation, n_models)
    n_layers = len(widths) - 1
    m = x_train.shape[-2]
    if x_train.ndim == 3 and x_train.shape[0] != n_models:
        raise ValueError(f"x_train has inputs for {x_train.shape[0]} networks, params for {n_models}")

    prelu = [(rows, param) for rows, name, param in runs if name == "prelu"]
    pieces = _check_pieces(runs, params)
    p, g, v = (_Flat(widths, n_models, learned_slopes=bool(prelu), pieces=pieces) for _ in range(3))
    for k in range(n_layers):
        p.kernels[k][...] = params.kernels[k]
        p.biases[k][...] = params.biases[k]
    if prelu:
        for k, alpha in enumerate(p.alphas):
            for rows, initial in prelu:
                alpha[rows] = initial if params.alphas is None else params.alphas[k][rows]
    current = Params(p.kernels, p.biases, p.alphas)  # views into the live buffer
    lr = DTYPE(learning_rate) if np.ndim(learning_rate) == 0 else p.spread(learning_rate)
    mom, l1 = DTYPE(momentum), np.asarray(activity_l1, DTYPE)
    penalised = np.flatnonzero(np.broadcast_to(l1, n_models))  # the L1 term touches only their rows
    l1_rows = slice(penalised[0], penalised[-1] + 1) if penalised.size else None
    l1 = l1.reshape(-1, 1, 1)[l1_rows] if l1.ndim else l1
    # d(l2 sum W^2)/dW = 2 l2 W: a buffer-shaped factor, 2 l2 at every kernel entry and 0 at biases and slopes
    l2 = np.broadcast_to(np.asarray(weight_l2, DTYPE), (n_models,))
    decay = None
    if l2.any():
        decay = _Flat(widths, n_models, learned_slopes=bool(prelu), pieces=pieces)
        for kernel in decay.kernels:
            kernel[...] = 2 * l2[:, None, None]
        decay_term = np.empty_like(decay.buffer)
    # [x, 1] for every example; with per-network inputs, network i's rows start at i * m
    x_aug = np.concatenate([x_train, np.ones((*x_train.shape[:-1], 1), DTYPE)], axis=-1)
    offsets = None if x_train.ndim == 2 else np.arange(n_models)[:, None] * m
    x_aug = x_aug.reshape(-1, x_aug.shape[-1])
    if record_curves:
        lead = (n_models,) if x_train.ndim == 3 or x_test.ndim == 3 else ()
        x_both = np.concatenate([np.broadcast_to(a, (*lead, *a.shape[-2:])) for a in (x_train, x_test)], -2)
        y_both = np.concatenate([y_train, y_test])
    buffers: dict[int, _Buffers] = {}

    if batches is not None:
        schedule = [[np.broadcast_to(np.asarray(b), (n_models, np.shape(b)[-1]))] for b in batches]
    else:
        keys, which = np.unique(np.arange(n_models) if streams is None else streams, return_inverse=True)
        rngs = [np.random.default_rng([seed, int(key)]) for key in keys]
        starts = range(0, m, batch_size)
        schedule = None
    n_epochs = len(schedule) if schedule is not None else epochs

    curves = np.zeros((4, n_models, n_epochs if record_curves else 0), DTYPE)
    norms = np.zeros((n_models, n_epochs, n_layers), DTYPE) if record_grad_norms else None
    hidden_epochs = set(hidden_epochs)
    hidden_out: dict[int, list[np.ndarray]] = {}
    if hidden_x is not None and 0 in hidden_epochs:
        hidden_out[0] = forward(current, hidden_x, activation, hidden=True)[1]

    for epoch in range(n_epochs):
        if schedule is not None:
            epoch_batches = schedule[epoch]
        else:
            order = np.stack([rng.permutation(m) for rng in rngs])
            if streams is not None:
                order = order[which]
            epoch_batches = [order[:, s : s + batch_size] for s in starts]
        for idx in epoch_batches:
            size = idx.shape[1]
            if size not in buffers:
                buffers[size] = _Buffers(widths, n_models, size, runs, current, pieces)
            buf = buffers[size]
            np.take(x_aug, idx if offsets is None else idx + offsets, axis=0, out=buf.inputs[0])
            # forward: z_k = [h_k, 1] @ A_k ; h_{k+1} = f(z_k)
            for k in range(n_layers - 1):
                np.matmul(buf.inputs[k], p.blocks[k], out=buf.pre[k])
                for name, param, z, h, d in buf.runs[k]:
                    _activate_into(name, param, z, h, d)
            z = np.matmul(buf.inputs[-1], p.blocks[-1], out=buf.pre[-1])
            # d(mean BCE)/dz = (sigmoid(z) - y) / batch
            delta = _sigmoid_into(z, np.empty_like(z))
            delta -= y_train[idx][..., None]
            delta *= buf.scale
            for k in range(n_layers - 1, -1, -1):
                np.matmul(buf.inputs[k].transpose(0, 2, 1), delta, out=g.blocks[k])
                if k:
                    delta = np.matmul(delta, p.kernels[k].transpose(0, 2, 1))
                    if l1_rows is not None:
                        delta[l1_rows] += (l1 * buf.scale) * np.sign(buf.hidden[k - 1][l1_rows])
                    for rows, _ in prelu:  # d f / d alpha = min(z, 0), summed over the batch
                        z_rows = buf.pre[k - 1][rows]
                        np.sum(delta[rows] * np.minimum(z_rows, 0), axis=1, out=g.alphas[k - 1][rows])
                    if pieces > 1:  # each unit's gradient goes to the piece(s) that won the max
                        delta = np.repeat(delta, pieces, axis=-1)
                    delta *= buf.slopes[k - 1]
            if decay is not None:  # the weight penalty's gradient, on the kernels only
                np.multiply(decay.buffer, p.buffer, out=decay_term)
                g.buffer += decay_term
            if norms is not None:
                for k in range(n_layers):
                    norms[:, epoch, k] += np.sqrt(np.square(g.kernels[k]).sum(axis=(1, 2)))
            # Keras SGD with momentum: v <- m v - lr g ; w <- w + v
            v.buffer *= mom
            g.buffer *= lr
            v.buffer -= g.buffer
            p.buffer += v.buffer
        if norms is not None:
            norms[:, epoch] /= len(epoch_batches)
        if record_curves:
            z = _logits(current, x_both, activation)
            losses, hits = _bce_from_logits(z, y_both), (z > 0) == (y_both > 0.5)
            curves[0, :, epoch], curves[1, :, epoch] = losses[:, :m].mean(axis=1), hits[:, :m].mean(axis=1)
            curves[2, :, epoch], curves[3, :, epoch] = losses[:, m:].mean(axis=1), hits[:, m:].mean(axis=1)
        if hidden_x is not None and epoch + 1 in hidden_epochs:
            hidden_out[epoch + 1] = forward(current, hidden_x, activation, hidden=True)[1]
        if callback is not None:
            callback(epoch + 1, current)
    return TrainResult(current.copy(), *curves, grad_norms=norms, hidden=hidden_out)
