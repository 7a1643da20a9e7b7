"""The live session's outputs, switched on the GUI thread: the recording, the virtual camera, the
clean output window and PNG snapshots. Each frame shown reaches the sinks through `submit`."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from stylecam.app.outputs.recorder import have_pyav, open_writer
from stylecam.app.outputs.sinks import SinkThread
from stylecam.app.outputs.video_out import OutputError
from stylecam.app.outputs.virtualcam import VirtualCamera, VirtualCameraUnavailable
from stylecam.app.ui.window import OutputWindow

if TYPE_CHECKING:
    from stylecam.app.ui.session import LiveSession


class OutputControl:
    """Owns the sinks and the output window of one session; `recordings` lists each recording
    made (path, frames written and dropped, writer)."""

    def __init__(self, session: LiveSession):
        self.session = session
        self.recorder: SinkThread | None = None
        self.recording_path: Path | None = None
        self.recordings: list[dict] = []
        self.virtualcam: SinkThread | None = None
        self.output_window: OutputWindow | None = None

    def show(self, image: np.ndarray) -> None:
        """The frame the main view is given, for the output window."""
        if self.output_window is not None:
            self.output_window.view.set_frame(image)

    def submit(self, image: np.ndarray, now: float) -> None:
        """A stylised frame was shown at `now`: to the recording and the virtual camera."""
        if self.recorder is not None:
            self.recorder.submit(image, now)
        if self.virtualcam is not None:
            self.virtualcam.submit(image, now)

    def close(self) -> None:
        """The recording is finalised, the virtual camera and the output window closed."""
        self.stop_recording()
        if self.virtualcam is not None:
            self.virtualcam.close()
            self.virtualcam = None
        if self.output_window is not None:
            self.output_window.close()

    def _capture_path(self, suffix: str) -> Path:
        folder = Path(self.session.settings.capture_dir or ".").expanduser()
        stamp = f"{datetime.now():%Y%m%d-%H%M%S-%f}"[:-3]  # to the millisecond
        return folder / f"stylecam-{stamp}{suffix}"

    def snapshot(self) -> Path | None:
        """Save the frame on screen as PNG; returns its path."""
        window = self.session.window
        frame = window.view.frame
        if frame is None:
            return None
        path = self._capture_path(".png")
        if not cv2.imwrite(str(path), frame):
            window.show_status(f"could not save a snapshot to {path}")
            return None
        window.show_status(f"snapshot saved: {path}", 4000)
        return path

    def start_recording(self, path: Path) -> None:
        source = self.session.pipeline.source
        size = self._output_size()
        fps = source.granted.fps if source.granted else 30.0
        try:
            writer = open_writer(path, fps, size)
        except OutputError as exc:
            self.session.on_error("recorder", str(exc))
            return
        self.recorder = SinkThread(writer, self.session.signals.error.emit)
        self.recording_path = path
        self.session.window.show_status(f"recording to {path} ({writer.describe})")

    def stop_recording(self) -> None:
        if self.recorder is None:
            return
        recorder, self.recorder = self.recorder, None
        recorder.close()
        self.recordings.append({"path": str(self.recording_path), "frames_written": recorder.written,
                                "frames_dropped": recorder.dropped, "writer": recorder.writer.describe})
        self.session.window.show_status(f"recording saved: {self.recording_path} ({recorder.written} frames)", 5000)

    def toggle_recording(self) -> None:
        if self.recorder is not None:
            self.stop_recording()
        else:
            self.start_recording(self._capture_path(".mp4" if have_pyav() else ".mkv"))

    def toggle_virtual_camera(self) -> None:
        window = self.session.window
        if self.virtualcam is not None:
            self.virtualcam.close()
            self.virtualcam = None
            window.show_status("virtual camera off", 3000)
            return
        w, h = self._output_size()
        try:
            camera = VirtualCamera(w, h, 30.0)
        except VirtualCameraUnavailable as exc:
            window.show_status(str(exc))
            self.session.errors.append(f"virtual camera: {exc}")
            return
        self.virtualcam = SinkThread(camera, self.session.signals.error.emit, depth=2)
        window.show_status(f"virtual camera on: {camera.device}", 4000)

    def toggle_output_window(self) -> None:
        if self.output_window is None:
            self.output_window = OutputWindow(self.session)
            self.output_window.show()
        else:
            self.output_window.close()
            self.output_window = None

    def _output_size(self) -> tuple[int, int]:
        shown, pipeline = self.session.last_shown, self.session.pipeline
        if shown is not None:
            return shown.image.shape[1], shown.image.shape[0]
        size = pipeline.controls.get()[0].size
        granted = pipeline.source.granted
        return size or ((granted.width, granted.height) if granted else (640, 480))
