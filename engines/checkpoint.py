"""Reading training checkpoints (torch): the network and its style bank."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from stylecam.engines.network import NetConfig, Stylizer
from stylecam.engines.styles import StyleBank


def _load(path: Path) -> dict:
    import torch

    if not Path(path).is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    return torch.load(path, map_location="cpu", weights_only=True)


def load_network(path: Path) -> Stylizer:
    """The eval-mode network stored in a checkpoint."""
    state = _load(path)
    cfg = state["net_config"]
    net = Stylizer(NetConfig(widths=tuple(cfg["widths"]), residual_blocks=cfg["residual_blocks"]))
    net.load_state_dict(state["net"])
    return net.eval()


def load_bank(path: Path) -> StyleBank:
    """The style vectors and names stored in a checkpoint."""
    state = _load(path)
    return StyleBank(tuple(state["names"]), state["styles"].numpy().astype(np.float32))
