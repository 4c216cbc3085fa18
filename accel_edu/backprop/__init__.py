"""Chapter 1, backpropagation: layers with forward and backward, losses, SGD, gradient checks.

>>> from accel_edu.backprop import Sequential, Linear, ReLU, SoftmaxCrossEntropy, train
>>> model = Sequential(Linear(64, 32), ReLU(), Linear(32, 10), backend="numba")   # doctest: +SKIP
"""
from . import kernels
from .gradcheck import GradCheckResult, gradient_check, loss_gradient_check, relative_error
from .layers import Linear, ReLU, Sigmoid, Tanh
from .losses import MSELoss, SoftmaxCrossEntropy
from .module import Module
from .sequential import Sequential
from .sgd import SGD
from .training import History, accuracy, train

__all__ = ["kernels", "GradCheckResult", "gradient_check", "loss_gradient_check", "relative_error",
           "Linear", "ReLU", "Sigmoid", "Tanh", "MSELoss", "SoftmaxCrossEntropy", "Module",
           "Sequential", "SGD", "History", "accuracy", "train"]
