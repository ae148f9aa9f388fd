"""rectified.training runs the seed's Keras experiment: same updates, same data, same initialisers."""

from __future__ import annotations

import os

import numpy as np
import pytest

from rectified import training

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _keras_model(widths: list[int], activation: str | tuple[str, float]):
    import keras

    if isinstance(activation, tuple):
        name, value = activation
        hidden = {
            "leaky_relu": lambda: keras.layers.LeakyReLU(negative_slope=value),
            "elu": lambda: keras.layers.ELU(alpha=value),
        }[name]
    layers = [keras.Input((widths[0],))]
    for width in widths[1:-1]:
        if isinstance(activation, tuple):
            layers += [keras.layers.Dense(width), hidden()]
        else:
            layers.append(keras.layers.Dense(width, activation=activation))
    layers.append(keras.layers.Dense(1, activation="sigmoid"))
    model = keras.Sequential(layers)
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.01, momentum=0.9),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    return model


@pytest.mark.parametrize(
    ("activation", "kernel_init", "bias_init"),
    [
        ("relu", "he_uniform", 0.0),
        ("tanh", ("uniform", 0.0, 1.0), 0.0),
        ("sigmoid", "glorot_normal", 0.1),
        (("leaky_relu", 0.1), "he_normal", -0.2),
        (("elu", 0.5), "he_uniform", 0.0),
    ],
    ids=["relu-he", "tanh-uniform01", "sigmoid-glorot", "leaky-negative-bias", "elu"],
)
def test_updates_equal_keras_from_the_same_weights_and_batches(activation, kernel_init, bias_init) -> None:
    """Thirty SGD-momentum steps (batches of 32 and a short one of 20) give Keras' weights to 1e-5."""
    x_train, y_train, _, _ = training.circles_split()
    params = training.init_params(2, (5, 5, 5), kernel_init, None, bias_init, seed=3)
    rng = np.random.default_rng(0)
    batches = []
    for _ in range(2):
        order = rng.permutation(500)
        batches += [order[s : s + 32] for s in range(0, 500, 32)]
    batches = batches[:30] + [batches[15]]  # includes the 20-point batch closing each epoch
    result = training.train(params, x_train, y_train, activation=activation, batches=batches)
    for i in range(2):
        model = _keras_model(params.widths, activation)
        model.set_weights(params.model(i))
        for idx in batches:
            model.train_on_batch(x_train[idx], y_train[idx])
        for ours, theirs in zip(result.params.model(i), model.get_weights(), strict=True):
            np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
        loss, accuracy = model.evaluate(x_train, y_train, verbose=0)
        np.testing.assert_allclose(result.train_loss[i, -1], loss, rtol=1e-4)
        np.testing.assert_allclose(result.train_accuracy[i, -1], accuracy)


def test_weights_actually_move() -> None:
    """A guard for the comparison above: training changes every kernel."""
    x_train, y_train, _, _ = training.circles_split()
    params = training.init_params(1, (5, 5), seed=0)
    result = training.train(params, x_train, y_train, epochs=2)
    for before, after in zip(params.kernels, result.params.kernels, strict=True):
        assert np.abs(before - after).max() > 1e-3


def test_a_network_trains_the_same_alone_or_with_others() -> None:
    """Network 0 of three gets the same initial weights, shuffles and final weights as network 0 alone."""
    x_train, y_train, x_test, y_test = training.circles_split()
    three = training.init_params(3, seed=5)
    one = training.init_params(1, seed=5)
    for a, b in zip(one.model(0), three.model(0), strict=True):
        np.testing.assert_array_equal(a, b)
    many = training.train(three, x_train, y_train, x_test, y_test, epochs=3, seed=9)
    alone = training.train(one, x_train, y_train, x_test, y_test, epochs=3, seed=9)
    np.testing.assert_allclose(alone.test_accuracy[0], many.test_accuracy[0])
    for a, b in zip(alone.params.model(0), many.params.model(0), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_each_epoch_makes_sixteen_updates_over_a_fresh_permutation() -> None:
    """Shuffled training equals training on explicit batches: 15 of 32 and one of 20 per epoch, each point
    once, from network i's generator ``default_rng([seed, i])``, a new permutation every epoch."""
    x_train, y_train, _, _ = training.circles_split()
    params = training.init_params(2, (5, 5), seed=4)
    shuffled = training.train(params, x_train, y_train, epochs=2, seed=7)
    rngs = [np.random.default_rng([7, i]) for i in range(2)]
    batches = []
    for _ in range(2):
        order = np.stack([rng.permutation(500) for rng in rngs])
        batches += [order[:, s : s + 32] for s in range(0, 500, 32)]
    assert [b.shape[1] for b in batches[:16]] == [32] * 15 + [20]
    explicit = training.train(params, x_train, y_train, batches=batches)
    for i in range(2):
        for a, b in zip(shuffled.params.model(i), explicit.params.model(i), strict=True):
            np.testing.assert_array_equal(a, b)


def test_circles_split_is_the_seed_data() -> None:
    x_train, y_train, x_test, y_test = training.circles_split()
    assert x_train.shape == (500, 2) and x_test.shape == (500, 2)
    both = np.concatenate([x_train, x_test])
    np.testing.assert_allclose(both.min(axis=0), [-1, -1])
    np.testing.assert_allclose(both.max(axis=0), [1, 1])
    assert set(np.unique(np.concatenate([y_train, y_test]))) == {0.0, 1.0}


@pytest.mark.parametrize(
    ("init", "expected_std"),
    [
        ("he_uniform", np.sqrt(2 / 400)),
        ("he_normal", np.sqrt(2 / 400)),
        ("glorot_uniform", np.sqrt(2 / 700)),
        ("glorot_normal", np.sqrt(2 / 700)),
        ("lecun_normal", np.sqrt(1 / 400)),
        (("uniform", 0.0, 1.0), np.sqrt(1 / 12)),
    ],
)
def test_initialisers_have_the_keras_standard_deviations(init, expected_std) -> None:
    kernel = training._draw(init, np.random.default_rng(0), 400, 300)
    assert kernel.dtype == np.float32
    np.testing.assert_allclose(kernel.std(), expected_std, rtol=0.01)


def test_initialisers_match_keras_distributions() -> None:
    """Same distribution as Keras: compare quantiles of a large draw with Keras' own draw."""
    import keras

    for name in ("he_uniform", "he_normal", "glorot_uniform"):
        ours = np.sort(training._draw(name, np.random.default_rng(1), 400, 300).ravel())
        theirs = np.sort(np.asarray(keras.initializers.get(name)(shape=(400, 300))).ravel())
        quantiles = np.linspace(0, 1, 21)[1:-1]
        np.testing.assert_allclose(np.quantile(ours, quantiles), np.quantile(theirs, quantiles), atol=2e-3)
        np.testing.assert_allclose(ours.max(), theirs.max(), rtol=0.02)


def test_forward_returns_hidden_activations_consistent_with_the_output() -> None:
    params = training.init_params(2, (4, 3), bias_init=0.1, seed=1)
    x = np.random.default_rng(0).uniform(-1, 1, (7, 2))
    p, hidden = training.forward(params, x, "relu", hidden=True)
    assert p.shape == (2, 7) and [h.shape for h in hidden] == [(2, 7, 4), (2, 7, 3)]
    h1 = np.maximum(x @ params.kernels[0][1] + params.biases[0][1], 0)
    np.testing.assert_allclose(hidden[0][1], h1, rtol=1e-5, atol=1e-6)
    z = hidden[1][1] @ params.kernels[2][1] + params.biases[2][1]
    np.testing.assert_allclose(p[1], 1 / (1 + np.exp(-z[:, 0])), rtol=1e-5)


def test_recorded_hidden_activations_and_gradient_norms() -> None:
    x_train, y_train, _, _ = training.circles_split()
    calls = []
    result = training.train(
        training.init_params(2, (5, 5)),
        x_train,
        y_train,
        epochs=3,
        record_grad_norms=True,
        hidden_x=x_train[:10],
        hidden_epochs=(0, 3),
        callback=lambda epoch, params: calls.append(epoch),
    )
    assert calls == [1, 2, 3]
    assert sorted(result.hidden) == [0, 3] and result.hidden[3][1].shape == (2, 10, 5)
    assert result.grad_norms.shape == (2, 3, 3) and np.all(result.grad_norms > 0)
    assert result.train_loss.shape == (2, 3)


def test_activity_l1_gradient_matches_finite_differences() -> None:
    """The L1 activity term's gradient: compare one step's update with a numerical derivative."""
    x_train, y_train, _, _ = training.circles_split()
    params = training.init_params(1, (4, 4), bias_init=0.3, seed=2)
    x, y = x_train[:16].astype(np.float64), y_train[:16].astype(np.float64)
    l1 = 0.05

    def loss(kernel0):
        h, total = x, 0.0
        ks = [kernel0, *[k[0].astype(np.float64) for k in params.kernels[1:]]]
        for k, w in enumerate(ks):
            z = h @ w + params.biases[k][0]
            if k == len(ks) - 1:
                z = z[:, 0]
                return np.mean(np.logaddexp(0, z) - y * z) + total
            h = np.maximum(z, 0)
            total += l1 * np.abs(h).sum() / len(x)

    w0 = params.kernels[0][0].astype(np.float64)
    numeric = np.zeros_like(w0)
    for index in np.ndindex(w0.shape):
        step = np.zeros_like(w0)
        step[index] = 1e-6
        numeric[index] = (loss(w0 + step) - loss(w0 - step)) / 2e-6
    result = training.train(params, x_train, y_train, activity_l1=l1, batches=[np.arange(16)], momentum=0.0)
    analytic = (params.kernels[0][0] - result.params.kernels[0][0]) / 0.01
    np.testing.assert_allclose(analytic, numeric, rtol=1e-3, atol=1e-4)
