"""Chapter 5, regularization: weight penalties, dropout from a counter-based generator, batch
normalization, early stopping (and data augmentation, from ``accel_edu.augment``).

>>> from accel_edu.regularization import Dropout, BatchNorm1d, L2Penalty, EarlyStopping
"""
from . import kernels
