"""The chapter's models, each a few layers composed by hand: forward, then backward in reverse.

- :class:`SequenceClassifier`: a recurrent layer read to the end, its last hidden state into a
  Linear layer (the GRU on MNIST-1D).
- :class:`CharLM`: Embedding -> LSTM (or GRU) -> one Linear per step, predicting the next
  character; :meth:`CharLM.sample` writes text.
- :class:`AttentionReverser` and :class:`RecurrentReverser`: one attention layer against a GRU
  of about the same size on reversing a sequence of digits (``reversal_task``).

Each is a :class:`~accel_edu.backprop.Sequential` of its layers (so parameters, gradients,
``to``, ``state_dict`` and the gradient checker work unchanged) whose ``forward`` and
``backward`` wire the layers themselves. ``gemm_backend="numpy"`` is passed to the recurrent
layer: its GEMMs on OpenBLAS, its cells on the model's backend (see layers.py). The token models' ``rows(targets)`` lays the targets
out as their logits' rows, for :class:`~accel_edu.backprop.SoftmaxCrossEntropy`.
"""
from __future__ import annotations

import numpy as np

from ..attention import ScaledDotProductAttention
from tqdm import tqdm

from ..backprop import Linear, Sequential, SoftmaxCrossEntropy
from ..optim import clip_grad_norm
from ..runtime import to_numpy
from . import kernels as K
from .layers import GRU, LSTM, RNN, Embedding
from .steps import put_step, take_step, zeros

CELLS = {"rnn": RNN, "lstm": LSTM, "gru": GRU}


def _cell(name):
    if name not in CELLS:
        raise ValueError(f"cell must be one of {sorted(CELLS)}; got {name!r}")
    return CELLS[name]


def _tokens(name, tokens, vocab_size, ndim=2):
    """Host integer tokens of ``ndim`` dimensions, each in [0, vocab_size)."""
    tokens = np.asarray(tokens)
    if tokens.ndim != ndim or not np.issubdtype(tokens.dtype, np.integer):
        raise ValueError(f"{name} must be a {ndim}-D integer array; got {tokens.dtype} of shape {tokens.shape}")
    if tokens.size and (tokens.min() < 0 or tokens.max() >= vocab_size):
        raise ValueError(f"{name} must lie in [0, {vocab_size}); got values from {tokens.min()} to {tokens.max()}")
    return tokens.astype(np.int64)


class SequenceClassifier(Sequential):
    """Recurrent layer -> last hidden state h_T -> Linear -> class logits.

    x: (N, T) or (N, T, D), batch-first as datasets store samples  ->  logits: (N, C).
    backward(dlogits (N, C)) -> dx with x's shape. The batch is transposed to time-major
    (T, N, D) on the host, before the one upload per batch, so OpenCL needs no transpose kernel.
    """

    def __init__(self, d_in: int, hidden: int, classes: int, *, cell: str = "gru", bptt=None,
                 seed: int = 0, backend=None, gemm_backend=None):
        super().__init__(_cell(cell)(d_in, hidden, bptt=bptt, seed=seed, gemm_backend=gemm_backend),
                         Linear(hidden, classes, seed=seed + 1), backend=backend)
        self.recurrent, self.head = self.layers

    def forward(self, x):
        x = np.asarray(to_numpy(x), dtype=self.recurrent.params["w_ih"].dtype)   # the model's float
        if x.ndim == 2:
            x = x[:, :, None]
        if x.ndim != 3:
            raise ValueError(f"x must have shape (N, T) or (N, T, D); got {x.shape}")
        self.x_shape = x.shape
        self.recurrent.forward(np.ascontiguousarray(x.transpose(1, 0, 2)))   # y (T, N, H): unused
        return self.head.forward(self.recurrent.h_n)

    def backward(self, dlogits):
        dh_last = self.head.backward(dlogits)
        n, t_len, _ = self.x_shape
        # Only h_T reaches the loss: dL/dy_t is zero for t < T, dh_last at t = T.
        dy = zeros((t_len * n, self.recurrent.hidden), dh_last.dtype, self.backend)
        put_step(dy, t_len - 1, dh_last)
        dx = to_numpy(self.recurrent.backward(dy.reshape(t_len, n, self.recurrent.hidden)))
        return np.ascontiguousarray(dx.transpose(1, 0, 2)).reshape(self.x_shape)


class CharLM(Sequential):
    """Character-level language model: Embedding(V, E) -> LSTM/GRU(E, H) -> Linear(H, V) per step.

    tokens: (T, N) int, time-major  ->  logits: (T * N, V), row t * N + n predicting the
    character after tokens[t, n]. backward(dlogits) -> None (the input is integers).
    """

    def __init__(self, vocab, embed: int, hidden: int, *, cell: str = "lstm", bptt=None,
                 seed: int = 0, backend=None, gemm_backend=None):
        if cell not in ("lstm", "gru"):
            raise ValueError(f"cell must be 'lstm' or 'gru'; got {cell!r}")
        self.vocab, self.cell = vocab, cell
        v = len(vocab)
        super().__init__(Embedding(v, embed, seed=seed), _cell(cell)(embed, hidden, bptt=bptt, seed=seed + 1,
                                                                     gemm_backend=gemm_backend),
                         Linear(hidden, v, seed=seed + 2), backend=backend)
        self.embedding, self.recurrent, self.head = self.layers

    def forward(self, tokens, state=None):
        """``state``: (h0, c0) for an LSTM, (h0,) for a GRU; the new one is ``self.state``."""
        tokens = _tokens("tokens", tokens, len(self.vocab))
        t_len, n = tokens.shape
        e = self.embedding.forward(tokens)
        y = self.recurrent.forward(e, *(state or ()))
        self.state = (self.recurrent.h_n, self.recurrent.c_n) if self.cell == "lstm" else (self.recurrent.h_n,)
        return self.head.forward(y.reshape(t_len * n, self.recurrent.hidden))

    def backward(self, dlogits):
        t_len, n = self.embedding.indices.shape
        dy = self.head.backward(dlogits)
        self.embedding.backward(self.recurrent.backward(dy.reshape(t_len, n, self.recurrent.hidden)))
        return None

    @staticmethod
    def rows(targets):
        """targets (T, N) -> (T * N,), the logits' row order."""
        return np.asarray(targets).reshape(-1)

    def sample(self, prompt: str, n: int, temperature: float = 1.0, seed: int = 0) -> str:
        """``prompt`` followed by ``n`` characters drawn one at a time from
        softmax(logits / temperature). Reproducible: draws come from
        ``np.random.default_rng(seed)``. As temperature -> 0 this becomes the argmax.
        """
        if not isinstance(prompt, str) or not prompt:
            raise ValueError(f"prompt must be a non-empty str; got {prompt!r}")
        if not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"n must be a non-negative integer; got {n!r}")
        if not isinstance(temperature, (int, float)) or not temperature > 0:
            raise ValueError(f"temperature must be a number > 0; got {temperature!r}")
        rng = np.random.default_rng(seed)
        ids = list(self.vocab.encode(prompt))
        logits = self.forward(np.array(ids)[:, None])
        for _ in range(n):
            last = to_numpy(logits)[-1].astype(np.float64) / temperature
            p = np.exp(last - last.max())          # shifted: the largest is exp(0) = 1, none overflows
            cdf = np.cumsum(p)
            ids.append(int(min(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"), len(p) - 1)))
            logits = self.forward(np.array([[ids[-1]]]), self.state)
        return self.vocab.decode(ids)


def reversal_task(n: int, length: int, digits: int = 10, seed: int = 0):
    """n random digit strings and their reversals: tokens, targets (n, length) int64 in [0, digits)."""
    tokens = np.random.default_rng(seed).integers(0, digits, (n, length))
    return tokens, np.ascontiguousarray(tokens[:, ::-1])


class AttentionReverser(Sequential):
    """Token + position embeddings -> one attention layer -> Linear per position.

    tokens: (N, T) int  ->  logits: (N * T, V).  x = E_tok[tokens] + E_pos[t];
    q, k, v = x W_q, x W_k, x W_v; out = softmax(q k^T / sqrt(d)) v, each position attending to
    all (not causal); logits = out W_o. ``attention_map(tokens)`` gives the (N, T, T) weights.
    """

    def __init__(self, digits: int, length: int, dim: int, *, seed: int = 0, backend=None, variant=None):
        layers = [Embedding(digits, dim, seed=seed), Embedding(length, dim, seed=seed + 1),
                  *(Linear(dim, dim, seed=seed + 2 + i) for i in range(3)), Linear(dim, digits, seed=seed + 5)]
        super().__init__(*layers, backend=backend)
        self.tok, self.pos, self.wq, self.wk, self.wv, self.head = self.layers
        self.attention = ScaledDotProductAttention(backend=self.backend, variant=variant)
        self.digits, self.length, self.dim = digits, length, dim

    def to(self, backend):
        super().to(backend)
        if hasattr(self, "attention"):
            self.attention.to(backend)
        return self

    def forward(self, tokens):
        tokens = _tokens("tokens", tokens, self.digits)
        n, t_len = tokens.shape
        if t_len != self.length:
            raise ValueError(f"tokens must have shape (N, {self.length}); got {tokens.shape}")
        positions = np.broadcast_to(np.arange(t_len), (n, t_len)).copy()
        x = K.gradient_sum(self.tok.forward(tokens), self.pos.forward(positions), backend=self.backend)
        x = x.reshape(n * t_len, self.dim)
        q, k, v = (w.forward(x).reshape(n, t_len, self.dim) for w in (self.wq, self.wk, self.wv))
        out = self.attention.forward(q, k, v)
        return self.head.forward(out.reshape(n * t_len, self.dim))

    def backward(self, dlogits):
        n, t_len = self.tok.indices.shape
        dout = self.head.backward(dlogits).reshape(n, t_len, self.dim)
        dq, dk, dv = self.attention.backward(dout)
        dx = [w.backward(d.reshape(n * t_len, self.dim)) for w, d in ((self.wq, dq), (self.wk, dk), (self.wv, dv))]
        dx = K.gradient_sum(K.gradient_sum(dx[0], dx[1], backend=self.backend), dx[2], backend=self.backend)
        dx = dx.reshape(n, t_len, self.dim)        # x = tok + pos: both receive all of dx
        self.tok.backward(dx)
        self.pos.backward(dx)
        return None

    @staticmethod
    def rows(targets):
        """targets (N, T) -> (N * T,), the logits' row order."""
        return np.asarray(targets).reshape(-1)

    def predict(self, tokens) -> np.ndarray:
        """The most likely digit at each position: (N, T) on the host."""
        n, t_len = np.shape(tokens)
        return to_numpy(self.forward(tokens)).argmax(axis=1).reshape(n, t_len)

    def attention_map(self, tokens) -> np.ndarray:
        """softmax(q k^T / sqrt(d)) for each sequence: (N, T, T), row i = where position i looks.
        Recomputed on the host from q and k, the way the backward pass recomputes it."""
        self.forward(tokens)
        q, k = (to_numpy(a) for a in self.attention.saved[:2])
        s = q @ k.transpose(0, 2, 1) / np.sqrt(self.dim)
        p = np.exp(s - s.max(axis=2, keepdims=True))
        return p / p.sum(axis=2, keepdims=True)


class RecurrentReverser(Sequential):
    """The GRU baseline: read the T digits, then T blank steps on which it answers.

    tokens: (N, T) int  ->  logits: (T * N, V) from the GRU's outputs at steps T..2T-1
    (time-major rows). The blank is token ``digits``, so the embedding has digits + 1 rows.
    """

    def __init__(self, digits: int, length: int, hidden: int, *, seed: int = 0, backend=None,
                 gemm_backend=None):
        super().__init__(Embedding(digits + 1, hidden, seed=seed),
                         GRU(hidden, hidden, seed=seed + 1, gemm_backend=gemm_backend),
                         Linear(hidden, digits, seed=seed + 2), backend=backend)
        self.embedding, self.recurrent, self.head = self.layers
        self.digits, self.length, self.hidden = digits, length, hidden

    def forward(self, tokens):
        tokens = _tokens("tokens", tokens, self.digits)
        n, t_len = tokens.shape
        if t_len != self.length:
            raise ValueError(f"tokens must have shape (N, {self.length}); got {tokens.shape}")
        seq = np.concatenate([tokens.T, np.full((t_len, n), self.digits)])     # (2T, N), time-major
        y = self.recurrent.forward(self.embedding.forward(seq)).reshape(2 * t_len * n, self.hidden)
        return self.head.forward(take_step(y, 1, t_len * n))    # rows T*N .. 2T*N: the answers

    def backward(self, dlogits):
        t_len, n = self.length, self.embedding.indices.shape[1]
        dans = self.head.backward(dlogits)
        dy = zeros((2 * t_len * n, self.hidden), dans.dtype, self.backend)
        put_step(dy, 1, dans)                       # the reading steps get no direct gradient
        self.embedding.backward(self.recurrent.backward(dy.reshape(2 * t_len, n, self.hidden)))
        return None

    @staticmethod
    def rows(targets):
        """targets (N, T) -> (T * N,), time-major like the logits."""
        return np.ascontiguousarray(np.asarray(targets).T).reshape(-1)

    def predict(self, tokens) -> np.ndarray:
        n, t_len = np.shape(tokens)
        return to_numpy(self.forward(tokens)).argmax(axis=1).reshape(t_len, n).T


def parameter_count(model) -> int:
    return int(sum(np.prod(p.shape) for p in model.params.values()))


class ClipGradNorm:
    """Gradient clipping for ``backprop.train(penalty=ClipGradNorm(1.0))``, which calls it after
    each backward pass and before the step; records each norm before clipping in ``norms``."""

    def __init__(self, max_norm: float):
        self.max_norm, self.norms = max_norm, []

    def __call__(self, model):
        self.norms.append(clip_grad_norm(model.parameters(), self.max_norm))


def train_tokens(model, batch, steps: int, optimizer, *, max_norm=None, report_every: int = 100,
                 on_report=None, progress: bool = True) -> dict:
    """Train a token model (CharLM, AttentionReverser, RecurrentReverser) for ``steps`` steps.

    ``batch(step) -> (tokens, targets)``; the loss is softmax cross-entropy of each logits row
    against ``model.rows(targets)``. ``max_norm`` clips the global gradient norm before each
    step. Every ``report_every`` steps the mean loss since the last report is recorded (one
    download then, not one per step) and ``on_report(step, model, history)`` is called.
    Returns {"step": [...], "loss": [...]}.
    """
    loss_fn = SoftmaxCrossEntropy(backend=model.backend)
    history, pending = {"step": [], "loss": []}, []
    for step in tqdm(range(1, steps + 1), desc="training", unit="step", disable=not progress, leave=False):
        tokens, targets = batch(step)
        model.train()
        pending.append(loss_fn(model.forward(tokens), model.rows(targets)))
        model.backward(loss_fn.backward())
        if max_norm is not None:
            clip_grad_norm(model.parameters(), max_norm)
        optimizer.step()
        if step % report_every == 0 or step == steps:
            history["step"].append(step)
            history["loss"].append(float(np.mean([float(to_numpy(v)) for v in pending])))
            pending = []
            if on_report is not None:
                on_report(step, model, history)
    return history
