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

WEIGHTS_FILE = "decision.json"


class DecisionFileError(ValueError):
    """The weights file does not fit this code (other features, missing fields)."""


@dataclass(frozen=True)
class Thresholds:
    confident: float
    closest: float


@dataclass(frozen=True)
class DecisionModel:
    """Gradient-boosted trees, their nodes in flat arrays so that numpy walks all trees at once.

    Node `n` sends a row to `left[n]` when `row[feature[n]] <= threshold[n]`, else to
    `right[n]`; a leaf points to itself on both sides (threshold +inf), so `depth` steps from
    the `roots` bring every row to a leaf of every tree. The log-odds are `baseline` plus the
    values of the leaves reached.
    """

    roots: np.ndarray      # (trees,) each tree's first node
    feature: np.ndarray    # (nodes,) the feature a node splits on
    threshold: np.ndarray  # (nodes,)
    left: np.ndarray       # (nodes,)
    right: np.ndarray      # (nodes,)
    value: np.ndarray      # (nodes,) a leaf's share of the log-odds
    baseline: float
    depth: int
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
            return cls.of_trees([[tuple(node) for node in tree] for tree in data["trees"]],
                                float(data["baseline"]), thresholds)
        except (KeyError, TypeError, ValueError, IndexError) as error:
            raise DecisionFileError(f"malformed weights file: {error!r}") from error

    @classmethod
    def of_trees(cls, trees: list[list[tuple]], baseline: float,
                 thresholds: Thresholds) -> DecisionModel:
        """Trees as the weights file writes them: per tree, nodes `[feature, threshold, left,
        right]` and leaves `[value]`, the root first."""
        if not trees or not all(trees):
            raise DecisionFileError("no trees")
        sizes = [len(tree) for tree in trees]
        roots = np.cumsum([0] + sizes[:-1])
        feature, left, right = (np.zeros(sum(sizes), dtype=np.intp) for _ in range(3))
        threshold, value = np.full(sum(sizes), np.inf), np.zeros(sum(sizes))
        for root, tree in zip(roots.tolist(), trees, strict=True):
            for n, node in enumerate(tree, start=root):
                if len(node) == 1:
                    value[n], left[n], right[n] = node[0], n, n
                else:
                    feature[n], threshold[n], left[n], right[n] = node
                    left[n] += root
                    right[n] += root
        if not 0 <= feature.min() <= feature.max() < len(FEATURE_NAMES):
            raise DecisionFileError("a node splits on no known feature")
        depth = max(_tree_depth(tree) for tree in trees)
        return cls(roots, feature, threshold, left, right, value, baseline, depth, thresholds)

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        """P(the candidate answers the question), one per feature row."""
        if not len(rows):
            return np.zeros(0)
        cells = rows.ravel()
        row_start = (np.arange(len(rows)) * rows.shape[1])[:, None]
        node = np.broadcast_to(self.roots, (len(rows), len(self.roots)))
        for _ in range(self.depth):
            goes_left = cells[row_start + self.feature[node]] <= self.threshold[node]
            node = np.where(goes_left, self.left[node], self.right[node])
        logits = self.baseline + self.value[node].sum(axis=1)
        return 1.0 / (1.0 + np.exp(-np.clip(logits, -40.0, 40.0)))


def _tree_depth(tree: list[tuple], node: int = 0) -> int:
    """Steps from `node` to its deepest leaf; children come after their parent (no loops)."""
    if len(tree[node]) == 1:
        return 0
    _, _, left, right = tree[node]
    if not node < left < len(tree) or not node < right < len(tree):
        raise DecisionFileError(f"node {node} points outside its tree")
    return 1 + max(_tree_depth(tree, left), _tree_depth(tree, right))


@functools.cache
def shipped_model() -> DecisionModel:
    """The weights shipped beside this module, read once per process."""
    text = resources.files("bot.core").joinpath(WEIGHTS_FILE).read_text(encoding="utf-8")
    return DecisionModel.from_dict(json.loads(text))
