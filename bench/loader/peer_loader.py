"""The peer of `dcbench loader`: main.py's training transforms with torchvision's ImageFolder and torch's DataLoader.

    /usr/bin/python3 peer_loader.py DIR THREADS [BATCH]

RandomResizedCrop(224) (scale 0.08-1, ratio 3/4-4/3), RandomHorizontalFlip, ToTensor, Normalize(ImageNet mean/std),
batches of BATCH (256). THREADS = 1 runs in the main process (num_workers=0: one core, no IPC); THREADS > 1 uses
num_workers = THREADS. torch.set_num_threads(1). A warm-up batch over the first BATCH images runs first (imports,
page cache); the timed pass is one epoch over the folder, sequential order. Prints `peer THREADS N img/s`, then
a one-thread breakdown of one image's time over the first 256 files (as `dcbench loader` does).
"""
import resource
import sys
import time

from PIL import Image

import torch
import torchvision.datasets as datasets
import torchvision.transforms as transforms


def main():
    root, threads = sys.argv[1], int(sys.argv[2])
    batch = int(sys.argv[3]) if len(sys.argv) > 3 else 256
    torch.set_num_threads(1)
    normalize = transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])   # as main.py
    tra = transforms.Compose([transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip(),
                              transforms.ToTensor(), normalize])
    assert tra.transforms[0].scale == (0.08, 1.0) and abs(tra.transforms[0].ratio[0] - 3 / 4) < 1e-12
    dataset = datasets.ImageFolder(root, transform=tra)
    workers = 0 if threads == 1 else threads

    def loader(ds):
        return torch.utils.data.DataLoader(ds, batch_size=batch, shuffle=False, num_workers=workers)

    torch.manual_seed(1)
    warm = torch.utils.data.Subset(dataset, range(min(batch, len(dataset))))
    for x, _ in loader(warm):
        means = " ".join(f"{v:.3f}" for v in x.mean(dim=(0, 2, 3)).tolist())
        n_warm = len(x)

    def cpu():   # this process and its reaped DataLoader workers, user + system
        own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    torch.manual_seed(2)
    cpu0 = cpu()
    start = time.perf_counter()
    n = 0
    for x, _ in loader(dataset):
        assert x.shape[1:] == (3, 224, 224) and x.dtype == torch.float32, x.shape
        n += len(x)
    seconds = time.perf_counter() - start
    cpu_seconds = cpu() - cpu0       # the workers have exited (and been reaped) when the epoch's iterator ends
    print(f"peer {threads} {n / seconds:.1f} img/s ({n} images in {seconds:.2f} s, batch {batch}, num_workers {workers}, "
          f"{n_warm} warm-up images, their channel means {means})")
    print(f"cpu {n / cpu_seconds:.1f} img per CPU-second ({cpu_seconds:.2f} CPU-s, main process and workers)")
    breakdown(dataset, tra)


def breakdown(dataset, tra):
    """One thread, sample by sample: read file, open+decode (PIL), crop+resize+flip, ToTensor, Normalize (ms/image)."""
    rrc, flip, to_tensor, normalize = tra.transforms
    paths = [p for p, _ in dataset.samples[:256]]
    acc = [0.0] * 5
    for path in paths:
        t0 = time.perf_counter()
        with open(path, "rb") as f:
            f.read()
        t1 = time.perf_counter()
        with open(path, "rb") as f:
            image = Image.open(f).convert("RGB")          # torchvision's pil_loader
        t2 = time.perf_counter()
        crop = flip(rrc(image))
        t3 = time.perf_counter()
        x = to_tensor(crop)
        t4 = time.perf_counter()
        normalize(x)
        t5 = time.perf_counter()
        for i, d in enumerate((t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
            acc[i] += d
    ms = [1000 * a / len(paths) for a in acc]
    print(f"breakdown (1 thread, ms/image over {len(paths)}): read {ms[0]:.3f}, decode {ms[1]:.3f}, "
          f"crop+resize+flip {ms[2]:.3f}, tensor+normalize {ms[3] + ms[4]:.3f} (ToTensor {ms[3]:.3f}); total {sum(ms):.3f}")


if __name__ == "__main__":
    main()
