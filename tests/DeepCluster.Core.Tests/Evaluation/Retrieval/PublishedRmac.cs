namespace DeepCluster.Core.Tests.Evaluation.Retrieval;

/// <summary>
/// A copy of the published <c>eval_retrieval.py</c>'s <c>get_rmac_region_coordinates</c>, <c>PCA</c> and <c>rmac</c> for the
/// Python peer (made a free function taking the levels; <c>np.int</c>, gone from numpy, replaced by <c>int</c>).
/// </summary>
static class PublishedRmac
{
    public const string Code = """
        import numpy as np
        import torch

        def get_rmac_region_coordinates(H, W, L):
            ovr = 0.4
            steps = np.array((2, 3, 4, 5, 6, 7), dtype=np.float32)
            w = np.minimum(H, W)
            b = (np.maximum(H, W) - w) / (steps - 1)
            idx = np.argmin(np.abs(((w**2 - w * b) / w**2) - ovr)) + 1
            Wd = 0
            Hd = 0
            if H < W:
                Wd = idx
            elif H > W:
                Hd = idx
            regions_xywh = []
            for l in range(1, L+1):
                wl = np.floor(2 * w / (l + 1))
                wl2 = np.floor(wl / 2 - 1)
                if l + Wd - 1 > 0:
                    b = (W - wl) / (l + Wd - 1)
                else:
                    b = 0
                cenW = np.floor(wl2 + b * np.arange(l - 1 + Wd + 1)) - wl2
                if l + Hd - 1 > 0:
                    b = (H - wl) / (l + Hd - 1)
                else:
                    b = 0
                cenH = np.floor(wl2 + b * np.arange(l - 1 + Hd + 1)) - wl2
                for i_ in cenH:
                    for j_ in cenW:
                        regions_xywh.append([j_, i_, wl, wl])
            for i in range(len(regions_xywh)):
                for j in range(4):
                    regions_xywh[i][j] = int(round(regions_xywh[i][j]))
                if regions_xywh[i][0] + regions_xywh[i][2] > W:
                    regions_xywh[i][0] -= ((regions_xywh[i][0] + regions_xywh[i][2]) - W)
                if regions_xywh[i][1] + regions_xywh[i][3] > H:
                    regions_xywh[i][1] -= ((regions_xywh[i][1] + regions_xywh[i][3]) - H)
            return np.array(regions_xywh)

        class PCA(object):
            def __init__(self, n_components):
                self.n_components = n_components
            def fit(self, X):
                mean = X.mean(axis=0)
                X -= mean
                self.mean = torch.from_numpy(mean).view(1, -1)
                Xcov = np.dot(X.T, X)
                d, V = np.linalg.eigh(Xcov)
                eps = d.max() * 1e-5
                d[d < eps] = eps
                idx = np.argsort(d)[::-1][:self.n_components]
                d = d[idx]
                V = V[:, idx]
                D = np.diag(1. / np.sqrt(d))
                self.DVt = torch.from_numpy(np.dot(D, V.T))
            def apply(self, X):
                X = X - self.mean
                return torch.mm(self.DVt, X.transpose(0, 1)).transpose(0, 1)

        def normalize_L2(a, dim):
            norms = torch.sqrt(torch.sum(a**2, dim=dim, keepdim=True))
            return a / norms

        def rmac(features, rmac_levels, pca=None):
            nim, nc, xd, yd = features.size()
            rmac_regions = get_rmac_region_coordinates(xd, yd, rmac_levels).astype(int)
            nr = len(rmac_regions)
            rmac_descriptors = []
            for x0, y0, w, h in rmac_regions:
                desc = features[:, :, y0:y0 + h, x0:x0 + w]
                desc = torch.max(desc, 2, keepdim=True)[0]
                desc = torch.max(desc, 3, keepdim=True)[0]
                rmac_descriptors.append(desc.view(-1, 1, nc))
            rmac_descriptors = torch.cat(rmac_descriptors, 1)
            rmac_descriptors = normalize_L2(rmac_descriptors, 2)
            if pca is None:
                return rmac_descriptors
            npca = pca.n_components
            rmac_descriptors = pca.apply(rmac_descriptors.view(nr * nim, nc))
            rmac_descriptors = normalize_L2(rmac_descriptors, 1)
            rmac_descriptors = rmac_descriptors.view(nim, nr, npca)
            rmac_descriptors = torch.sum(rmac_descriptors, 1)
            rmac_descriptors = normalize_L2(rmac_descriptors, 1)
            return rmac_descriptors

        """;
}
