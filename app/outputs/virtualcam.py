"""The stylised stream as a virtual camera (pyvirtualcam: v4l2loopback on Linux, OBS's camera on
Windows and macOS). Optional: `pip install 'stylecam[virtualcam]'`; where the package or the
driver is missing, opening says so in one line instead of failing later."""
from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType

import cv2
import numpy as np

INSTALL_HINT = "pip install 'stylecam[virtualcam]'"
DRIVER_HINT = ("Linux: sudo modprobe v4l2loopback devices=1 exclusive_caps=1 (package v4l2loopback-dkms); "
               "Windows/macOS: install OBS Studio and start its virtual camera once")


class VirtualCameraUnavailable(RuntimeError):
    """No virtual camera can be opened here; the message says what to install."""


class VirtualCamera:
    """A FrameWriter that sends H x W x 3 uint8 BGR frames (resized to its size) to the device."""

    name = "virtual camera"

    def __init__(self, width: int, height: int, fps: float,
                 importer: Callable[[str], ModuleType] = importlib.import_module):
        try:
            pyvirtualcam = importer("pyvirtualcam")
        except ImportError as exc:
            raise VirtualCameraUnavailable(f"virtual camera needs pyvirtualcam: {INSTALL_HINT}") from exc
        try:
            self.camera = pyvirtualcam.Camera(width, height, fps, fmt=pyvirtualcam.PixelFormat.BGR)
        except RuntimeError as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise VirtualCameraUnavailable(f"no virtual camera driver found ({first}); {DRIVER_HINT}") from exc
        self.size = (width, height)
        self.device = getattr(self.camera, "device", "virtual camera")

    def write(self, image: np.ndarray, t: float) -> None:
        if (image.shape[1], image.shape[0]) != self.size:
            image = cv2.resize(image, self.size, interpolation=cv2.INTER_AREA)
        self.camera.send(image)

    def close(self) -> None:
        self.camera.close()
