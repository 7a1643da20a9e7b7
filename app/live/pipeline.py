"""The live pipeline: capture thread -> newest-wins slot -> inference thread -> newest-wins slot
-> whoever displays (the GUI thread). Qt-free: the window passes callbacks that emit signals.

Every frame carries its capture time (time.perf_counter() seconds) to the display, where
capture -> display latency is measured. A stage's exception goes to `on_error(stage, message)`,
is counted in `metrics.stage_failures`, and the stage restarts (the inference stage from a reset
temporal state; the capture stage reopens its source) after a wait that doubles while it keeps
failing; nothing dies silently and nothing stops for good but on `stop()`.
"""
from __future__ import annotations

import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace

import cv2
import numpy as np

from stylecam.app.live.autosize import AutoSize, AutoSizePolicy
from stylecam.app.live.camera import LiveSource
from stylecam.app.live.metrics import PipelineMetrics
from stylecam.app.live.slots import LatestSlot
from stylecam.app.live.sources import Frame
from stylecam.engines.backends import Engine
from stylecam.engines.overlap import OverlappedStylizer
from stylecam.engines.regions import WHOLE_FRAME, Regions
from stylecam.engines.segmenter import PersonSegmenter
from stylecam.engines.stylizer import StageTimes, Stylized, VideoStylizer
from stylecam.engines.temporal import TemporalSettings

FrameHook = Callable[[int, float, float], None]  # (frame index, capture time s, mean level 0-255)

RECONNECT_EVERY_S = 1.0
RESTART_WAIT_S = (0.25, 4.0)  # a failed stage restarts after the first; the wait doubles up to the second
STABLE_S = 5.0  # a stage that ran this long before failing restarts after the shortest wait
RESTARTING_STAGES = ("capture", "inference", "watchdog")  # Stage.name of the stages the supervisor restarts
STALL_S = 2.0  # a camera read blocked this long is a stall: the watchdog reconnects
WATCH_EVERY_S = 0.25
BLACK_LEVEL = 3.0  # mean 0-255 below which a frame counts as black
BLACK_FRAMES = 30  # consecutive black frames before the status says so
CROSSFADE_S = 0.3
PACE_FRAMES = 30  # recent frames whose engine and prepare times pace the overlap (InferenceStage._prepare_at)


@dataclass(frozen=True)
class Controls:
    """What the user steers. style_strength in [0, 1] blends the stylised frame with the original
    (1 = fully stylised); temporal in [0, 1] is the temporal strength; size is the output
    (width, height) or None for the source's own size; auto_size lets the processing size step
    below the output size when inference falls behind (autosize.py); regions: what the person
    and the background show (engines/regions.py; needs the pipeline's segmenter)."""

    style_index: int = 0
    style_strength: float = 1.0
    temporal: float = 0.8
    size: tuple[int, int] | None = None
    auto_size: bool = False
    regions: Regions = WHOLE_FRAME


@dataclass
class Result:
    """One processed frame. image: the stylised frame blended by style strength; original: the
    input at the same size; both H x W x 3 uint8 BGR."""

    image: np.ndarray
    original: np.ndarray
    index: int  # capture sequence number
    t_capture: float  # perf_counter seconds
    t_ready: float
    times: StageTimes  # ms per stylizer stage
    style_index: int  # the style faded to (or being faded to)


class ControlBox:
    """Controls shared between the GUI (writes) and the inference thread (reads on change)."""

    def __init__(self, controls: Controls):
        self._lock = threading.Lock()
        self._controls = controls
        self.version = 0

    def update(self, **changes) -> None:
        with self._lock:
            self._controls = replace(self._controls, **changes)
            self.version += 1

    def get(self) -> tuple[Controls, int]:
        with self._lock:
            return self._controls, self.version


class StyleFader:
    """A switch between style vectors as a linear interpolation over `duration` seconds."""

    def __init__(self, vectors: np.ndarray, index: int, duration: float = CROSSFADE_S):
        self.vectors = vectors
        self.duration = duration
        self.target = index
        self._from = vectors[index]
        self._start = -1e9

    def switch(self, index: int, now: float) -> None:
        """Fade from wherever the fade is now to style `index`."""
        self._from = self.vector(now)
        self.target = index
        self._start = now

    def replace_vectors(self, vectors: np.ndarray) -> None:
        """A new bank whose first rows are the old bank (styles appended at run time)."""
        self.vectors = vectors

    def vector(self, now: float) -> np.ndarray:
        """The style vector (S,) float32 at time `now`."""
        t = (now - self._start) / self.duration if self.duration > 0 else 1.0
        if t >= 1.0:
            return self.vectors[self.target]
        t = max(t, 0.0)
        return ((1.0 - t) * self._from + t * self.vectors[self.target]).astype(np.float32)

    def fading(self, now: float) -> bool:
        return now - self._start < self.duration


class Stage:
    """A worker thread with start()/stop(): stop sets an Event and joins. `loop()` runs under a
    supervisor that reports, counts and restarts it when it raises."""

    name = "stage"

    def __init__(self, on_error: Callable[[str, str], None], metrics: PipelineMetrics):
        self.on_error = on_error
        self.metrics = metrics
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.stopping.clear()
        self._thread = threading.Thread(target=self._guarded, name=f"stylecam-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self.stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _guarded(self) -> None:
        wait = RESTART_WAIT_S[0]
        while not self.stopping.is_set():
            started = time.perf_counter()
            try:
                self.loop()
                return
            except Exception as exc:  # reported to the window, counted, then the stage restarts
                last = traceback.extract_tb(exc.__traceback__)[-1]
                self.metrics.stage_failures[self.name] = self.metrics.stage_failures.get(self.name, 0) + 1
                self.on_error(self.name, f"{type(exc).__name__}: {exc} ({last.filename.rsplit('/', 1)[-1]}:{last.lineno})")
            self.recover()
            stable = time.perf_counter() - started >= STABLE_S
            wait = RESTART_WAIT_S[0] if stable else wait
            self.stopping.wait(wait)
            wait = min(2 * wait, RESTART_WAIT_S[1])

    def loop(self) -> None:
        raise NotImplementedError

    def recover(self) -> None:
        """Called after loop() raised, before it runs again."""


class CaptureStage(Stage):
    """Reads the source as fast as it delivers and keeps only the newest frame. A lost camera is
    reported through on_status('reconnecting', ...) and reopened every second until it returns."""

    name = "capture"

    def __init__(self, source: LiveSource, out: LatestSlot[Frame], metrics: PipelineMetrics,
                 on_status: Callable[[str, str], None], on_error: Callable[[str, str], None],
                 on_frame: FrameHook | None = None):
        super().__init__(on_error, metrics)
        self.source = source
        self.out = out
        self.on_status = on_status
        self.on_frame = on_frame
        self.index = 0
        self.reading_since: float | None = None  # perf_counter time a read() began, while it runs
        self.black_run = 0  # consecutive black frames

    def _connect(self) -> bool:
        from stylecam.app.live.camera import CameraUnavailable

        try:
            granted = self.source.open()
        except CameraUnavailable as exc:
            self.on_status("reconnecting", f"{self.source.name}: {exc}")
            return False
        self.on_status("live", f"{self.source.name}: {granted.describe()}")
        return True

    def loop(self) -> None:
        self.metrics.capture_thread_id = threading.get_native_id()
        if self.source.is_open:
            self.on_status("live", f"{self.source.name}: {self.source.granted.describe()}")
        try:
            while not self.stopping.is_set():
                if not self.source.is_open and not self._connect():
                    self.stopping.wait(RECONNECT_EVERY_S)
                    continue
                self.reading_since = time.perf_counter()
                image = self.source.read()
                self.reading_since = None
                now = time.perf_counter()
                if self.stopping.is_set():  # abandoned by the watchdog while blocked in read()
                    break
                if image is None:
                    if not self.source.reconnects:
                        raise RuntimeError(f"{self.source.name} gave no frame")
                    self.source.close()
                    self.on_status("reconnecting", f"{self.source.name} lost; reconnecting")
                    continue
                level = float(image[::8, ::8].mean())
                self._check_black(level)
                if self.on_frame is not None:
                    self.on_frame(self.index, now, level)
                self.out.put(Frame(image, self.index, now))
                self.index += 1
                self.metrics.capture.tick(now)
        finally:
            self.source.close()

    def _check_black(self, level: float) -> None:
        """Say once when the source has delivered BLACK_FRAMES black frames in a row (mean
        `level` 0-255 below BLACK_LEVEL), and once when the picture is back."""
        black = level < BLACK_LEVEL
        self.black_run = self.black_run + 1 if black else 0
        if self.black_run == BLACK_FRAMES:
            self.on_status("black", f"{self.source.name} delivers black frames (lens covered, or no light?)")
        elif not black and self.metrics.black_frames_reported:
            self.on_status("live", f"{self.source.name}: the picture is back")
        self.metrics.black_frames_reported = self.black_run >= BLACK_FRAMES

    def stalled(self, now: float) -> bool:
        """A camera read() has blocked for STALL_S or more."""
        since = self.reading_since
        return self.source.reconnects and since is not None and now - since >= STALL_S


class WatchdogStage(Stage):
    """Every WATCH_EVERY_S: a camera read blocked for STALL_S is a stall. The stuck capture
    thread is abandoned (it ends when its read returns) and a fresh one opens the camera anew."""

    name = "watchdog"

    def __init__(self, pipeline: Pipeline, on_status: Callable[[str, str], None],
                 on_error: Callable[[str, str], None]):
        super().__init__(on_error, pipeline.metrics)
        self.pipeline = pipeline
        self.on_status = on_status

    def loop(self) -> None:
        while not self.stopping.wait(WATCH_EVERY_S):
            capture = self.pipeline.capture
            if capture.stalled(time.perf_counter()):
                self.metrics.stalls += 1
                self.on_status("reconnecting", f"{capture.source.name} stalled: no frame for {STALL_S:.0f} s; reconnecting")
                self.pipeline.replace_capture(capture.source.fresh())


def _resized(image: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    """image (H x W x 3 uint8 BGR) at size (w, h); the same array when it already is."""
    if size is None or (image.shape[1], image.shape[0]) == size:
        return image
    shrink = size[0] * size[1] < image.shape[0] * image.shape[1]
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


@dataclass(frozen=True)
class _Work:
    """A frame handed to the stylizer, with what its result needs."""

    frame: Frame
    image: np.ndarray  # the frame at the output size
    output: tuple[int, int]  # (w, h)
    started: float  # perf_counter seconds
    style_strength: float
    style_index: int


class InferenceStage(Stage):
    """Stylises the newest captured frame; applies control changes between frames. The engine
    call of one frame runs while the next frame is prepared and the last finished
    (engines/overlap.py): when frames wait, they are stylised at the engine's pace rather than at
    the engine's and the steps around it together."""

    name = "inference"

    def __init__(self, engine: Engine, vectors: np.ndarray, controls: ControlBox, inp: LatestSlot[Frame],
                 out: LatestSlot[Result], metrics: PipelineMetrics, on_result: Callable[[], None],
                 on_error: Callable[[str, str], None], auto_policy: AutoSizePolicy = AutoSizePolicy(),
                 segmenter: PersonSegmenter | None = None):
        super().__init__(on_error, metrics)
        self.auto_policy = auto_policy
        self.autosize: AutoSize | None = None
        first, self._version = controls.get()
        self.controls_box = controls
        self.controls = first
        self.fader = StyleFader(vectors, first.style_index)
        self.stylizer = VideoStylizer(engine, self.fader.vector(0.0), TemporalSettings(strength=first.temporal),
                                      segmenter=segmenter)
        self.stylizer.set_regions(first.regions)
        self.inp, self.out = inp, out
        self.on_result = on_result
        self._overlap: OverlappedStylizer | None = None  # while loop() runs
        self._last_result = -1e9  # perf_counter seconds of the last result
        # recent engine and prepare (preprocess + flow + segment) times, ms: when to prepare the next frame
        self._engine_ms: deque[float] = deque(maxlen=PACE_FRAMES)
        self._prepare_ms: deque[float] = deque(maxlen=PACE_FRAMES)
        self._pending_vectors: np.ndarray | None = None
        self._lock = threading.Lock()

    def set_vectors(self, vectors: np.ndarray) -> None:
        """A new style bank (K x S float32), applied before the next frame."""
        with self._lock:
            self._pending_vectors = vectors

    def _apply_controls(self, now: float) -> None:
        with self._lock:
            if self._pending_vectors is not None:
                self.fader.replace_vectors(self._pending_vectors)
                self._pending_vectors = None
        controls, version = self.controls_box.get()
        if version == self._version:
            return
        self._deliver(self._overlap.drain() if self._overlap is not None else None)  # the running frame, as it was set
        self._version = version
        old, self.controls = self.controls, controls
        if controls.style_index != old.style_index and 0 <= controls.style_index < len(self.fader.vectors):
            self.fader.switch(controls.style_index, now)
        if controls.temporal != old.temporal:
            self.stylizer.set_temporal(TemporalSettings(strength=controls.temporal))
        if controls.regions is not old.regions:
            self.stylizer.set_regions(controls.regions)
        if controls.size != old.size or controls.auto_size != old.auto_size:
            self.stylizer.reset()
            self.autosize = None

    def _processing_size(self, output: tuple[int, int]) -> tuple[int, int]:
        """The size to stylise at: the output size, or under auto_size the AutoSize choice."""
        if not self.controls.auto_size:
            self.metrics.processing_size = output
            return output
        if self.autosize is None or self.autosize.sizes[0] != output:
            self.autosize = AutoSize(output, self.auto_policy)
        self.metrics.processing_size = self.autosize.size
        return self.autosize.size

    def _begin(self, frame: Frame) -> tuple[np.ndarray, _Work]:
        """Controls applied; the frame at the processing size, and its bookkeeping."""
        now = time.perf_counter()
        self._apply_controls(now)
        c = self.controls
        image = _resized(frame.image, c.size)
        output = (image.shape[1], image.shape[0])
        work = _resized(image, self._processing_size(output))
        self.stylizer.set_style(self.fader.vector(now), reset=False)
        return work, _Work(frame, image, output, now, c.style_strength, self.fader.target)

    def _result(self, stylized: Stylized, work: _Work) -> Result:
        out = _resized(stylized.image, work.output)
        done = time.perf_counter()
        if self.autosize is not None:
            # the frame's cost: its own time, or while frames queued the time since the last result
            cost = 1000.0 * (done - max(work.started, self._last_result))
            capture_fps = self.metrics.capture.rate(done)
            if self.autosize.observe(done, cost, 1000.0 / capture_fps if capture_fps else None):
                self.metrics.size_steps.append((done, self.autosize.size))
        self._last_result = done
        t = stylized.times
        self._engine_ms.append(t.engine)
        self._prepare_ms.append(t.preprocess + t.flow + t.segment)
        if work.style_strength < 1.0:
            out = cv2.addWeighted(out, work.style_strength, work.image, 1.0 - work.style_strength, 0.0)
        return Result(out, work.image, work.frame.index, work.frame.t_capture, time.perf_counter(), stylized.times,
                      work.style_index)

    def process(self, frame: Frame) -> Result:
        """One frame through the whole chain on this thread (no overlap)."""
        image, work = self._begin(frame)
        return self._result(self.stylizer.step(image), work)

    def _deliver(self, done: tuple[Stylized, _Work] | None) -> None:
        if done is None:
            return
        result = self._result(*done)
        self.out.put(result)
        self.metrics.record_result(result)
        self.on_result()

    def recover(self) -> None:
        """After a failure: the next frame starts from a fresh temporal state."""
        self.stylizer.reset()
        self.autosize = None

    def _prepare_at(self, overlap: OverlappedStylizer) -> float:
        """perf_counter seconds to take the next frame while an engine call runs: as late as lets its
        preparation end when the call is due to (recent medians), so that it is the newest frame."""
        if not self._engine_ms:
            return 0.0
        lead_ms = float(np.median(self._engine_ms)) - float(np.median(self._prepare_ms))
        return overlap.running_since + max(lead_ms, 0.0) / 1000.0

    def loop(self) -> None:
        self.metrics.inference_thread_id = threading.get_native_id()
        overlap = self._overlap = OverlappedStylizer(self.stylizer, on_engine_done=self.inp.wake)
        self.metrics.engine_thread_id = overlap.worker_thread_id()
        try:
            while not self.stopping.is_set():
                if overlap.busy:
                    overlap.wait(self._prepare_at(overlap) - time.perf_counter())
                frame = self.inp.take(timeout=0.1, until=overlap.engine_done)
                if frame is not None:
                    image, work = self._begin(frame)
                    self._deliver(overlap.submit(image, work))
                elif overlap.engine_done():  # no frame to prepare meanwhile: the running one's result now
                    self._deliver(overlap.drain())
        finally:
            self._overlap = None
            overlap.close()


class Pipeline:
    """Owns the two stages and the slots between them. The GUI takes results with `take()`
    after `on_result()` nudges it, and calls `metrics.record_display(...)` when it shows one."""

    def __init__(self, source: LiveSource, engine: Engine, vectors: np.ndarray, controls: Controls,
                 on_result: Callable[[], None], on_status: Callable[[str, str], None],
                 on_error: Callable[[str, str], None], metrics: PipelineMetrics | None = None,
                 auto_policy: AutoSizePolicy = AutoSizePolicy(), on_frame: FrameHook | None = None,
                 segmenter: PersonSegmenter | None = None):
        """on_frame: called on the capture thread with each frame's index, time and mean level.
        segmenter: needed for controls.regions other than the whole frame."""
        self.metrics = metrics or PipelineMetrics()
        self.controls = ControlBox(controls)
        self.frames: LatestSlot[Frame] = LatestSlot()
        self.results: LatestSlot[Result] = LatestSlot()
        self.metrics.slots = (self.frames, self.results)
        self._on_status, self._on_error, self._on_frame = on_status, on_error, on_frame
        self.capture = CaptureStage(source, self.frames, self.metrics, on_status, on_error, on_frame)
        self.inference = InferenceStage(engine, vectors, self.controls, self.frames, self.results, self.metrics,
                                        on_result, on_error, auto_policy, segmenter)
        self.watchdog = WatchdogStage(self, on_status, on_error)
        self._capture_lock = threading.Lock()

    @property
    def source(self) -> LiveSource:
        return self.capture.source

    def start(self) -> None:
        self.inference.start()
        self.capture.start()
        self.watchdog.start()

    def stop(self) -> None:
        self.watchdog.stop()
        with self._capture_lock:
            self.capture.stop()
        self.inference.stop()

    def set_source(self, source: LiveSource) -> None:
        """Swap the source: the old capture thread is stopped and joined, the new one started."""
        with self._capture_lock:
            self.capture.stop()
            self._start_capture(source)

    def replace_capture(self, source: LiveSource) -> None:
        """Abandon a capture thread stuck in read() (it is told to stop and ends when the read
        returns, closing its own source) and capture from `source` on a new thread."""
        with self._capture_lock:
            self.capture.stopping.set()
            self._start_capture(source)

    def _start_capture(self, source: LiveSource) -> None:
        self.frames.clear()
        self.capture = CaptureStage(source, self.frames, self.metrics, self._on_status, self._on_error, self._on_frame)
        self.capture.start()

    def take(self) -> Result | None:
        """The newest result not yet taken, without waiting."""
        return self.results.take()
