"""Build configuration: one typed object from the CLI or API."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class BuildConfig:
    model: str  # zoo name or path to a .onnx file
    board: str = "pynq-z2"
    out: Path | None = None
    clock_mhz: float = 100.0
    target_fps: float | None = None
    budget: float = 0.85  # share of the board a default folding may take, shell included
    checkpoint: Path | None = None
    pretrained: bool = False  # Brevitas' published weights (models.pretrained), zoo models only
    folding: Path | None = None
    verify_n: int = 0
    from_step: str | None = None
    to_step: str | None = None
    seed: int = 0
    input_fixed: str | None = None  # "W,I": quantize a float input as ap_fixed<W,I>

    def to_json(self) -> dict:
        d = asdict(self)
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in d.items()}
