"""Knowledge distillation (Hinton et al., 2015): a small student learns from a teacher's
temperature-softened outputs as well as from the labels.

With p^T = softmax(z / T) for student logits s and teacher logits t, over a batch of N rows:

    L = alpha * T^2 * (1/N) sum_n KL(p_t^T || p_s^T)  +  (1 - alpha) * CE(softmax(s), labels)

A temperature T > 1 flattens both distributions, so the student also learns how the teacher
ranks the wrong classes ("dark knowledge"). The soft term's gradient is
T^2 * (1/T) (p_s^T - p_t^T) / N = T (p_s^T - p_t^T) / N: multiplying by T^2 keeps it on the
scale of the hard term's (softmax(s) - onehot) / N whatever T is. The teacher is fixed: no
gradient flows into t. The loss is computed on the host, in the logits' dtype (a few numbers
per row); on OpenCL the logits are downloaded and the gradient uploaded once per step.
"""
from __future__ import annotations

import numpy as np

from ..backprop.module import Module
from ..backprop.sgd import SGD
from ..backprop.training import History, accuracy
from ..runtime import to_numpy
from ..runtime.checks import check_array, check_labels, check_positive


def _log_softmax(z):
    """log softmax over the last axis, stable: subtract the row maximum first."""
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


class DistillationLoss(Module):
    """``loss = DistillationLoss(temperature=4, alpha=0.9)``;  ``loss(s, t, labels)``, then ``loss.backward()``.

    student_logits, teacher_logits: (N, C) float; labels: (N,) ints in [0, C)  ->  0-d loss;
    backward() -> dstudent_logits: (N, C), on the student's backend.
    alpha: the weight of the teacher's (soft) term, in [0, 1]; 0 is plain cross-entropy.
    """

    def __init__(self, temperature: float = 4.0, alpha: float = 0.9, backend=None):
        super().__init__(backend)
        check_positive("temperature", temperature)
        if not 0 <= alpha <= 1:
            raise ValueError(f"alpha must be in [0, 1] (the weight of the soft term); got {alpha!r}")
        self.temperature, self.alpha = float(temperature), float(alpha)

    def forward(self, student_logits, teacher_logits, labels):
        s, t, y = to_numpy(student_logits), to_numpy(teacher_logits), to_numpy(labels)
        check_array("student_logits", s, ndim=2)
        check_array("teacher_logits", t, ndim=2)
        if t.shape != s.shape:
            raise ValueError(f"teacher_logits must have the shape of student_logits {s.shape}; got {t.shape}")
        check_labels("labels", y, s.shape[0], s.shape[1])
        t = t.astype(s.dtype)
        n, T, a = s.shape[0], self.temperature, self.alpha
        log_ps, log_pt = _log_softmax(s / T), _log_softmax(t / T)
        p_t = np.exp(log_pt)
        soft = float(np.sum(p_t * (log_pt - log_ps))) / n * T * T      # KL(p_t || p_s), batch mean
        log_p = _log_softmax(s)
        hard = -float(log_p[np.arange(n), y].sum()) / n
        onehot = np.zeros_like(s)
        onehot[np.arange(n), y] = 1
        grad = a * T * (np.exp(log_ps) - p_t) / n + (1 - a) * (np.exp(log_p) - onehot) / n
        self.dlogits = self._here(grad.astype(s.dtype))
        self.soft_loss, self.hard_loss = soft, hard
        return np.asarray(a * soft + (1 - a) * hard, s.dtype)

    def backward(self, dy=None):
        return self.dlogits

    def __call__(self, student_logits, teacher_logits, labels):
        return self.forward(student_logits, teacher_logits, labels)


def train_student(student, teacher, x_train, y_train, *, loss: DistillationLoss | None = None,
                  epochs: int = 10, batch_size: int = 64, lr: float = 0.1, x_test=None, y_test=None,
                  seed: int = 0) -> History:
    """Train ``student`` with SGD on DistillationLoss against a fixed ``teacher``.

    x_train: (N, ...) float, y_train: (N,) labels. The teacher runs in evaluation mode on the
    same batches (the batch order depends only on seed and epoch, as in backprop.train).
    Returns a History, one record per epoch (train loss, train and test accuracy).
    """
    import time

    from ..data import batches
    loss = loss or DistillationLoss(backend=student.backend)
    loss.to(student.backend)
    optimizer = SGD(student.parameters(), lr)
    teacher.eval()
    history, start = History(), time.perf_counter()
    for epoch in range(1, epochs + 1):
        student.train()
        losses = []
        for xb, yb in batches(x_train, y_train, batch_size, shuffle=True, seed=seed, epoch=epoch):
            teacher_logits = teacher.forward(xb)
            losses.append(float(loss(student.forward(xb), teacher_logits, yb)))
            student.backward(loss.backward())
            optimizer.step()
        student.eval()
        history.epoch.append(epoch)
        history.train_loss.append(float(np.mean(losses)))
        history.train_accuracy.append(accuracy(student, x_train, y_train))
        history.test_accuracy.append(accuracy(student, x_test, y_test) if x_test is not None else float("nan"))
        history.seconds.append(time.perf_counter() - start)
    return history
