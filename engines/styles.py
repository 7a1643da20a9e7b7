"""The style bank: named style vectors (conditional-norm parameters), the network's style input."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


class StyleError(ValueError):
    """An unknown style name, an index out of range, or a malformed bank file."""


@dataclass(frozen=True)
class StyleBank:
    """names[i] names vectors[i]; vectors is K x S float32."""

    names: tuple[str, ...]
    vectors: np.ndarray

    def __post_init__(self):
        if self.vectors.ndim != 2 or len(self.names) != len(self.vectors):
            raise StyleError(f"style bank has {len(self.names)} names for vectors of shape {self.vectors.shape}")
        if len(set(self.names)) != len(self.names):
            raise StyleError("style bank has duplicate names")

    @classmethod
    def load(cls, path: Path) -> StyleBank:
        """Read an .npz with arrays `names` (K strings) and `vectors` (K x S float32)."""
        try:
            with np.load(path, allow_pickle=False) as data:
                names = tuple(str(n) for n in data["names"])
                vectors = np.ascontiguousarray(data["vectors"], dtype=np.float32)
        except (OSError, KeyError, ValueError) as exc:
            raise StyleError(f"cannot read style bank {path}: {exc}") from exc
        return cls(names, vectors)

    def save(self, path: Path) -> None:
        np.savez(path, names=np.array(self.names), vectors=self.vectors)

    def index(self, key: str | int) -> int:
        """Resolve a style name, or an index (int or digit string, 0-based), to an index."""
        if isinstance(key, str) and key.lstrip("-").isdigit():
            key = int(key)
        if isinstance(key, int):
            if not 0 <= key < len(self.names):
                raise StyleError(f"style index {key} out of range 0..{len(self.names) - 1}")
            return key
        if key not in self.names:
            raise StyleError(f"unknown style {key!r}; known: {', '.join(self.names)}")
        return self.names.index(key)

    def vector(self, key: str | int) -> np.ndarray:
        """The style's vector (S,) float32."""
        return self.vectors[self.index(key)]
