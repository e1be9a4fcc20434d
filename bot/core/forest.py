"""Gradient-boosted trees applied with numpy alone: the shape every learned weight file uses.

The training scripts (`benchmarks/decision.py`, `benchmarks/reading.py`) fit sklearn's
HistGradientBoostingClassifier and export its trees as lists (`exported_trees`); the bot
walks them here, all trees at once, without sklearn.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


class ForestFileError(ValueError):
    """A weights file whose trees do not fit this code (other features, broken trees)."""


@dataclass(frozen=True)
class Forest:
    """Trees with their nodes in flat arrays so that numpy walks all trees at once.

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
    # `left` and `right` interleaved (node n's children at 2n and 2n + 1), so a step is one
    # look-up: 2 * node + (went right). Derived from the others.
    children: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        children = np.empty(2 * len(self.left), dtype=np.intp)
        children[0::2], children[1::2] = self.left, self.right
        object.__setattr__(self, "children", children)

    @classmethod
    def of_trees(cls, trees: list[list[tuple]], baseline: float, features: int) -> Forest:
        """Trees as weights files write them: per tree, nodes `[feature, threshold, left,
        right]` and leaves `[value]`, the root first; `features`: how many a row has."""
        if not trees or not all(trees):
            raise ForestFileError("no trees")
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
        if not 0 <= feature.min() <= feature.max() < features:
            raise ForestFileError("a node splits on no known feature")
        depth = max(_tree_depth(tree) for tree in trees)
        return cls(roots, feature, threshold, left, right, value, baseline, depth)

    @classmethod
    def from_dict(cls, data: dict, feature_names: tuple[str, ...]) -> Forest:
        """The `features`, `baseline` and `trees` of a weights file trained on these
        features (in this order)."""
        try:
            names = tuple(data["features"])
            if names != feature_names:
                raise ForestFileError(f"trained on other features: {names}")
            return cls.of_trees([[tuple(node) for node in tree] for tree in data["trees"]],
                                float(data["baseline"]), len(feature_names))
        except (KeyError, TypeError, ValueError, IndexError) as error:
            if isinstance(error, ForestFileError):
                raise
            raise ForestFileError(f"malformed weights file: {error!r}") from error

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        """P(label 1), one per feature row. All rows walk all trees at once, one level per
        step, each step a few `take`s over (rows x trees) nodes (the cost is in the elements,
        so rows times trees is what a caller keeps small)."""
        if not len(rows):
            return np.zeros(0)
        count, width = rows.shape
        cells = np.ascontiguousarray(rows, dtype=np.float64).ravel()
        trees = len(self.roots)
        node = np.tile(self.roots, count)
        row_start = np.repeat(np.arange(count, dtype=np.intp) * width, trees)
        for _ in range(self.depth):
            cell = self.feature.take(node)
            cell += row_start
            went_right = cells.take(cell) > self.threshold.take(node)
            node *= 2
            node += went_right
            node = self.children.take(node)
        logits = self.baseline + self.value.take(node).reshape(count, trees).sum(axis=1)
        return 1.0 / (1.0 + np.exp(-np.clip(logits, -40.0, 40.0)))


def _tree_depth(tree: list[tuple], node: int = 0) -> int:
    """Steps from `node` to its deepest leaf; children come after their parent (no loops)."""
    if len(tree[node]) == 1:
        return 0
    _, _, left, right = tree[node]
    if not node < left < len(tree) or not node < right < len(tree):
        raise ForestFileError(f"node {node} points outside its tree")
    return 1 + max(_tree_depth(tree, left), _tree_depth(tree, right))


def exported_trees(model) -> dict:
    """A fitted sklearn HistGradientBoostingClassifier as a weights file's `baseline` and
    `trees` (learning rate included), in sklearn's node order, the root first. Split
    thresholds keep every digit: they are feature values seen in training, which rows meet
    exactly. (For the training scripts; the bot never imports sklearn.)"""
    trees = []
    for (predictor,) in model._predictors:
        trees.append([[round(float(node["value"]), 6)] if node["is_leaf"] else
                      [int(node["feature_idx"]), float(node["num_threshold"]),
                       int(node["left"]), int(node["right"])]
                      for node in predictor.nodes])
    return {"baseline": round(float(model._baseline_prediction.ravel()[0]), 6), "trees": trees}
