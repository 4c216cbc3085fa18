"""Import every chapter's kernels, so the registry is complete (the tests and `bench` use it)."""
from .attention import kernels as attention_kernels  # noqa: F401
from .augment import kernels as augment_kernels  # noqa: F401
from .backprop import kernels as backprop_kernels  # noqa: F401
from .cnn import kernels as cnn_kernels  # noqa: F401
from .compression import kernels as compression_kernels  # noqa: F401
from .optim import kernels as optim_kernels  # noqa: F401
from .regularization import kernels as regularization_kernels  # noqa: F401
from .rnn import kernels as rnn_kernels  # noqa: F401
