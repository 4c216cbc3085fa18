"""Chapter 5, regularization: weight penalties, dropout from a counter-based generator, batch
normalization and early stopping (data augmentation is ``accel_edu.augment``, shared with the
CNN chapter).

>>> from accel_edu.backprop import Sequential, Linear, ReLU, train
>>> from accel_edu.regularization import Dropout, BatchNorm1d, L2Penalty, EarlyStopping
>>> model = Sequential(Linear(64, 128), BatchNorm1d(128), ReLU(), Dropout(0.5, seed=1),
...                    Linear(128, 10), backend="numba")                       # doctest: +SKIP
>>> train(model, loss, x, y, penalty=L2Penalty(1e-4), on_epoch_end=EarlyStopping(5))  # doctest: +SKIP
"""
from . import kernels
from .early_stopping import EarlyStopping
from .kernels import (batchnorm_backward, batchnorm_forward, batchnorm_normalize, dropout_backward,
                      dropout_forward, philox4x32, philox_uniform)
from .layers import BatchNorm1d, BatchNorm2d, Dropout
from .penalties import L1Penalty, L2Penalty

__all__ = ["kernels", "EarlyStopping", "batchnorm_backward", "batchnorm_forward",
           "batchnorm_normalize", "dropout_backward", "dropout_forward", "philox4x32",
           "philox_uniform", "BatchNorm1d", "BatchNorm2d", "Dropout", "L1Penalty", "L2Penalty"]
