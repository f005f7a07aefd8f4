"""The published clustering step with Debian's python3-faiss: preprocess_features + run_kmeans (CPU)."""
import json
import sys
import time

import faiss
import numpy as np

t0 = time.time()
path, k, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
x = np.load(path)
n, d = x.shape
t_load = time.time()

mat = faiss.PCAMatrix(d, 256, eigen_power=-0.5)
mat.train(x)
xb = mat.apply_py(x)
xb = xb / np.linalg.norm(xb, axis=1)[:, np.newaxis]
t_pca = time.time()

clus = faiss.Clustering(256, k)
clus.seed = 1234
clus.niter = 20
clus.max_points_per_centroid = 10000000
index = faiss.IndexFlatL2(256)
clus.train(xb, index)
_, I = index.search(xb, 1)
t_km = time.time()

stats = clus.iteration_stats
objectives = [stats.at(i).obj for i in range(stats.size())]
json.dump({"final_objective": objectives[-1], "objectives": objectives,
           "seconds": {"load": t_load - t0, "pca": t_pca - t_load, "clustering": t_km - t_pca, "total": t_km - t0}},
          open(out, "w"), indent=1)
