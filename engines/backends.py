"""Inference backends behind one `Engine` protocol, and the choice between them.

Every engine maps (image, style, prev, blend) -> (image, state):
    image   1 x 3 x H x W float32 RGB in [0, 1], H and W multiples of 8
    style   S float32 style vector
    prev    1 x H/8 x W/8 x C float32, the previous fused core features warped to this frame
            (temporal.warp_state; zeros after a reset)
    blend   1 x 1 x H/8 x W/8 float32 in [0, 1], from `temporal.FlowTracker`
    returns 1 x 3 x H x W float32 RGB in (0, 1), and the new state (1 x H/8 x W/8 x C).
`run_two` is the same with two styles in one pass: `style` where `region` (1 x 1 x H/4 x W/4,
float32 in [0, 1]) is 1 and `style_b` where it is 0 (the regions graph, contract.REGION_INPUTS).
`run_smoothed` (ONNX Runtime, OpenVINO and torch engines) also takes the last frame's norm
statistics (S float32, as the last call returned them) and beta (how much of them to keep, 0 to 1)
and returns this frame's as a third result: the norm statistics smoothed over time (contract.INPUTS).
Engines whose network has a seed input (`seeded`, its tile's period `seed_period`) also take
`origin`: (x, y) core cells, where the seed tile is cut (network.Stylizer.seed_at; None: at 0, the
frame's own pixels); others ignore it. In place of the RGB image they take the stem's whole input
(contract.py, written by a caller's own seed.StemInput, as the stylizer does to save the copy),
and then ignore `origin`.
Engines that cannot run raise EngineUnavailable; nothing falls back silently.
"""
from __future__ import annotations

import copy
import os
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from stylecam.engines.contract import (GRAPH_KEY, INPUTS, OUTPUTS, REGION_INPUTS, REGION_OUTPUTS, SEED_CHANNELS,
                                       SEED_KEY)
from stylecam.engines.seed import seed_tile, stem_input

ENGINE_NAMES = ("auto", "openvino", "ort-cpu", "ort-cuda", "ort-tensorrt", "torch")


class EngineUnavailable(RuntimeError):
    """The engine asked for cannot run here; the message says why."""


class Engine(Protocol):
    name: str  # backend, e.g. "onnxruntime" or "torch"
    provider: str  # what actually runs it, e.g. "CPUExecutionProvider"
    precision: str  # "fp32" or "fp16"
    graph: str  # which network, e.g. "stylecam v2"
    core_channels: int
    seeded: bool  # the network has a seed input, placed by `origin` (module doc)
    seed_period: int  # its tile's period, pixels (0: no seed input)

    def run(self, image: np.ndarray, style: np.ndarray, prev: np.ndarray, blend: np.ndarray,
            origin: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]: ...

    def run_two(self, image: np.ndarray, style: np.ndarray, style_b: np.ndarray, region: np.ndarray,
                prev: np.ndarray, blend: np.ndarray,
                origin: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]: ...


@dataclass
class Choice:
    """An engine and, for `auto`, the reasons the better ones were passed over."""

    engine: Engine
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        text = f"engine {self.engine.name} on {self.engine.provider}, graph {self.engine.graph} {self.engine.precision}"
        return text + (f"; passed over: {'; '.join(self.notes)}" if self.notes else "")


def trt_cache_dir() -> Path:
    """Where TensorRT engines built for this GPU are kept ($XDG_CACHE_HOME/stylecam/tensorrt)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "stylecam" / "tensorrt"


class OnnxEngine(ABC):
    """What the ONNX Runtime and OpenVINO engines share: the network graph checked against its
    metadata when opened, the regions graph (`regions_model`) opened on the first two-style frame
    and checked against the network's seed period, and the calls by input name. A subclass opens
    a graph whose inputs must be `inputs` (`_open`), reads its metadata (`_metadata`) and an
    input's fixed dimension (`_dim`), runs it (`_infer`), and calls `_open_network` when set up."""

    name: str
    provider: str
    precision: str

    @abstractmethod
    def _open(self, model: Path, inputs: tuple[str, ...]): ...

    @abstractmethod
    def _metadata(self, graph, key: str, default: str) -> str: ...

    @abstractmethod
    def _dim(self, graph, name: str, axis: int) -> int: ...

    @abstractmethod
    def _infer(self, graph, feeds: dict, outputs: tuple[str, ...]) -> list[np.ndarray]: ...

    def _open_network(self, model: Path, regions_model: Path | None) -> None:
        self.network = self._open(model, INPUTS)
        self.graph = self._metadata(self.network, GRAPH_KEY, "unknown")
        self.seed_period = int(self._metadata(self.network, SEED_KEY, "0"))
        self._tile = seed_tile(self.seed_period) if self.seeded else None
        channels = self._dim(self.network, "image", 1)
        if channels != 3 + (SEED_CHANNELS if self.seeded else 0):
            raise EngineUnavailable(f"{model} takes {channels} image channels but its metadata says seed period "
                                    f"{self.seed_period}: a graph from another export")
        self.core_channels = self._dim(self.network, "prev", 3)
        stats_size = self._dim(self.network, "norm_stats", 0)
        self._per_frame = (np.zeros(stats_size, np.float32), np.zeros(1, np.float32))  # statistics unused, beta 0
        self.regions_model = regions_model
        self._regions = None

    @property
    def seeded(self) -> bool:
        return self.seed_period > 0

    def _feeds(self, names: tuple[str, ...], values: tuple, origin: tuple[int, int] | None) -> dict:
        """The graph's inputs by name; a seeded graph's image is the stem input (contract.py),
        made here from an RGB image."""
        image, *rest = values
        if self._tile is not None and image.shape[1] == 3:
            image = stem_input(image, self._tile, origin)
        return dict(zip(names, (image, *rest)))

    def run(self, image, style, prev, blend, origin=None):
        feeds = self._feeds(INPUTS, (image, style, prev, blend, *self._per_frame), origin)
        output, fused = self._infer(self.network, feeds, OUTPUTS[:2])
        return output, fused

    def run_smoothed(self, image, style, prev, blend, stats, beta: float, origin=None):
        feeds = self._feeds(INPUTS, (image, style, prev, blend, stats, np.full(1, beta, np.float32)), origin)
        output, fused, stats = self._infer(self.network, feeds, OUTPUTS)
        return output, fused, stats

    def run_two(self, image, style, style_b, region, prev, blend, origin=None):
        if self._regions is None:
            if self.regions_model is None or not Path(self.regions_model).is_file():
                raise EngineUnavailable(f"no regions graph for two styles at once ({self.regions_model})")
            regions = self._open(self.regions_model, REGION_INPUTS)
            period = int(self._metadata(regions, SEED_KEY, "0"))
            if period != self.seed_period:
                raise EngineUnavailable(f"the regions graph {self.regions_model} has seed period {period}, "
                                        f"the network graph {self.seed_period}: graphs of two exports")
            self._regions = regions
        feeds = self._feeds(REGION_INPUTS, (image, style, style_b, region, prev, blend), origin)
        output, fused = self._infer(self._regions, feeds, REGION_OUTPUTS)
        return output, fused


class OrtEngine(OnnxEngine):
    """ONNX Runtime sessions on one execution provider, each verified after it is created: the
    network graph at once, the regions graph on the first two-style frame."""

    name = "onnxruntime"

    def __init__(self, model: Path, provider: str, threads: int | None = None, regions_model: Path | None = None):
        import onnxruntime as ort

        if provider not in ort.get_available_providers():
            raise EngineUnavailable(f"{provider} is not in this onnxruntime build "
                                    f"({', '.join(ort.get_available_providers())})")
        self.provider, self.threads = provider, threads or os.cpu_count() or 1
        self.precision = "fp16" if provider == "TensorrtExecutionProvider" else "fp32"
        self._open_network(model, regions_model)

    @property
    def session(self):
        """The network graph's session."""
        return self.network

    def _open(self, model: Path, inputs: tuple[str, ...]):
        """A verified session of `model`, whose inputs must be `inputs`."""
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = self.threads
        opts.inter_op_num_threads = 1
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        providers: list = [self.provider]
        if self.provider == "TensorrtExecutionProvider":
            cache = trt_cache_dir()
            cache.mkdir(parents=True, exist_ok=True)
            providers = [(self.provider, {"trt_fp16_enable": True, "trt_engine_cache_enable": True,
                                          "trt_engine_cache_path": str(cache)})]
        try:
            session = ort.InferenceSession(str(model), opts, providers=providers)
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise EngineUnavailable(f"{self.provider}: session failed: {str(exc).splitlines()[0]}") from exc
        actual = session.get_providers()
        if not actual or actual[0] != self.provider:
            raise EngineUnavailable(f"{self.provider} did not initialise (session runs on {actual})")
        names = [i.name for i in session.get_inputs()]
        if names != list(inputs):
            raise EngineUnavailable(f"{model} has inputs {names}, not {list(inputs)}: a graph from another version")
        return session

    def _metadata(self, graph, key: str, default: str) -> str:
        return graph.get_modelmeta().custom_metadata_map.get(key, default)

    def _dim(self, graph, name: str, axis: int) -> int:
        return int(next(i for i in graph.get_inputs() if i.name == name).shape[axis])

    def _infer(self, graph, feeds: dict, outputs: tuple[str, ...]) -> list[np.ndarray]:
        return graph.run(outputs, feeds)


class OpenVinoGraph:
    """One ONNX graph compiled by OpenVINO for this CPU, in fp32 (OpenVINO's own default on CPUs
    with bf16 is bf16, which moved the output by up to 7/255), once per input size: its
    static-shape kernels ran 1.6x as fast as its dynamic-shape ones (20 against 34 ms at 640x480),
    and compiling takes ~0.3 s, which the first call at a new size waits. The last `KEEP` sizes
    stay compiled. One call at a time: an infer request is not to be run from two threads at
    once (the window makes a new style's thumbnail on its own thread while frames run)."""

    KEEP = 4  # --size auto steps one size at a time; the last few it left stay ready

    def __init__(self, model: Path, inputs: tuple[str, ...], threads: int):
        try:
            import openvino
        except ImportError as exc:
            raise EngineUnavailable("openvino is not installed (pip install openvino)") from exc
        self._core = openvino.Core()
        self._config = {"INFERENCE_NUM_THREADS": threads, "NUM_STREAMS": 1, "PERFORMANCE_HINT": "LATENCY",
                        "INFERENCE_PRECISION_HINT": "f32"}
        try:
            self._model = self._core.read_model(str(model))
        except Exception as exc:  # openvino raises RuntimeError subclasses of its own
            raise EngineUnavailable(f"openvino: cannot read {model}: {str(exc).splitlines()[0]}") from exc
        names = [i.get_any_name() for i in self._model.inputs]
        if names != list(inputs):
            raise EngineUnavailable(f"{model} has inputs {names}, not {list(inputs)}: a graph from another version")
        self._compiled: OrderedDict = OrderedDict()  # input shapes -> (compiled model, its request), oldest first
        self._lock = threading.Lock()

    def metadata(self, key: str, default: str) -> str:
        """The ONNX graph's metadata entry `key` (OpenVINO's reader keeps it under "framework")."""
        path = ["framework", key]
        return self._model.get_rt_info(path).astype(str) if self._model.has_rt_info(path) else default

    def dim(self, name: str, axis: int) -> int:
        """A fixed dimension of input `name`."""
        return self._model.input(name).get_partial_shape()[axis].get_length()

    def infer(self, feeds: dict, outputs: tuple[str, ...], lent: OrderedDict | None = None) -> list[np.ndarray]:
        """The outputs named, as arrays of their own; with `lent` (the caller's own, kept between
        its calls), as views of the outputs of two infer requests of the caller's used in turn:
        each valid until the second call after it with the same `lent` and input sizes (copying
        the output, the state and the statistics cost 0.9 ms of a 17.9 ms call at 640x480)."""
        key = tuple(value.shape for value in feeds.values())
        with self._lock:
            compiled = self._compiled.pop(key, None)
            if compiled is None:
                model = self._model.clone()
                model.reshape({name: list(value.shape) for name, value in feeds.items()})
                model = self._core.compile_model(model, "CPU", self._config)
                compiled = (model, model.create_infer_request())
            self._compiled[key] = compiled
            _keep(self._compiled, self.KEEP)
            request = compiled[1]
            if lent is not None:
                pair = lent.pop(key, None) or [compiled[0].create_infer_request() for _ in range(2)]
                request = pair[0]
                lent[key] = pair[::-1]  # the other one next time
                _keep(lent, self.KEEP)
            result = request.infer(feeds, share_inputs=True, share_outputs=lent is not None)
            return [result[name] for name in outputs]


def _keep(cache: OrderedDict, n: int) -> None:
    """Drop the oldest entries of `cache` past `n`."""
    while len(cache) > n:
        cache.popitem(last=False)


class OpenVinoEngine(OnnxEngine):
    """The network and regions graphs on OpenVINO's CPU plugin (`OpenVinoGraph`), verified when
    created by compiling and running a 32x32 frame, so that `auto` passes over an OpenVINO that
    cannot."""

    name = "openvino"
    provider = "CPU"
    precision = "fp32"

    def __init__(self, model: Path, threads: int | None = None, regions_model: Path | None = None):
        self.threads = threads or os.cpu_count() or 1
        self._lent: dict[int, OrderedDict] | None = None  # per graph, the infer requests lent (`lending`)
        self._open_network(model, regions_model)
        cells = 4
        image = np.zeros((1, 3, 8 * cells, 8 * cells), np.float32)
        prev = np.zeros((1, cells, cells, self.core_channels), np.float32)
        blend = np.zeros((1, 1, cells, cells), np.float32)
        style = np.zeros(self._dim(self.network, "style", 0), np.float32)
        try:
            output, _ = self.run(image, style, prev, blend)
        except Exception as exc:  # openvino raises RuntimeError subclasses of its own
            raise EngineUnavailable(f"openvino: the network did not compile and run: {str(exc).splitlines()[0]}") from exc
        if output.shape != image.shape:
            raise EngineUnavailable(f"openvino: a {image.shape} frame came out {output.shape}")

    def _open(self, model: Path, inputs: tuple[str, ...]) -> OpenVinoGraph:
        return OpenVinoGraph(model, inputs, self.threads)

    def _metadata(self, graph: OpenVinoGraph, key: str, default: str) -> str:
        return graph.metadata(key, default)

    def _dim(self, graph: OpenVinoGraph, name: str, axis: int) -> int:
        return graph.dim(name, axis)

    def _infer(self, graph: OpenVinoGraph, feeds: dict, outputs: tuple[str, ...]) -> list[np.ndarray]:
        lent = None if self._lent is None else self._lent.setdefault(id(graph), OrderedDict())
        return graph.infer(feeds, outputs, lent)

    def lending(self) -> OpenVinoEngine:
        """This engine for one caller that is done with each call's results by its second call
        after (the stylizer: an output is finished, and the state and statistics fed back, before
        then): its results are views of OpenVINO's own output buffers, not copies
        (`OpenVinoGraph.infer`). The graphs and their compiled sizes are shared with this engine."""
        lender = copy.copy(self)
        lender._lent = {}
        return lender


class TorchEngine:
    """The torch network from a checkpoint, on the CPU; for parity checks and development."""

    name = "torch"
    provider = "torch-cpu"
    precision = "fp32"

    def __init__(self, checkpoint: Path):
        try:
            import torch
        except ImportError as exc:
            raise EngineUnavailable("torch is not installed (pip install torch==2.13.0)") from exc
        from stylecam.engines.checkpoint import load_network

        self.torch = torch
        self.net = load_network(checkpoint)
        self.core_channels = self.net.config.core_channels
        self.graph = self.net.config.graph_name
        self.seed_period = self.net.config.seed_period

    @property
    def seeded(self) -> bool:
        return self.seed_period > 0

    def _origin(self, origin: tuple[int, int] | None):
        return self.torch.tensor([origin or (0, 0)], dtype=self.torch.int64) if self.seeded else None

    def run(self, image, style, prev, blend, origin=None):
        t = self.torch
        with t.inference_mode():
            out, fused = self.net(t.from_numpy(image), t.from_numpy(style), t.from_numpy(prev), t.from_numpy(blend),
                                  self._origin(origin))
        return out.numpy(), np.ascontiguousarray(fused.numpy())

    def run_smoothed(self, image, style, prev, blend, stats, beta: float, origin=None):
        t = self.torch
        with t.inference_mode():
            out, fused, stats = self.net.smoothed(t.from_numpy(image), t.from_numpy(style), t.from_numpy(prev),
                                                  t.from_numpy(blend), t.from_numpy(stats), t.full((1,), beta),
                                                  self._origin(origin))
        return out.numpy(), np.ascontiguousarray(fused.numpy()), stats.numpy()

    def run_two(self, image, style, style_b, region, prev, blend, origin=None):
        t = self.torch
        with t.inference_mode():
            out, fused = self.net.two_styles(*(t.from_numpy(a) for a in (image, style, style_b, region, prev, blend)),
                                             self._origin(origin))
        return out.numpy(), np.ascontiguousarray(fused.numpy())


_ORT_PROVIDERS = {
    "ort-cpu": "CPUExecutionProvider",
    "ort-cuda": "CUDAExecutionProvider",
    "ort-tensorrt": "TensorrtExecutionProvider",
}


def create_engine(name: str, model: Path, checkpoint: Path, regions_model: Path | None = None) -> Choice:
    """Build the named engine, or for `auto` the best that initialises: TensorRT > CUDA > OpenVINO
    on the CPU > ONNX Runtime on the CPU. regions_model: the two-style graph for the ONNX engines
    (loaded when first needed)."""
    if name not in ENGINE_NAMES:
        raise EngineUnavailable(f"unknown engine {name!r}; choose from {', '.join(ENGINE_NAMES)}")
    if not Path(model).is_file() and name != "torch":
        raise EngineUnavailable(f"model file not found: {model}")
    if name == "torch":
        return Choice(TorchEngine(checkpoint))
    if name != "auto":
        return Choice(_onnx_engine(name, model, regions_model))
    notes = []
    for candidate in ("ort-tensorrt", "ort-cuda", "openvino"):
        try:
            return Choice(_onnx_engine(candidate, model, regions_model), notes)
        except EngineUnavailable as exc:
            notes.append(f"{candidate}: {exc}")
    return Choice(_onnx_engine("ort-cpu", model, regions_model), notes)


def _onnx_engine(name: str, model: Path, regions_model: Path | None) -> Engine:
    if name == "openvino":
        return OpenVinoEngine(model, regions_model=regions_model)
    return OrtEngine(model, _ORT_PROVIDERS[name], regions_model=regions_model)
