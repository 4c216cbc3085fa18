"""Text for the character-level language model: the shipped text, its alphabet, and batches.

The text (``texts/genesis_kjv.txt``) is the Book of Genesis in the King James Version, cut
from Debian's ``bible-kjv-text`` package; ``texts/README.md`` records how, and its licence
(public domain: the translation is from 1611).
"""
from __future__ import annotations

from importlib.resources import files

import numpy as np

TEXTS = ("genesis_kjv",)


def load_text(name: str = "genesis_kjv") -> str:
    """One of the texts that ship with accel_edu, as a str.

    ``"genesis_kjv"``: the Book of Genesis, King James Version (1611, public domain), one
    verse per line, 196,818 characters over 60 distinct ones. Source: Debian's
    ``bible-kjv-text`` 4.38, extracted with its ``bible`` program (see texts/README.md).
    """
    if name not in TEXTS:
        raise ValueError(f"name must be one of {TEXTS}; got {name!r}")
    return files(__package__).joinpath("texts", f"{name}.txt").read_text(encoding="utf-8")


class CharVocabulary:
    """The characters of a text, each given an id 0..V-1 in sorted order.

    ``encode("abc") -> int64 array (3,)``; ``decode(ids) -> str``. A character outside the
    alphabet raises a ValueError that names it (a model can only read what it was trained on).
    """

    def __init__(self, text: str):
        if not isinstance(text, str) or not text:
            raise ValueError(f"text must be a non-empty str; got {text!r:.40}")
        self.chars = sorted(set(text))
        self.index = {c: i for i, c in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        if not isinstance(text, str):
            raise ValueError(f"text must be a str; got {type(text).__name__}")
        unknown = sorted(set(text) - self.index.keys())
        if unknown:
            raise ValueError(f"text has characters outside the vocabulary: {''.join(unknown)!r}; "
                             f"the vocabulary is {''.join(self.chars)!r}")
        return np.array([self.index[c] for c in text], dtype=np.int64)

    def decode(self, ids) -> str:
        ids = np.asarray(ids)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            raise ValueError(f"ids must lie in [0, {len(self)}); got values from {ids.min()} to {ids.max()}")
        return "".join(self.chars[i] for i in ids.reshape(-1))

    def __repr__(self):
        return f"CharVocabulary({len(self)} characters)"


def char_windows(ids: np.ndarray, length: int, batch_size: int, seed: int, step: int):
    """A batch of random windows of the text, time-major, each target the next character.

    ids: (L,) int  ->  tokens (length, batch_size), targets (length, batch_size), int64;
    targets[t, n] = tokens[t + 1, n] within the text. The windows depend only on (seed, step),
    so a run can be repeated exactly.
    """
    ids = np.asarray(ids)
    if ids.ndim != 1 or len(ids) < length + 2:
        raise ValueError(f"ids must be a 1-D array longer than length + 1 = {length + 1}; "
                         f"got shape {ids.shape}")
    starts = np.random.default_rng([seed, step]).integers(0, len(ids) - length - 1, batch_size)
    offsets = starts[None, :] + np.arange(length)[:, None]          # (length, batch_size)
    return ids[offsets], ids[offsets + 1]
