"""Answer, suggest the closest paragraph, or decline: one decision learned from data.

Shallow gradient-boosted trees turn each candidate's evidence (`bot.core.features`) into the
probability that the passage answers the question. The most probable candidate is the one
shown, and its probability sets the reply: from `confident` up it is an answer, from
`closest` up it is offered as the closest paragraph, below that the bot says the lectures do
not cover it.

The trees and both thresholds come from `benchmarks/decision.py`, which trains on the gold
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
from bot.core.forest import Forest, ForestFileError

WEIGHTS_FILE = "decision.json"


# A weights file that does not fit this code (other features, missing fields).
DecisionFileError = ForestFileError


@dataclass(frozen=True)
class Thresholds:
    confident: float
    closest: float


@dataclass(frozen=True)
class DecisionModel:
    """The trees (`bot.core.forest`) over `FEATURE_NAMES`, and the two thresholds."""

    forest: Forest
    thresholds: Thresholds

    @classmethod
    def load(cls, path: Path | None = None) -> DecisionModel:
        """The shipped weights, or those of `path` (a file written by the training script)."""
        if path is None:
            return shipped_model()
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))

    @classmethod
    def from_dict(cls, data: dict) -> DecisionModel:
        forest = Forest.from_dict(data, FEATURE_NAMES)
        try:
            thresholds = Thresholds(float(data["thresholds"]["confident"]),
                                    float(data["thresholds"]["closest"]))
        except (KeyError, TypeError, ValueError) as error:
            raise DecisionFileError(f"malformed thresholds: {error!r}") from error
        return cls(forest, thresholds)

    @classmethod
    def of_trees(cls, trees: list[list[tuple]], baseline: float,
                 thresholds: Thresholds) -> DecisionModel:
        return cls(Forest.of_trees(trees, baseline, len(FEATURE_NAMES)), thresholds)

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        """P(the candidate answers the question), one per feature row."""
        return self.forest.probabilities(rows)


@functools.cache
def shipped_model() -> DecisionModel:
    """The weights shipped beside this module, read once per process."""
    text = resources.files("bot.core").joinpath(WEIGHTS_FILE).read_text(encoding="utf-8")
    return DecisionModel.from_dict(json.loads(text))
