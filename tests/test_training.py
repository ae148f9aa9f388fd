"""rectified.training runs the seed's Keras experiment: same updates, same data, same initialisers."""

from __future__ import annotations

import os

import numpy as np
import pytest

from rectified import training

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _keras_model(widths: list[int], activation: str | tuple[str, float], weight_l2: float = 0.0):
    import keras

    # an L2 weight penalty on every kernel, hidden and output, as training.train(weight_l2=...) applies it
    dense = dict(kernel_regularizer=keras.regularizers.L2(weight_l2)) if weight_l2 else {}

    if activation == "prelu":
        activation = ("prelu", 0.0)
    if isinstance(activation, tuple):
        name, value = activation
        hidden = {
            "leaky_relu": lambda: keras.layers.LeakyReLU(negative_slope=value),
            "elu": lambda: keras.layers.ELU(alpha=value),
            "prelu": lambda: keras.layers.PReLU(alpha_initializer=keras.initializers.Constant(value)),
            "gelu": lambda: keras.layers.Activation(
                lambda z: keras.activations.gelu(z, approximate=bool(value))
            ),
        }[name]
    layers = [keras.Input((widths[0],))]
    for width in widths[1:-1]:
        if activation == "maxout":  # Dense(width * 2), then the max of each unit's two adjacent columns
            layers.append(keras.layers.Dense(width * 2, **dense))
            layers.append(
                keras.layers.Lambda(
                    lambda z, w=width: keras.ops.max(keras.ops.reshape(z, (-1, w, 2)), axis=-1)
                )
            )
        elif isinstance(activation, tuple):
            layers += [keras.layers.Dense(width, **dense), hidden()]
        else:
            layers.append(keras.layers.Dense(width, activation=activation, **dense))
    layers.append(keras.layers.Dense(1, activation="sigmoid", **dense))
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
        ("relu6", ("uniform", -3.0, 3.0), 0.5),  # large weights, so some units sit above 6
        ("selu", "lecun_normal", 0.0),
        ("softplus", "he_uniform", 0.0),
        ("silu", "he_uniform", -0.1),
        ("gelu", "he_uniform", 0.0),
        (("gelu", 1.0), "he_uniform", 0.0),
        (("prelu", 0.25), "he_uniform", -0.3),  # He et al.'s start; the negative bias puts units below 0
        ("prelu", "he_uniform", -0.3),  # Keras' start: 0
        ("maxout", "he_uniform", 0.0),
    ],
    ids=[
        "relu-he",
        "tanh-uniform01",
        "sigmoid-glorot",
        "leaky-negative-bias",
        "elu",
        "relu6",
        "selu-lecun",
        "softplus",
        "silu",
        "gelu-exact",
        "gelu-tanh",
        "prelu-0.25",
        "prelu-keras",
        "maxout-2",
    ],
)
def test_updates_equal_keras_from_the_same_weights_and_batches(activation, kernel_init, bias_init) -> None:
    """Thirty SGD-momentum steps (batches of 32 and a short one of 20) give Keras' weights to 1e-5."""
    _compare_with_keras(activation, kernel_init, bias_init)


@pytest.mark.parametrize("activation", ["relu", ("leaky_relu", 0.1)])
def test_an_l2_weight_penalty_updates_as_keras_kernel_regularizer_l2(activation) -> None:
    """``weight_l2`` is Keras' ``kernel_regularizer=L2(l2)`` on every Dense layer: the same thirty steps, for two
    networks with different penalties; a penalty large enough to change the weights visibly."""
    _compare_with_keras(activation, "he_uniform", 0.1, weight_l2=[0.01, 0.05])


def _compare_with_keras(activation, kernel_init, bias_init, weight_l2=(0.0, 0.0)) -> None:
    """Train two networks for thirty steps on fixed batches, with ours and with Keras from the same weights:
    the weights, the final loss (Keras' includes the weight penalty) and the accuracy must agree."""
    x_train, y_train, _, _ = training.circles_split()
    pieces = 2 if activation == "maxout" else 1
    params = training.init_params(2, (5, 5, 5), kernel_init, None, bias_init, seed=3, pieces=pieces)
    rng = np.random.default_rng(0)
    batches = []
    for _ in range(2):
        order = rng.permutation(500)
        batches += [order[s : s + 32] for s in range(0, 500, 32)]
    batches = batches[:30] + [batches[15]]  # includes the 20-point batch closing each epoch
    result = training.train(
        params, x_train, y_train, activation=activation, batches=batches, weight_l2=list(weight_l2)
    )
    if any(weight_l2):  # the penalty must matter, or the comparison could not tell it apart from none
        plain = training.train(params, x_train, y_train, activation=activation, batches=batches)
        assert np.abs(plain.params.kernels[0] - result.params.kernels[0]).max() > 1e-3
    if training._parse_activation(activation)[0] == "prelu":  # Keras holds the slopes as weights
        initial = training._parse_activation(activation)[1]
        params.alphas = [np.full_like(b, initial) for b in params.biases[:-1]]
        assert not np.allclose(result.params.alphas[0], initial), "the slopes did not move"
    for i in range(2):
        model = _keras_model(params.widths, activation, weight_l2[i])
        model.set_weights(params.model(i))
        for idx in batches:
            model.train_on_batch(x_train[idx], y_train[idx])
        for ours, theirs in zip(result.params.model(i), model.get_weights(), strict=True):
            np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
        loss, accuracy = model.evaluate(x_train, y_train, verbose=0)
        penalty = weight_l2[i] * sum(float(np.square(k[i]).sum()) for k in result.params.kernels)
        np.testing.assert_allclose(result.train_loss[i, -1] + penalty, loss, rtol=1e-4)
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


def test_init_params_sets_every_hidden_bias_and_leaves_the_output_bias_at_zero() -> None:
    params = training.init_params(3, (4, 4), bias_init=-0.25, seed=1)
    for bias in params.biases[:-1]:
        np.testing.assert_array_equal(bias, np.full((3, 4), -0.25, np.float32))
    np.testing.assert_array_equal(params.biases[-1], np.zeros((3, 1), np.float32))


def test_params_concatenate_puts_the_networks_side_by_side_in_order() -> None:
    a = training.init_params(2, (4, 3), seed=1)
    b = training.init_params(3, (4, 3), "glorot_uniform", bias_init=0.5, seed=2)
    both = training.Params.concatenate([a, b])
    assert both.n_models == 5 and both.widths == a.widths
    for i, (part, j) in enumerate([(a, 0), (a, 1), (b, 0), (b, 1), (b, 2)]):
        for ours, theirs in zip(both.model(i), part.model(j), strict=True):
            np.testing.assert_array_equal(ours, theirs)


# Four settings that differ in every per-network option: activation, learning rate, L1, inputs, initial bias.
SETTINGS = [
    dict(activation="relu", lr=0.05, l1=0.0, raw=False, bias=0.0),
    dict(activation=("leaky_relu", 0.1), lr=0.02, l1=0.01, raw=True, bias=0.0),
    dict(activation=("elu", 0.5), lr=0.1, l1=0.0, raw=False, bias=-0.1),
    dict(activation="relu", lr=0.01, l1=0.02, raw=False, bias=0.2),
]
STREAMS = [0, 1, 0, 1]


def _settings_inputs(x):
    """Each setting's inputs: the scaled points, or the same points in other units (raw=True)."""
    return np.stack([3 * x + 2 if s["raw"] else x for s in SETTINGS])


def _train_settings(epochs, hidden_epochs=(), **options):
    """One call of train with every setting of SETTINGS as its own network."""
    x_train, y_train, _, _ = training.circles_split()
    params = training.Params.concatenate(
        [training.init_params(1, (4, 4), bias_init=s["bias"], seed=i) for i, s in enumerate(SETTINGS)]
    )
    x = _settings_inputs(x_train)
    result = training.train(
        params,
        x,
        y_train,
        activation=[s["activation"] for s in SETTINGS],
        learning_rate=[s["lr"] for s in SETTINGS],
        activity_l1=[s["l1"] for s in SETTINGS],
        epochs=epochs,
        seed=7,
        streams=STREAMS,
        hidden_x=x,
        hidden_epochs=hidden_epochs,
        **options,
    )
    return params, x, y_train, result


def _reference_sgd(weights, x, y, batches, setting, momentum=0.9):
    """A slow float64 loop: one network, Keras' SGD with momentum on the given batches in order."""
    name, param = (
        (setting["activation"], None) if isinstance(setting["activation"], str) else setting["activation"]
    )
    weights = [w.astype(np.float64) for w in weights]
    velocity = [np.zeros_like(w) for w in weights]
    for idx in batches:
        h, inputs, slopes = x[idx].astype(np.float64), [], []
        for k in range(0, len(weights) - 2, 2):
            inputs.append(h)
            z = h @ weights[k] + weights[k + 1]
            if name == "relu":
                h, slope = np.maximum(z, 0), (z > 0).astype(float)
            elif name == "leaky_relu":
                h, slope = np.where(z > 0, z, param * z), np.where(z > 0, 1.0, param)
            else:  # elu
                h = np.where(z > 0, z, param * np.expm1(np.minimum(z, 0)))
                slope = np.where(z < 0, param * np.exp(np.minimum(z, 0)), 1.0)
            slopes.append(slope)
        inputs.append(h)
        z = (h @ weights[-2] + weights[-1])[:, 0]
        delta = ((1 / (1 + np.exp(-z))) - y[idx])[:, None] / len(idx)
        grads = [None] * len(weights)
        for layer in range(len(weights) // 2 - 1, -1, -1):
            grads[2 * layer] = inputs[layer].T @ delta
            grads[2 * layer + 1] = delta.sum(axis=0)
            if layer:
                delta = delta @ weights[2 * layer].T
                delta += setting["l1"] * np.sign(inputs[layer]) / len(idx)
                delta *= slopes[layer - 1]
        for w, v, g in zip(weights, velocity, grads, strict=True):
            v *= momentum
            v -= setting["lr"] * g
            w += v
    return weights


def test_per_network_settings_match_a_slow_reference_loop() -> None:
    """Each network of one batched call follows its own activation, learning rate, L1 penalty, inputs and
    shuffling stream: two epochs equal a plain float64 loop over that network alone."""
    params, x, y, result = _train_settings(epochs=2)
    for i, setting in enumerate(SETTINGS):
        rng = np.random.default_rng([7, STREAMS[i]])
        batches = [
            order[s : s + 32] for order in (rng.permutation(500) for _ in range(2)) for s in range(0, 500, 32)
        ]
        want = _reference_sgd(params.model(i), x[i], y, batches, setting)
        for ours, theirs in zip(result.params.model(i), want, strict=True):
            np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=2e-5)


def test_networks_on_one_stream_see_the_same_batches() -> None:
    """With the same stream, two copies of a network train identically; on another stream they do not."""
    x_train, y_train, _, _ = training.circles_split()
    params = training.Params.concatenate([training.init_params(1, (4, 4), seed=0)] * 3)
    result = training.train(params, x_train, y_train, epochs=2, streams=[5, 5, 6], record_curves=False)
    for a, b, c in zip(*(result.params.model(i) for i in range(3)), strict=True):
        np.testing.assert_array_equal(a, b)
        assert np.abs(a - c).max() > 1e-4


def _network(params, i):
    """Network i of params on its own."""
    return training.Params([k[i : i + 1] for k in params.kernels], [b[i : i + 1] for b in params.biases])


def test_a_batched_call_equals_one_call_per_setting() -> None:
    """Per-network settings in one call give the weights, curves and hidden activations of separate calls."""
    _, _, x_test, y_test = training.circles_split()
    tests = _settings_inputs(x_test)
    params, x, y, result = _train_settings(epochs=3, x_test=tests, y_test=y_test, hidden_epochs=[0, 2])
    for i, s in enumerate(SETTINGS):
        alone = training.train(
            _network(params, i),
            x[i],
            y,
            tests[i],
            y_test,
            activation=s["activation"],
            learning_rate=s["lr"],
            activity_l1=s["l1"],
            epochs=3,
            seed=7,
            streams=[STREAMS[i]],
            hidden_x=x[i],
            hidden_epochs=[0, 2],
        )
        for ours, theirs in zip(result.params.model(i), alone.params.model(0), strict=True):
            np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(result.test_loss[i], alone.test_loss[0], rtol=1e-5)
        np.testing.assert_allclose(result.train_accuracy[i], alone.train_accuracy[0])
        for epoch in (0, 2):
            for ours, theirs in zip(result.hidden[epoch], alone.hidden[epoch], strict=True):
                np.testing.assert_allclose(ours[i], theirs[0], rtol=1e-5, atol=1e-6)
    probabilities = training.forward(result.params, tests, [s["activation"] for s in SETTINGS])
    _, accuracy = training.evaluate(result.params, tests, y_test, [s["activation"] for s in SETTINGS])
    np.testing.assert_allclose(accuracy, result.test_accuracy[:, -1])
    for i, s in enumerate(SETTINGS):
        alone = training.forward(_network(result.params, i), tests[i], s["activation"])
        np.testing.assert_allclose(probabilities[i], alone[0], rtol=1e-5)


def test_skipping_the_curves_changes_nothing_else() -> None:
    x_train, y_train, _, _ = training.circles_split()
    params = training.init_params(2, (4, 4), seed=3)
    with_curves = training.train(params, x_train, y_train, epochs=2, activity_l1=[0.0, 0.01])
    without = training.train(params, x_train, y_train, epochs=2, activity_l1=[0.0, 0.01], record_curves=False)
    assert with_curves.test_accuracy.shape == (2, 2) and without.test_accuracy.shape == (2, 0)
    for a, b in zip(with_curves.params.model(1), without.params.model(1), strict=True):
        np.testing.assert_array_equal(a, b)


def test_an_l1_penalty_shrinks_the_hidden_activations() -> None:
    """Two copies of one network, one with a strong L1 penalty: after training its activations are smaller."""
    x_train, y_train, _, _ = training.circles_split()
    params = training.Params.concatenate([training.init_params(1, (8, 8), bias_init=0.1, seed=4)] * 2)
    result = training.train(
        params,
        x_train,
        y_train,
        epochs=5,
        activity_l1=[0.0, 0.05],
        streams=[0, 0],
        hidden_x=x_train,
        hidden_epochs=[5],
    )
    total = [sum(np.abs(h[i]).sum() for h in result.hidden[5]) for i in range(2)]
    assert total[1] < 0.5 * total[0], total


def test_a_list_of_activations_must_name_one_per_network() -> None:
    params = training.init_params(3, (4,))
    with pytest.raises(ValueError, match="2 activations for 3 networks"):
        training.forward(params, np.zeros((5, 2)), ["relu", "elu"])
    assert training._runs(["relu", "relu", "elu"], 3) == [
        (slice(0, 2), "relu", 0.0),
        (slice(2, 3), "elu", 1.0),
    ]


def test_learned_slopes_train_the_same_alone_or_beside_other_activations() -> None:
    """PReLU networks among others in one call learn the slopes and weights they learn alone, and forward()
    uses the learned slopes."""
    x_train, y_train, x_test, _ = training.circles_split()
    activations = ["relu", ("prelu", 0.25), "selu", "prelu", ("gelu", 1.0)]
    params = training.init_params(len(activations), (4, 3), bias_init=-0.2, seed=5)
    together = training.train(params, x_train, y_train, activation=activations, epochs=3, seed=9)
    for i, activation in enumerate(activations):
        alone = training.train(
            _network(params, i), x_train, y_train, activation=activation, epochs=3, seed=9, streams=[i]
        )
        for ours, theirs in zip(
            together.params.kernels + together.params.biases,
            alone.params.kernels + alone.params.biases,
            strict=True,
        ):
            np.testing.assert_allclose(ours[i], theirs[0], rtol=1e-5, atol=1e-6)
        if "prelu" in activation:
            for ours, theirs in zip(together.params.alphas, alone.params.alphas, strict=True):
                np.testing.assert_allclose(ours[i], theirs[0], rtol=1e-5, atol=1e-6)
            start = training._parse_activation(activation)[1]
            assert not np.allclose(together.params.alphas[0][i], start)
            np.testing.assert_allclose(
                training.forward(together.params, x_test, activations)[i],
                training.forward(alone.params, x_test, activation)[0],
                rtol=1e-5,
            )
    untrained_slopes = training.forward(together.params, x_test, activations)
    together.params.alphas = None  # back to the fixed starting slopes: the output changes
    assert not np.allclose(untrained_slopes[1], training.forward(together.params, x_test, activations)[1])


def test_maxout_networks_have_their_pieces_and_train_only_among_themselves() -> None:
    """A Maxout unit is the max of its pieces; a call that mixes pieces or activations is refused."""
    x_train, y_train, x_test, y_test = training.circles_split()
    params = training.init_params(3, (4, 3), "he_uniform", seed=2, pieces=3)
    assert params.widths == [2, 4, 3, 1] and params.pieces == 3
    assert params.kernels[0].shape == (3, 2, 12) and params.biases[1].shape == (3, 9)
    _, hidden = training.forward(params, x_test, ("maxout", 3), hidden=True)
    z = x_test @ params.kernels[0][1] + params.biases[0][1]
    np.testing.assert_allclose(hidden[0][1], z.reshape(-1, 4, 3).max(axis=-1), rtol=1e-6)
    result = training.train(params, x_train, y_train, x_test, y_test, activation=("maxout", 3), epochs=2)
    np.testing.assert_allclose(
        training.evaluate(result.params, x_test, y_test, ("maxout", 3))[1], result.test_accuracy[:, -1]
    )
    with pytest.raises(ValueError, match="pieces"):
        training.train(params, x_train, y_train, activation="maxout", epochs=1)
    with pytest.raises(ValueError, match="Maxout"):
        training.train(params, x_train, y_train, activation=[("maxout", 3), ("maxout", 3), "relu"], epochs=1)


def test_a_tie_between_maxout_pieces_shares_the_gradient_as_tensorflow_does() -> None:
    """tf.reduce_max (and so a Keras Maxout) splits the gradient equally between tied pieces."""
    z = np.array([[[1.0, 1.0, -2.0, 3.0]]], training.DTYPE)
    value, slope = training._activate("maxout", 2, z)
    np.testing.assert_array_equal(value, [[[1.0, 3.0]]])
    np.testing.assert_array_equal(slope, [[[0.5, 0.5, 0.0, 1.0]]])


@pytest.mark.parametrize("name", sorted(training.ACTIVATIONS))
def test_the_in_place_activations_equal_the_plain_ones(name) -> None:
    """The training loop's preallocated versions give _activate's values and slopes, kinks and ties included."""
    rng = np.random.default_rng(1)
    z = (rng.standard_normal((3, 8, 6)) * 4).astype(training.DTYPE)
    z[0, 0] = [0.0, 6.0, -0.0, 2.0, 2.0, 40.0]  # kinks of ReLU, ReLU6 and PReLU; a Maxout tie; saturation
    params = {"prelu": rng.uniform(0, 0.5, (3, 1, 6)).astype(training.DTYPE), "maxout": 2.0}
    for param in [params.get(name, training._parse_activation(name)[1]), *([1.0] if name == "gelu" else [])]:
        value, slope = training._activate(name, param, z)
        out, into = np.empty_like(value), np.empty_like(slope)
        training._activate_into(name, param, z, out, into)
        np.testing.assert_allclose(out, value, rtol=2e-6, atol=1e-6)
        np.testing.assert_allclose(into, slope, rtol=2e-6, atol=1e-6)
