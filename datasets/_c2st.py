"""Classifier two-sample test (C2ST): can a classifier tell synthetic frames from real ones?

Lopez-Paz & Oquab (ICLR 2017): train a classifier to separate two samples; its held-out
AUC is 0.5 when the distributions are the same and 1 when they never overlap. Here every
fold is split by patient (``StratifiedGroupKFold``: a patient's frames never sit on both
sides), the AUC is computed once on the pooled out-of-fold scores, and its 95 % CI is a
patient-level (cluster) percentile bootstrap of those scores: it covers which patients
were drawn, not the refitting of the classifier.

Two classifiers: a standardised L2 logistic regression on interpretable features, and a
small CNN (random init) on image crops. Nothing here feeds back into the generator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

#: Folds of the patient-grouped cross-validation and bootstrap resamples of the CI.
N_SPLITS, N_BOOT = 5, 2000


@dataclass
class C2STResult:
    auc: float
    ci_low: float
    ci_high: float
    n_real: int
    n_synthetic: int
    scores: np.ndarray  # out-of-fold P(synthetic)


def folds(y: np.ndarray, groups: np.ndarray, seed: int = 0):
    """Patient-grouped, class-stratified folds."""
    n = min(N_SPLITS, len(np.unique(groups[y == 0])), len(np.unique(groups[y == 1])))
    return StratifiedGroupKFold(n, shuffle=True, random_state=seed).split(y, y, groups)


def auc_score(y: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC as the Mann–Whitney statistic (ties count half); fast enough to bootstrap."""
    from scipy.stats import rankdata

    ranks = rankdata(scores)
    pos = y == 1
    n1, n0 = int(pos.sum()), int((~pos).sum())
    return float((ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def cluster_bootstrap_ci(
    y: np.ndarray, scores: np.ndarray, groups: np.ndarray, seed: int = 0
) -> tuple[float, float]:
    """Percentile 95 % CI of the AUC, resampling patients with replacement."""
    rng = np.random.default_rng(seed)
    ids = np.unique(groups)
    members = [np.flatnonzero(groups == g) for g in ids]
    aucs = []
    for _ in range(N_BOOT):
        take = np.concatenate([members[i] for i in rng.integers(0, len(ids), len(ids))])
        if len(np.unique(y[take])) == 2:
            aucs.append(auc_score(y[take], scores[take]))
    lo, hi = np.percentile(aucs, [2.5, 97.5])
    return float(lo), float(hi)


def _result(y: np.ndarray, scores: np.ndarray, groups: np.ndarray, seed: int) -> C2STResult:
    auc = auc_score(y, scores)
    lo, hi = cluster_bootstrap_ci(y, scores, groups, seed)
    return C2STResult(auc, lo, hi, int((y == 0).sum()), int((y == 1).sum()), scores)


def logistic_c2st(X: np.ndarray, y: np.ndarray, groups: np.ndarray, seed: int = 0) -> C2STResult:
    """C2ST with a standardised logistic regression (C = 1, class-balanced) on features
    ``X`` (rows: frames; ``y`` 1 = synthetic, 0 = real; ``groups``: patient ids)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    scores = np.zeros(len(y))
    for train, test in folds(y, groups, seed):
        model = make_pipeline(
            StandardScaler(), LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000)
        )
        model.fit(X[train], y[train])
        scores[test] = model.predict_proba(X[test])[:, 1]
    return _result(y, scores, groups, seed)


def separating_features(X: np.ndarray, y: np.ndarray, names: list[str], k: int = 3) -> list:
    """The ``k`` features that separate best on their own: univariate AUC farthest from
    0.5, with the direction (> 0.5: higher in synthetic frames)."""
    aucs = [auc_score(y, X[:, j]) for j in range(X.shape[1])]
    order = np.argsort([-abs(a - 0.5) for a in aucs])[:k]
    return [(names[j], float(aucs[j])) for j in order]


def cnn_c2st(
    images: np.ndarray, y: np.ndarray, groups: np.ndarray, seed: int = 0, epochs: int = 150
) -> C2STResult:
    """C2ST with a small CNN from random weights on ``images`` (N, H, W) in 0…1: three
    3 × 3 conv-BN-ReLU-maxpool blocks (8, 16, 32 channels), global average pooling, one
    logit; Adam 1e-3, weight decay 1e-4, random flips, full-batch steps; one model per
    fold."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny model: threads cost more than they save
    x_all = torch.as_tensor(images, dtype=torch.float32)[:, None]
    scores = np.zeros(len(y))
    for train, test in folds(y, groups, seed):
        blocks = []
        for c_in, c_out in ((1, 8), (8, 16), (16, 32)):
            blocks += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU()]
            blocks.append(nn.MaxPool2d(2))
        net = nn.Sequential(*blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 1))
        opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-4)
        xt, yt = x_all[train], torch.as_tensor(y[train], dtype=torch.float32)
        pos = float(yt.mean())
        weight = torch.where(yt > 0, 0.5 / pos, 0.5 / (1 - pos))  # balanced classes
        gen = torch.Generator().manual_seed(seed)
        net.train()
        for _ in range(epochs):
            xb = xt
            if torch.rand(1, generator=gen) < 0.5:
                xb = xb.flip(-1)
            if torch.rand(1, generator=gen) < 0.5:
                xb = xb.flip(-2)
            loss = nn.functional.binary_cross_entropy_with_logits(net(xb)[:, 0], yt, weight=weight)
            opt.zero_grad()
            loss.backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            scores[test] = torch.sigmoid(net(x_all[test])[:, 0]).numpy()
    torch.set_num_threads(threads)
    return _result(y, scores, groups, seed)
