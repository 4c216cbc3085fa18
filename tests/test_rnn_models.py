"""The RNN chapter's models (accel_edu/rnn/models.py) and text (accel_edu/rnn/text.py):
float64 gradient checks of each model on every backend, reproducible sampling whose
temperature -> 0 limit is the argmax, the shipped text, the training loop, and the errors a
student sees."""
from __future__ import annotations

import numpy as np
import pytest

from accel_edu.backprop import gradient_check
from accel_edu.backprop.gradcheck import _as64, relative_error
from accel_edu.optim import Adam
from accel_edu.rnn.models import (AttentionReverser, CharLM, ClipGradNorm, RecurrentReverser,
                                  SequenceClassifier, reversal_task, train_tokens)
from accel_edu.rnn.text import CharVocabulary, char_windows, load_text
from accel_edu.runtime import to_numpy
from float64_backends import FLOAT64_BACKENDS

VOCAB = CharVocabulary("abcde ")


def parameter_gradient_check(model, tokens, targets, eps=1e-6, seed=0, max_entries=12):
    """Central differences of L = sum(logits * g) against backward(g), for every parameter of a
    model whose input is integers (so there is no input gradient): {name: relative error}."""
    model = _as64(model)
    g = np.random.default_rng(seed).standard_normal(to_numpy(model.forward(tokens)).shape)
    model.forward(tokens)
    model.backward(model._here(g))
    analytic = {k: to_numpy(v).reshape(-1) for k, v in model.grads.items()}
    rng, errors = np.random.default_rng(seed + 1), {}
    for key in model.params:
        index, _, name = key.partition(".")
        layer = model.layers[int(index)]
        host = to_numpy(layer.params[name]).copy()
        picks = rng.choice(host.size, size=min(max_entries, host.size), replace=False)
        numeric = []
        for flat in picks:
            values = []
            for step in (eps, -eps):
                bumped = host.copy()
                bumped.reshape(-1)[flat] += step
                layer.params[name] = layer._here(bumped)
                values.append(float(np.sum(to_numpy(model.forward(tokens)) * g)))
            layer.params[name] = layer._here(host)
            numeric.append((values[0] - values[1]) / (2 * eps))
        a, n = analytic[key][picks], np.array(numeric)
        # The key projection's bias has gradient exactly 0 (q.(k_j + b) shifts every score of a
        # row by q.b, which softmax ignores): compare such a gradient absolutely, not relatively.
        scale = float(np.max(np.abs(a) + np.abs(n)))
        errors[key] = relative_error(a, n) if scale > 1e-7 else float(np.max(np.abs(a - n)))
    return errors


@pytest.mark.parametrize("backend", FLOAT64_BACKENDS)
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_classifier_gradient(cell, backend):
    """Only h_T reaches the loss; the gradient still flows through every step back to x."""
    model = SequenceClassifier(2, 4, 3, cell=cell, seed=1, backend=backend)
    x = np.random.default_rng(2).standard_normal((3, 5, 2))
    result = gradient_check(model, x)
    assert result.passed, result.errors
    assert set(result.errors) == {"x", "0.w_ih", "0.w_hh", "0.b_ih", "0.b_hh", "1.w", "1.b"}


def _token_models(backend):
    tokens, targets = reversal_task(2, 4, digits=5, seed=3)
    text = VOCAB.encode("abc de ab")[:8].reshape(4, 2)
    return {
        "lm_lstm": (CharLM(VOCAB, 3, 4, cell="lstm", seed=1, backend=backend), text),
        "lm_gru": (CharLM(VOCAB, 3, 4, cell="gru", seed=1, backend=backend), text),
        "attention": (AttentionReverser(5, 4, 3, seed=1, backend=backend), tokens),
        "attention_plain": (AttentionReverser(5, 4, 3, seed=1, backend=backend,
                                              variant=None if backend == "numpy" else "plain"), tokens),
        "rnn_reverser": (RecurrentReverser(5, 4, 3, seed=1, backend=backend), tokens),
    }


@pytest.mark.parametrize("backend", FLOAT64_BACKENDS)
@pytest.mark.parametrize("which", ["lm_lstm", "lm_gru", "attention", "attention_plain", "rnn_reverser"])
def test_token_model_gradient(which, backend):
    model, tokens = _token_models(backend)[which]
    errors = parameter_gradient_check(model, tokens, None)
    assert max(errors.values()) < 1e-6, errors
    assert len(errors) == len(model.params)


@pytest.fixture(scope="module")
def lm():
    return CharLM(VOCAB, 4, 8, seed=0, backend="numpy")


def test_sampling_is_reproducible_from_a_seed(lm):
    a = lm.sample("ab", 30, temperature=1.0, seed=7)
    assert a == lm.sample("ab", 30, temperature=1.0, seed=7)
    assert a != lm.sample("ab", 30, temperature=1.0, seed=8)
    assert a.startswith("ab") and len(a) == 32 and set(a) <= set(VOCAB.chars)


def test_cold_sampling_is_the_argmax(lm):
    """temperature -> 0 puts all the probability on the largest logit: greedy decoding,
    computed here step by step without the sampler."""
    ids = list(VOCAB.encode("ab"))
    logits = lm.forward(np.array(ids)[:, None])
    for _ in range(20):
        ids.append(int(to_numpy(logits)[-1].argmax()))
        logits = lm.forward(np.array([[ids[-1]]]), lm.state)
    greedy = VOCAB.decode(ids)
    assert lm.sample("ab", 20, temperature=1e-6, seed=0) == greedy
    assert lm.sample("ab", 20, temperature=1e-6, seed=99) == greedy


@pytest.mark.parametrize("backend", ["numba", "opencl"])
def test_sampling_runs_on_each_backend(backend):
    from accel_edu.runtime import available_backends
    if not available_backends()[backend]:
        pytest.skip(available_backends()[backend].detail)
    model = CharLM(VOCAB, 4, 8, seed=0, backend=backend)
    reference = CharLM(VOCAB, 4, 8, seed=0, backend="numpy")
    cold = model.sample("ab", 10, temperature=1e-6, seed=0)
    assert cold == reference.sample("ab", 10, temperature=1e-6, seed=0)
    assert model.sample("ab", 10, seed=3) == model.sample("ab", 10, seed=3)


@pytest.mark.parametrize("kwargs, match", [
    (dict(prompt="abz"), "outside the vocabulary: 'z'"),
    (dict(temperature=0.0), "temperature must be a number > 0"),
    (dict(temperature=-1.0), "temperature must be a number > 0"),
    (dict(n=-1), "n must be a non-negative integer"),
    (dict(prompt=""), "prompt must be a non-empty str"),
])
def test_sample_names_bad_input(lm, kwargs, match):
    args = dict(prompt="ab", n=5, temperature=1.0, seed=0) | kwargs
    with pytest.raises(ValueError, match=match):
        lm.sample(**args)


def test_models_name_bad_input():
    with pytest.raises(ValueError, match="cell must be one of"):
        SequenceClassifier(1, 4, 2, cell="transformer")
    with pytest.raises(ValueError, match=r"x must have shape \(N, T\) or \(N, T, D\)"):
        SequenceClassifier(1, 4, 2).forward(np.zeros(5))
    with pytest.raises(ValueError, match=r"tokens must lie in \[0, 5\); got values from 0 to 7"):
        AttentionReverser(5, 3, 4).forward(np.array([[0, 7, 1]]))
    with pytest.raises(ValueError, match=r"tokens must have shape \(N, 3\)"):
        RecurrentReverser(5, 3, 4).forward(np.zeros((2, 4), dtype=np.int64))
    with pytest.raises(ValueError, match="tokens must be a 2-D integer array"):
        CharLM(VOCAB, 2, 3).forward(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="name must be one of"):
        load_text("hamlet")


def test_shipped_text_and_vocabulary():
    text = load_text()
    assert 100_000 < len(text.encode()) < 500_000
    assert text.startswith("In the beginning God created the heaven and the earth.")
    vocab = CharVocabulary(text)
    ids = vocab.encode(text[:500])
    assert vocab.decode(ids) == text[:500] and ids.max() < len(vocab)
    tokens, targets = char_windows(vocab.encode(text), 16, 3, seed=0, step=1)
    assert tokens.shape == targets.shape == (16, 3)
    np.testing.assert_array_equal(tokens[1:], targets[:-1])       # the target is the next character
    again, _ = char_windows(vocab.encode(text), 16, 3, seed=0, step=1)
    np.testing.assert_array_equal(tokens, again)


def test_reversal_task():
    tokens, targets = reversal_task(4, 6, digits=7, seed=1)
    assert tokens.shape == (4, 6) and tokens.max() < 7
    np.testing.assert_array_equal(targets[:, ::-1], tokens)


def test_attention_learns_to_reverse():
    """A few hundred Adam steps: one attention layer reverses 6 digits almost perfectly, and
    its attention map puts most weight on the mirrored position (the anti-diagonal)."""
    model = AttentionReverser(10, 6, 16, seed=0, backend="numpy")
    history = train_tokens(model, lambda step: reversal_task(64, 6, seed=step), 300,
                           Adam(model.parameters(), lr=0.02), max_norm=1.0, report_every=100,
                           progress=False)
    assert history["step"] == [100, 200, 300] and history["loss"][-1] < history["loss"][0]
    tokens, targets = reversal_task(200, 6, seed=10_000)
    assert (model.predict(tokens) == targets).mean() > 0.95
    maps = model.attention_map(tokens)
    np.testing.assert_allclose(maps.sum(axis=2), 1.0, atol=1e-5)
    assert maps[:, np.arange(6), np.arange(6)[::-1]].mean() > 0.5


def test_clip_grad_norm_hook():
    model = SequenceClassifier(1, 4, 3, seed=0)
    loss_x = np.random.default_rng(0).standard_normal((5, 7))
    model.forward(loss_x)
    model.backward(np.full((5, 3), 100.0, dtype=np.float32))
    clip = ClipGradNorm(0.5)
    clip(model)
    after = np.sqrt(sum(float(np.sum(to_numpy(g).astype(np.float64) ** 2)) for g in model.grads.values()))
    assert clip.norms[0] > 0.5 and after == pytest.approx(0.5, rel=1e-4)
