"""Build configuration: one typed object from the CLI or API."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path


class LabelSelectMode(StrEnum):
    """Where a classifier's TopK(k=1)/ArgMax tail runs (``--label-select``).

    ``host``: in the host tail, after the scores (the default, as before). ``auto``: in
    hardware when the values entering it are the accelerator's integers after order-keeping
    ops, else on the host. ``hardware``: in hardware or a clear error; a graph that outputs
    scores gets a TopK(k=1) first (FINN's InsertTopK), so its output becomes the class index.
    """

    HOST = "host"
    AUTO = "auto"
    HARDWARE = "hardware"


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
    label_select: LabelSelectMode = LabelSelectMode.HOST
    # The QONNX file to build when it was exported or read elsewhere (a sweep's driver sends
    # it to every worker); ``model`` then only names the design, as the user gave it, so
    # the same point builds the same files wherever the file lands.
    source: Path | None = None

    def __post_init__(self) -> None:
        # a string from the API ("auto") is parsed once here; an unknown one raises ValueError
        object.__setattr__(self, "label_select", LabelSelectMode(self.label_select))

    def to_json(self) -> dict:
        d = asdict(self)
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in d.items()}
