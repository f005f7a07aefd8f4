"""Writes a deterministic N x D float32 .npy of ReLU features (low-rank signal + noise), chunk by chunk, so
that making a 3 GB file needs little memory. Usage: make_wide.py OUT N D."""
import sys
import numpy as np

out, n, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(20180908)
basis = rng.standard_normal((64, d)).astype(np.float32) / 8
x = np.lib.format.open_memmap(out + ".tmp", mode="w+", dtype=np.float32, shape=(n, d))
step = 8192
for i in range(0, n, step):
    b = min(step, n - i)
    z = rng.standard_normal((b, 64), dtype=np.float32) @ basis
    z += 0.1 * rng.standard_normal((b, d), dtype=np.float32)
    np.maximum(z, 0, out=z)
    x[i:i + b] = z
x.flush()
del x
import os
os.replace(out + ".tmp", out)
