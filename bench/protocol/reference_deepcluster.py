"""The peer for bench/protocol: DeepCluster as the published main.py runs it (PyTorch + faiss, CPU), on the
protocol's workload (../shared/PROTOCOL.md): fmnist-10k, alexnet_small, Sobel, k-means on PCA-whitened features,
UnifLabelSampler, SGD. Prints one JSON line per epoch with the figures the protocol names.

Written for this benchmark from the published algorithm; run with Debian's /usr/bin/python3 (python3-torch,
python3-torchvision, python3-faiss, python3-sklearn)."""
import argparse, gzip, json, os, sys, time
import numpy as np
import faiss
import torch
import torch.nn as nn
import torch.utils.data as tud
import torchvision.transforms as T
from PIL import Image
from sklearn.metrics import normalized_mutual_info_score as nmi

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', 'tests', 'DeepCluster.Core.Tests', 'Python'))
from published_models import ARCHS  # noqa: E402


def read_idx(folder, limit):
    with gzip.open(os.path.join(folder, 'train-images-idx3-ubyte.gz')) as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)[:limit]
    with gzip.open(os.path.join(folder, 'train-labels-idx1-ubyte.gz')) as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)[:limit].astype(np.int64)
    return images, labels


class Images(tud.Dataset):
    """The protocol's ImageFolder of RGB PNGs, in memory: grey copied to 3 channels, as PIL images."""
    def __init__(self, images, transform, order=None, targets=None):
        self.images, self.transform, self.order, self.targets = images, transform, order, targets

    def __len__(self):
        return len(self.order) if self.order is not None else len(self.images)

    def __getitem__(self, i):
        idx = self.order[i] if self.order is not None else i
        img = Image.fromarray(self.images[idx]).convert('RGB')
        return self.transform(img), (self.targets[i] if self.targets is not None else 0)


def preprocess(x, pca=256):
    mat = faiss.PCAMatrix(x.shape[1], pca, eigen_power=-0.5)
    mat.train(x)
    y = mat.apply_py(x)
    return y / np.linalg.norm(y, axis=1, keepdims=True)


def kmeans(x, k, seed):
    d = x.shape[1]
    clus = faiss.Clustering(d, k)
    clus.seed = seed
    clus.niter = 20
    clus.max_points_per_centroid = 10000000
    index = faiss.IndexFlatL2(d)
    clus.train(x, index)
    _, I = index.search(x, 1)
    stats = clus.iteration_stats
    return I.ravel(), stats.at(stats.size() - 1).obj


def unif_sampler(n, lists, rng):
    non_empty = [l for l in lists if len(l)]
    size = int(n / len(non_empty)) + 1
    res = np.concatenate([rng.choice(l, size, replace=len(l) <= size) for l in non_empty])
    rng.shuffle(res)
    res = list(res.astype(int))
    return res[:n] if len(res) >= n else res + res[:n - len(res)]


def main():
    p = argparse.ArgumentParser()
    p.add_argument('data'); p.add_argument('--k', type=int, default=100); p.add_argument('--epochs', type=int, default=15)
    p.add_argument('--batch', type=int, default=256); p.add_argument('--lr', type=float, default=0.05)
    p.add_argument('--wd', type=float, default=-5); p.add_argument('--momentum', type=float, default=0.9)
    p.add_argument('--workers', type=int, default=2); p.add_argument('--limit', type=int, default=10000)
    p.add_argument('--seed', type=int, default=31); p.add_argument('--threads', type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads); faiss.omp_set_num_threads(a.threads)
    torch.manual_seed(a.seed); rng = np.random.RandomState(a.seed)

    images, labels = read_idx(a.data, a.limit)
    norm = T.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
    feat_loader = tud.DataLoader(Images(images, T.Compose([T.ToTensor(), norm])), batch_size=a.batch,
                                 num_workers=a.workers, persistent_workers=a.workers > 0)
    train_tf = T.Compose([T.RandomResizedCrop(28, scale=(0.2, 1.0)), T.RandomHorizontalFlip(), T.ToTensor(), norm])

    model = ARCHS['alexnet_small'](sobel=True, out=a.k)
    fd = model.top_layer.weight.size(1)
    model.top_layer = None
    optimizer = torch.optim.SGD(filter(lambda q: q.requires_grad, model.parameters()), lr=a.lr,
                                momentum=a.momentum, weight_decay=10 ** a.wd)
    crit = nn.CrossEntropyLoss()
    previous = None
    for epoch in range(a.epochs):
        t0 = time.time()
        model.top_layer = None
        model.eval()
        feats = []
        with torch.no_grad():
            for x, _ in feat_loader:
                feats.append(model.embed(x).numpy())
        x = np.concatenate(feats).astype('float32')
        t1 = time.time()
        assign, loss_km = kmeans(preprocess(x), a.k, int(rng.randint(1234)))
        lists = [np.where(assign == c)[0] for c in range(a.k)]
        t2 = time.time()
        order = unif_sampler(len(images), lists, rng)
        rank = {c: r for r, c in enumerate(c for c in range(a.k) if len(lists[c]))}
        targets = [rank[assign[i]] for i in order]
        loader = tud.DataLoader(Images(images, train_tf, order, targets), batch_size=a.batch, num_workers=a.workers)
        model.top_layer = nn.Linear(fd, len(rank))
        model.top_layer.weight.data.normal_(0, 0.01); model.top_layer.bias.data.zero_()
        opt_tl = torch.optim.SGD(model.top_layer.parameters(), lr=a.lr, weight_decay=10 ** a.wd)
        model.train()
        tot, cnt = 0.0, 0
        for xb, yb in loader:
            out = model(xb)
            loss = crit(out, yb)
            optimizer.zero_grad(); opt_tl.zero_grad(); loss.backward(); optimizer.step(); opt_tl.step()
            tot += loss.item() * len(yb); cnt += len(yb)
        t3 = time.time()
        print(json.dumps({
            'epoch': epoch, 'epoch_seconds': t3 - t0, 'features_seconds': t1 - t0, 'clustering_seconds': t2 - t1,
            'training_seconds': t3 - t2, 'train_images_per_second': cnt / (t3 - t2), 'clustering_loss': float(loss_km),
            'convnet_loss': tot / cnt, 'nmi_previous': None if previous is None else nmi(previous, assign),
            'nmi_labels': nmi(labels, assign)}), flush=True)
        previous = assign


if __name__ == '__main__':
    main()
