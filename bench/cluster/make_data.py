"""Deterministic benchmark features: N x D float32, a mixture of Gaussians (so clusters exist)."""
import sys
import numpy as np

n, d, centers, path = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rng = np.random.default_rng(20180908)
means = rng.standard_normal((centers, d), dtype=np.float32) * 2.0
scales = rng.uniform(0.5, 1.5, size=(d,)).astype(np.float32)        # anisotropic, so whitening matters
labels = rng.integers(0, centers, size=n)
x = means[labels] + rng.standard_normal((n, d), dtype=np.float32)
x *= scales
np.save(path, np.ascontiguousarray(x, dtype=np.float32))
