"""Gaussian mixtures with diagonal covariances, fitted by EM: the voices' frame models.

The method of scikit-learn's GaussianMixture(covariance_type="diag") with its k-means start,
in numpy. Importing scikit-learn costs 1.2 s (it loads scipy.stats and pandas), and a new
publish paid it on its critical path: the import holds the GIL while the recogniser's model
loads, and made a 3-minute publish 1.6 s slower (7.4 s in all). A test fits both on the same
frames and compares their likelihoods.
"""

from __future__ import annotations

import numpy as np

KMEANS_ROUNDS = 300  # Lloyd iterations at most: they stop once no frame changes cluster, or
KMEANS_TOL = 1e-4  # the centres move less than this share of the data's variance (squared)


class DiagonalMixture:
    """`components` Gaussians with diagonal covariances; fit(x), then score_samples(x)."""

    def __init__(self, components: int, max_iter: int = 100, tol: float = 1e-3,
                 reg_covar: float = 1e-6, seed: int = 0):
        self.components, self.max_iter, self.tol, self.reg_covar = components, max_iter, tol, reg_covar
        self.seed = seed

    def fit(self, x: np.ndarray, clusters: np.ndarray | None = None) -> "DiagonalMixture":
        """EM from these clusters of the rows (else k-means'), until the mean log-likelihood
        gains less than tol."""
        if clusters is None:
            clusters = kmeans(x, self.components, np.random.RandomState(self.seed))
        self.start(x, clusters)
        previous = -np.inf
        for _ in range(self.max_iter):
            weighted = self._weighted_log_prob(x)
            norm = _logsumexp(weighted)
            self._maximise(x, np.exp(weighted - norm[:, None]))
            if abs(norm.mean() - previous) < self.tol:
                break
            previous = norm.mean()
        return self

    def start(self, x: np.ndarray, clusters: np.ndarray) -> None:
        """Weights, means and variances of these clusters of the rows: where EM starts."""
        self._maximise(x, np.eye(self.components)[clusters])

    def score_samples(self, x: np.ndarray) -> np.ndarray:
        """The log-likelihood of each row of x under the mixture."""
        return _logsumexp(self._weighted_log_prob(x))

    def _maximise(self, x: np.ndarray, responsibility: np.ndarray) -> None:
        counts = responsibility.sum(0) + 10 * np.finfo(float).eps
        self.means = responsibility.T @ x / counts[:, None]
        variances = responsibility.T @ (x * x) / counts[:, None] - self.means ** 2 + self.reg_covar
        self.precisions = 1.0 / variances
        self.log_weights = np.log(counts / len(x))

    def _weighted_log_prob(self, x: np.ndarray) -> np.ndarray:
        # (x - mean)^2 / variance expanded, so that no frames x components x features array exists
        distance = ((self.means ** 2 * self.precisions).sum(1) - 2 * x @ (self.means * self.precisions).T
                    + (x * x) @ self.precisions.T)
        log_det = 0.5 * np.log(self.precisions).sum(1)
        return -0.5 * (x.shape[1] * np.log(2 * np.pi) + distance) + log_det + self.log_weights


def kmeans(x: np.ndarray, k: int, random: np.random.RandomState) -> np.ndarray:
    """A cluster (0..k-1) per row: k-means++ seeds, then Lloyd's iterations, as scikit-learn's
    KMeans(n_init=1) does them (the same random draws, the same stopping rule): the voices'
    re-segmentation is sensitive to where EM starts."""
    x = x - x.mean(0)  # as scikit-learn does: smaller numbers, the same clusters
    norms = (x * x).sum(1)
    centres = _seeds(x, norms, k, random)
    tolerance = KMEANS_TOL * np.var(x, axis=0).mean()
    labels = np.full(len(x), -1)
    for _ in range(KMEANS_ROUNDS):
        nearest = _squared_distances(x, norms, centres).argmin(1)
        moved = np.array([x[nearest == j].mean(0) if (nearest == j).any() else centres[j] for j in range(k)])
        shift, centres = ((moved - centres) ** 2).sum(), moved
        if np.array_equal(nearest, labels):
            return labels
        labels = nearest
        if shift <= tolerance:
            break
    return _squared_distances(x, norms, centres).argmin(1)


def _seeds(x: np.ndarray, norms: np.ndarray, k: int, random: np.random.RandomState) -> np.ndarray:
    """Greedy k-means++: each new seed the best of a few candidates drawn in proportion to
    their squared distance from the seeds so far."""
    trials = 2 + int(np.log(k))
    weights = np.ones(len(x))
    centres = [x[random.choice(len(x), p=weights / weights.sum())]]
    closest = _squared_distances(x, norms, centres[0][None])[:, 0]
    for _ in range(1, k):
        drawn = np.searchsorted(np.cumsum(closest), random.uniform(size=trials) * (closest @ weights))
        drawn = np.minimum(drawn, len(x) - 1)
        candidates = np.minimum(closest[:, None], _squared_distances(x, norms, x[drawn]))
        best = int((weights @ candidates).argmin())
        closest = candidates[:, best]
        centres.append(x[drawn[best]])
    return np.array(centres)


def _squared_distances(x: np.ndarray, norms: np.ndarray, centres: np.ndarray) -> np.ndarray:
    return np.maximum(norms[:, None] - 2 * x @ centres.T + (centres * centres).sum(1), 0)


def _logsumexp(a: np.ndarray) -> np.ndarray:
    top = a.max(1)
    return top + np.log(np.exp(a - top[:, None]).sum(1))
