"""The style bank: named style vectors (conditional-norm parameters), the network's style input."""
from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
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
        except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:  # torn files too
            raise StyleError(f"cannot read style bank {path}: {exc}") from exc
        return cls(names, vectors)

    def save(self, path: Path) -> None:
        """Write atomically (a temporary file renamed over `path`, which must end in .npz)."""
        tmp = Path(path).with_name(Path(path).stem + ".tmp.npz")
        np.savez(tmp, names=np.array(self.names), vectors=self.vectors)
        os.replace(tmp, path)

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


def user_styles_dir() -> Path:
    """Where `train-style` writes styles: $XDG_DATA_HOME/stylecam/styles (~/.local/share/...)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "stylecam" / "styles"


def merged(shipped: StyleBank, user_dir: Path, warn: Callable[[str], None]) -> StyleBank:
    """The shipped bank followed by the user's styles (one .npz per style, sorted by name).
    A user file that cannot be read, has the wrong vector size or reuses a name is skipped
    and reported through `warn(message)`."""
    names, vectors = list(shipped.names), [shipped.vectors]
    for path in sorted(Path(user_dir).glob("*.npz")) if Path(user_dir).is_dir() else []:
        try:
            bank = StyleBank.load(path)
        except StyleError as exc:
            warn(str(exc))
            continue
        if bank.vectors.shape[1] != shipped.vectors.shape[1]:
            warn(f"skipping {path}: style size {bank.vectors.shape[1]} != {shipped.vectors.shape[1]} "
                 "(trained for another network; run train-style on its painting again)")
            continue
        clash = [n for n in bank.names if n in names]
        if clash:
            warn(f"skipping {path}: style name already taken: {', '.join(clash)}")
            continue
        names += bank.names
        vectors.append(bank.vectors)
    return StyleBank(tuple(names), np.concatenate(vectors))
