"""Answer, suggest the closest paragraph, or decline: one decision learned from data.

A logistic model turns each candidate's evidence (`bot.core.features`) into the probability
that the passage answers the question. The most probable candidate is the one shown, and its
probability sets the reply: from `confident` up it is an answer, from `closest` up it is
offered as the closest paragraph, below that the bot says the lectures do not cover it.

The weights and both thresholds come from `benchmarks/decision.py`, which trains on the gold
sets, the CMRC split and cross-lecture negatives with a fixed seed, and chooses the thresholds
from cross-validated predictions; it writes `decision.json` next to this module. The bot
needs numpy alone to apply them.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from bot.core.features import FEATURE_NAMES

WEIGHTS_FILE = "decision.json"


class DecisionFileError(ValueError):
    """The weights file does not fit this code (other features, missing fields)."""


@dataclass(frozen=True)
class Thresholds:
    confident: float
    closest: float


@dataclass(frozen=True)
class DecisionModel:
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    thresholds: Thresholds

    @classmethod
    def load(cls, path: Path | None = None) -> DecisionModel:
        """The shipped weights, or those of `path` (a file written by the training script)."""
        if path is None:
            return shipped_model()
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))

    @classmethod
    def from_dict(cls, data: dict) -> DecisionModel:
        try:
            names = tuple(data["features"])
            if names != FEATURE_NAMES:
                raise DecisionFileError(f"trained on other features: {names}")
            thresholds = Thresholds(float(data["thresholds"]["confident"]),
                                    float(data["thresholds"]["closest"]))
            return cls(np.array(data["mean"], dtype=np.float64),
                       np.array(data["scale"], dtype=np.float64),
                       np.array(data["coef"], dtype=np.float64),
                       float(data["intercept"]), thresholds)
        except (KeyError, TypeError) as error:
            raise DecisionFileError(f"malformed weights file: {error!r}") from error

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        """P(the candidate answers the question), one per feature row."""
        if not len(rows):
            return np.zeros(0)
        logits = ((rows - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(logits, -40.0, 40.0)))


@functools.cache
def shipped_model() -> DecisionModel:
    """The weights shipped beside this module, read once per process."""
    text = resources.files("bot.core").joinpath(WEIGHTS_FILE).read_text(encoding="utf-8")
    return DecisionModel.from_dict(json.loads(text))
