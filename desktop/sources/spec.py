"""Source specs: `scheme:target?key=value&...`, e.g. `sim:3`, `replay:ride.fit?speed=10`, `cv:0`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from urllib.parse import parse_qsl


class SpecError(ValueError):
    """A source spec that cannot be understood; the message lists the accepted forms."""


@dataclass(frozen=True)
class SourceSpec:
    scheme: str
    target: str
    options: dict[str, str] = field(default_factory=dict)

    def float_option(self, name: str, default: float) -> float:
        raw = self.options.get(name)
        if raw is None:
            return default
        if raw in ("max", "inf"):
            return math.inf
        try:
            value = float(raw)
        except ValueError:
            raise SpecError(f"option {name}={raw!r} is not a number") from None
        if not value > 0:
            raise SpecError(f"option {name}={raw!r} must be positive")
        return value

    def int_option(self, name: str, default: int) -> int:
        raw = self.options.get(name)
        if raw is None:
            return default
        try:
            return int(raw)
        except ValueError:
            raise SpecError(f"option {name}={raw!r} is not a whole number") from None


def parse_spec(spec: str, accepted: str) -> SourceSpec:
    """Split a spec into scheme, target and options; `accepted` is shown when it is malformed."""
    scheme, sep, rest = spec.partition(":")
    if not sep and spec:
        return SourceSpec(scheme=spec, target="")
    if not scheme:
        raise SpecError(f"{spec!r} is not a source spec; accepted: {accepted}")
    target, _, query = rest.partition("?")
    return SourceSpec(scheme=scheme, target=target, options=dict(parse_qsl(query)))
