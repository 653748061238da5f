"""Camera sources, chosen by spec: `cv:INDEX`, `file:PATH`, `synthetic`, `synthetic:WxH@FPS`."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Callable

from desktop.sources.camera.base import CAMERA_CHANNEL, CameraSource, Frame
from desktop.sources.camera.grab import CameraLost, CameraUnavailable
from desktop.sources.spec import SpecError, parse_spec

ACCEPTED = "cv:INDEX (a camera, e.g. cv:0), file:PATH[?loop=1] (a video file), synthetic, synthetic:WxH@FPS (e.g. 640x480@30)"
SYNTHETIC_DEFAULT = (640, 480, 30.0)  # width px, height px, fps of a plain `synthetic`
_SYNTHETIC = re.compile(r"(\d+)x(\d+)@(\d+(?:\.\d+)?)")

__all__ = ["ACCEPTED", "CAMERA_CHANNEL", "CameraLost", "CameraSource", "CameraUnavailable", "Frame", "open_camera"]


def open_camera(spec: str, *, clock: Callable[[], float] = time.monotonic, realtime: bool = True) -> CameraSource:
    """Open the camera a spec names; it starts grabbing on `start(sink)`.

    A bad spec raises SpecError (a ValueError) listing the accepted forms; a camera or file that
    cannot be opened raises CameraUnavailable. `realtime=False` plays files and synthetic frames as
    fast as they can be made (a live camera always runs at its own pace).
    """
    parsed = parse_spec(spec, ACCEPTED)
    if parsed.scheme == "cv":
        from desktop.sources.camera.opencv import DeviceCamera

        return DeviceCamera.open(spec, _device_index(parsed.target), clock=clock)
    if parsed.scheme == "file":
        from desktop.sources.camera.opencv import VideoFileCamera

        if not parsed.target:
            raise SpecError(f"{spec!r} names no file; accepted: {ACCEPTED}")
        return VideoFileCamera.open(spec, Path(parsed.target).expanduser(), clock=clock, realtime=realtime,
                                    loop=parsed.options.get("loop") in ("1", "yes", "true"))
    if parsed.scheme == "synthetic":
        from desktop.sources.camera.synthetic import SyntheticCamera

        width, height, fps = _synthetic_format(spec, parsed.target)
        return SyntheticCamera(spec, width=width, height=height, fps=fps, clock=clock, paced=realtime)
    raise SpecError(f"{spec!r} is not a camera spec; accepted: {ACCEPTED}")


def _device_index(target: str) -> int:
    if not target.isdigit():
        raise SpecError(f"cv:{target} needs a device index, a whole number; accepted: {ACCEPTED}")
    return int(target)


def _synthetic_format(spec: str, target: str) -> tuple[int, int, float]:
    if not target:
        return SYNTHETIC_DEFAULT
    match = _SYNTHETIC.fullmatch(target)
    if match is None or min(int(match[1]), int(match[2])) < 16 or not float(match[3]) > 0:
        raise SpecError(f"{spec!r}: synthetic frames are WxH@FPS, at least 16x16; accepted: {ACCEPTED}")
    return int(match[1]), int(match[2]), float(match[3])
