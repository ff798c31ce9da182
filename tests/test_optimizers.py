import numpy as np
import pytest

from rnnlab import optimizers

STEPS = 5


def _run_rnnlab(opt, w0, grads):
    w = w0.copy()
    g = np.zeros_like(w)
    for gt in grads:
        g[...] = gt
        opt.apply([(w, g)])
    return w


def _run_torch(make, w0, grads):
    torch = pytest.importorskip("torch")
    w = torch.tensor(w0.copy(), requires_grad=True)
    opt = make(torch, [w])
    for gt in grads:
        opt.zero_grad()
        w.grad = torch.tensor(gt)
        opt.step()
    return w.detach().numpy()


@pytest.fixture
def problem(rng):
    return rng.standard_normal((3, 4)), [rng.standard_normal((3, 4)) for _ in range(STEPS)]


@pytest.mark.parametrize("ours,theirs", [
    (lambda: optimizers.SGD(0.1), lambda t, p: t.optim.SGD(p, lr=0.1)),
    (lambda: optimizers.SGD(0.1, momentum=0.9), lambda t, p: t.optim.SGD(p, lr=0.1, momentum=0.9)),
    (lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True),
     lambda t, p: t.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True)),
])
def test_matches_torch_exactly(problem, ours, theirs):
    w0, grads = problem
    np.testing.assert_allclose(_run_rnnlab(ours(), w0, grads), _run_torch(theirs, w0, grads), rtol=1e-12, atol=1e-14)


def test_adam_matches_torch_and_keras_formula(problem):
    w0, grads = problem
    ours = _run_rnnlab(optimizers.Adam(0.01), w0, grads)
    # Keras puts eps outside the bias correction: with |g| ~ 1 the difference from torch is ~1e-7 relative
    theirs = _run_torch(lambda t, p: t.optim.Adam(p, lr=0.01, eps=1e-7), w0, grads)
    np.testing.assert_allclose(ours - w0, theirs - w0, rtol=1e-5)        # the updates agree to 1e-5
    # and exactly the written Keras formula
    w, m, v = w0.copy(), np.zeros_like(w0), np.zeros_like(w0)
    for t, g in enumerate(grads, 1):
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        w = w - 0.01 * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t) * m / (np.sqrt(v) + 1e-7)
    np.testing.assert_allclose(ours, w, rtol=1e-12)


@pytest.mark.parametrize("momentum", [0.0, 0.5])
def test_rmsprop_matches_keras_formula_and_torch(problem, momentum):
    """Keras 3: w -= lr g / sqrt(v + eps) (torch: sqrt(v) + eps, the same far from eps)."""
    w0, grads = problem
    ours = _run_rnnlab(optimizers.RMSprop(0.01, momentum=momentum), w0, grads)
    w, v, mom = w0.copy(), np.zeros_like(w0), np.zeros_like(w0)
    for g in grads:
        v = 0.9 * v + 0.1 * g * g
        mom = momentum * mom + 0.01 * g / np.sqrt(v + 1e-7)
        w = w - mom
    np.testing.assert_allclose(ours, w, rtol=1e-12)
    theirs = _run_torch(lambda t, p: t.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-7, momentum=momentum), w0, grads)
    np.testing.assert_allclose(ours - w0, theirs - w0, rtol=1e-5)


def test_rmsprop_step_matches_keras(rng):
    import os
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    w0 = rng.standard_normal((3, 4)).astype("float32")
    grads = [rng.standard_normal((3, 4)).astype("float32") * 1e-3 for _ in range(3)]   # small: eps matters
    var = keras.Variable(w0.copy())
    opt = keras.optimizers.RMSprop(0.01)
    for g in grads:
        opt.apply_gradients([(keras.ops.convert_to_tensor(g), var)])
    ours = _run_rnnlab(optimizers.RMSprop(0.01), w0, grads)
    np.testing.assert_allclose(ours, np.asarray(var.numpy()), rtol=1e-5, atol=1e-7)


def test_adagrad_matches_keras_formula_and_torch(problem):
    w0, grads = problem
    ours = _run_rnnlab(optimizers.Adagrad(0.1), w0, grads)
    w, a = w0.copy(), np.full_like(w0, 0.1)
    for g in grads:
        a = a + g * g
        w = w - 0.1 * g / np.sqrt(a + 1e-7)
    np.testing.assert_allclose(ours, w, rtol=1e-12)
    theirs = _run_torch(lambda t, p: t.optim.Adagrad(p, lr=0.1, initial_accumulator_value=0.1, eps=0.0), w0, grads)
    np.testing.assert_allclose(ours - w0, theirs - w0, rtol=1e-5)   # eps inside vs outside the sqrt


def test_keras_defaults():
    assert optimizers.get("sgd").learning_rate == 0.01
    adam = optimizers.get("adam")
    assert (adam.learning_rate, adam.beta_1, adam.beta_2, adam.epsilon) == (0.001, 0.9, 0.999, 1e-7)
    rms = optimizers.get("rmsprop")
    assert (rms.learning_rate, rms.rho, rms.epsilon) == (0.001, 0.9, 1e-7)
    ada = optimizers.get("Adagrad")
    assert (ada.learning_rate, ada.initial_accumulator_value, ada.epsilon) == (0.001, 0.1, 1e-7)


def test_clipnorm_per_tensor():
    g1, g2 = np.array([3.0, 4.0]), np.array([0.3, 0.4])               # norms 5 and 0.5
    clipped = optimizers.SGD(clipnorm=1.0).clip_gradients([g1, g2])
    np.testing.assert_allclose(clipped[0], [0.6, 0.8])
    np.testing.assert_allclose(clipped[1], [0.3, 0.4])                 # below the norm: unchanged


def test_global_clipnorm():
    g1, g2 = np.array([3.0, 0.0]), np.array([0.0, 4.0])               # global norm 5
    clipped = optimizers.SGD(global_clipnorm=2.5).clip_gradients([g1, g2])
    np.testing.assert_allclose(clipped[0], [1.5, 0.0])
    np.testing.assert_allclose(clipped[1], [0.0, 2.0])


def test_clipvalue_and_update_use_clipped_gradient():
    w, g = np.array([0.0, 0.0, 0.0]), np.array([-5.0, 0.2, 3.0])
    optimizers.SGD(learning_rate=1.0, clipvalue=0.5).apply([(w, g)])
    np.testing.assert_allclose(w, [0.5, -0.2, -0.5])
    np.testing.assert_allclose(g, [-5.0, 0.2, 3.0])                    # the gradient itself is left alone


def test_learning_rate_schedule_is_called_with_the_step():
    seen = []

    def schedule(step):
        seen.append(step)
        return 1.0 / (step + 1)

    w, g = np.zeros(1), np.ones(1)
    opt = optimizers.SGD(learning_rate=schedule)
    for _ in range(3):
        opt.apply([(w, g)])
    assert seen == [0, 1, 2]
    np.testing.assert_allclose(w, [-(1 + 1 / 2 + 1 / 3)])


def test_optimizer_errors():
    with pytest.raises(ValueError, match="Unknown optimizer 'adamw2'"):
        optimizers.get("adamw2")
    with pytest.raises(ValueError, match="only one of clipnorm, clipvalue and global_clipnorm"):
        optimizers.Adam(clipnorm=1.0, clipvalue=0.5)
    with pytest.raises(ValueError, match="learning_rate=-0.1; expected a non-negative float"):
        optimizers.SGD(-0.1)
    with pytest.raises(ValueError, match="clipnorm=0; expected a positive number"):
        optimizers.SGD(clipnorm=0)
