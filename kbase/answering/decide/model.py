"""The shipped model (selective.json): gradient-boosted trees over a draft answer's features, calibrated (Platt), with
the threshold chosen on held-out sets; trees that score each of the best hits as a clause that answers (the lead
ranker, whose view of the lead is two of the decision's features); and the slot classifier (character n-grams, logistic
regression). Coefficients as JSON, read with plain Python and numpy: no pickle, no scikit-learn at answer time."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

MODEL_FILE = Path(__file__).resolve().parent / "selective.json"
# where a draft stands, each with its own operating point: on a base a city extended with texts of its own, a question
# about its rule draws a national article as readily as the local one, and the added texts are new to the model
SITUATIONS = ("a bundled text on the bundled base", "a bundled text on an extended base", "an added text",
              "a bundled text with an added one close")
NO_RIVAL = 10.0  # how far below the lead a rival that is not there stands, in log-odds


def situation_of(row: dict[str, float]) -> int:
    """A draft's situation (an index of SITUATIONS) from its features: what its answer cites, on which base, and
    whether an added text's clause is the lead or close to it among the best hits."""
    if row["cited_added"] > 0:
        return 2
    if row["extended_base"] > 0:
        return 3 if row["added_text"] > 0 or row["added_rival"] > -NO_RIVAL else 1
    return 0


class StaleModel(RuntimeError):
    """The model file was trained on other features than the code computes."""


@dataclass
class SlotClassifier:
    classes: list[str]
    vocabulary: dict[str, int]
    idf: np.ndarray
    coef: np.ndarray  # classes x features
    intercept: np.ndarray
    ngrams: tuple[int, int] = (1, 2)

    def read(self, text: str) -> tuple[str, float]:
        """The slot a question reads as, and the classifier's probability of it (scikit-learn's char tf-idf, l2)."""
        text = text.lower()
        counts: dict[int, int] = {}
        for n in range(self.ngrams[0], self.ngrams[1] + 1):
            for i in range(len(text) - n + 1):
                index = self.vocabulary.get(text[i:i + n])
                if index is not None:
                    counts[index] = counts.get(index, 0) + 1
        if not counts:
            return "none", 0.0
        indices = np.fromiter(counts, dtype=np.int64)
        weights = np.fromiter(counts.values(), dtype=np.float64) * self.idf[indices]
        weights /= np.linalg.norm(weights)
        scores = self.coef[:, indices] @ weights + self.intercept
        probabilities = np.exp(scores - scores.max())
        probabilities /= probabilities.sum()
        best = int(probabilities.argmax())
        return self.classes[best], float(probabilities[best])


@dataclass
class Tree:
    """One regression tree of the boosted ensemble, as scikit-learn's tree_ arrays (a leaf's children are -1)."""

    left: list[int]
    right: list[int]
    feature: list[int]
    threshold: list[float]
    value: list[float]

    def depth(self, node: int = 0) -> int:
        if self.left[node] == -1:
            return 0
        return 1 + max(self.depth(self.left[node]), self.depth(self.right[node]))


class Forest:
    """The trees' nodes in flat arrays, walked all at once for a batch of rows: a few numpy operations per level
    instead of a Python loop per tree and node."""

    def __init__(self, trees: list[Tree]):
        starts = np.cumsum([0] + [len(t.left) for t in trees])
        self.roots = starts[:-1]
        self.depth = max((t.depth() for t in trees), default=0)
        left, right, feature, threshold, value = [], [], [], [], []
        for start, tree in zip(starts, trees):
            nodes = np.arange(len(tree.left))
            leaf = np.asarray(tree.left) == -1
            # node numbers become flat positions; a leaf leads to itself, so every row may walk the full depth
            left.append(start + np.where(leaf, nodes, tree.left))
            right.append(start + np.where(leaf, nodes, tree.right))
            feature.append(np.where(leaf, 0, tree.feature))
            threshold.append(tree.threshold)
            value.append(tree.value)
        def join(parts: list, dtype) -> np.ndarray:
            return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

        self.left, self.right, self.feature = (join(a, np.int64) for a in (left, right, feature))
        self.threshold, self.value = join(threshold, np.float64), join(value, np.float64)

    def sums(self, x: np.ndarray) -> np.ndarray:
        """Each row's sum over the trees of the leaf it reaches (x: rows × features)."""
        node = np.broadcast_to(self.roots, (len(x), len(self.roots)))
        for _ in range(self.depth):
            goes_left = np.take_along_axis(x, self.feature[node], axis=1) <= self.threshold[node]
            node = np.where(goes_left, self.left[node], self.right[node])
        return self.value[node].sum(axis=1)


@dataclass
class Ensemble:
    """Boosted regression trees over a named row of features: their summed log-odds."""

    features: list[str]
    init: float  # the ensemble's starting log-odds
    learning_rate: float
    trees: list[Tree]

    def __post_init__(self):
        self.forest = Forest(self.trees)
        self.feature_set = frozenset(self.features)

    def raw_many(self, rows) -> np.ndarray:
        return self.init + self.learning_rate * self.forest.sums(np.asarray(rows, dtype=np.float64))

    def score(self, row: dict[str, float]) -> float:
        return float(self.score_many([row])[0])

    def score_many(self, rows: list[dict[str, float]]) -> np.ndarray:
        if any(row.keys() != self.feature_set for row in rows):
            raise StaleModel("selective.json was trained on other features; retrain: python -m kbase.bench.train_decision")
        return self.raw_many([[row[name] for name in self.features] for row in rows])

    def to_json(self) -> dict:
        return {"features": self.features, "init": round(self.init, 6), "learning_rate": self.learning_rate,
                "trees": [{"left": t.left, "right": t.right, "feature": t.feature, "threshold": _rounded(t.threshold),
                           "value": _rounded(t.value)} for t in self.trees]}

    @staticmethod
    def parts_of(data: dict) -> tuple:
        return data["features"], data["init"], data["learning_rate"], [Tree(**t) for t in data["trees"]]


@dataclass
class Decision(Ensemble):
    """Whether a draft answer is right: the ensemble's score calibrated, and the operating points."""

    slope: float = 1.0  # Platt calibration of the raw score: P = 1 / (1 + exp(-(slope * raw + offset)))
    offset: float = 0.0
    thresholds: tuple[float, ...] = (1.0,) * len(SITUATIONS)  # the operating point of each situation, held out

    @property
    def threshold(self) -> float:
        """The operating point on the bundled base."""
        return self.thresholds[0]

    def threshold_for(self, row: dict[str, float]) -> float:
        return self.thresholds[situation_of(row)]

    def probability(self, row: dict[str, float]) -> float:
        return 1.0 / (1.0 + math.exp(-(self.slope * self.score(row) + self.offset)))

    def to_json(self) -> dict:
        return {**super().to_json(), "slope": self.slope, "offset": self.offset,
                "thresholds": dict(zip(SITUATIONS, self.thresholds))}


@dataclass
class SelectiveModel:
    slots: SlotClassifier | None = None
    decision: Decision | None = None
    lead: Ensemble | None = None  # each of the best hits: log-odds that it is a clause that answers (the lead ranker)
    meta: dict = field(default_factory=dict)

    def read_slot(self, text: str) -> tuple[str, float]:
        return self.slots.read(text) if self.slots else ("none", 0.0)

    def to_json(self) -> dict:
        out: dict = {"meta": self.meta}
        if self.slots:
            s = self.slots
            out["slots"] = {"classes": s.classes, "ngrams": list(s.ngrams), "vocabulary": s.vocabulary,
                            "idf": _rounded(s.idf), "coef": _rounded(s.coef), "intercept": _rounded(s.intercept)}
        if self.lead:
            out["lead"] = self.lead.to_json()
        if self.decision:
            out["decision"] = self.decision.to_json()
        return out

    @classmethod
    def from_json(cls, data: dict) -> SelectiveModel:
        slots = decision = lead = None
        if s := data.get("slots"):
            slots = SlotClassifier(s["classes"], s["vocabulary"], np.array(s["idf"]), np.array(s["coef"]),
                                   np.array(s["intercept"]), tuple(s["ngrams"]))
        if d := data.get("decision"):
            decision = Decision(*Ensemble.parts_of(d), d["slope"], d["offset"],
                                tuple(d["thresholds"][where] for where in SITUATIONS))
        if r := data.get("lead"):
            lead = Ensemble(*Ensemble.parts_of(r))
        return cls(slots, decision, lead, data.get("meta", {}))


def _rounded(values) -> list:
    return np.round(np.asarray(values, dtype=np.float64), 6).tolist()


_override: list[SelectiveModel] = []


@cache
def _load() -> SelectiveModel:
    if not MODEL_FILE.exists():
        return SelectiveModel()
    return SelectiveModel.from_json(json.loads(MODEL_FILE.read_text(encoding="utf-8")))


def shipped_model() -> SelectiveModel:
    """The model answers are decided with (the one being trained, while training)."""
    return _override[-1] if _override else _load()


def training_with(model: SelectiveModel) -> None:
    """Decide with this model from now on in this process (the training script's, before it is written)."""
    _override[:] = [model]

