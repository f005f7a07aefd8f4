"""Writes an ImageFolder of natural-ish 500x375 JPEGs (quality 90) for bench/loader/run.sh.

    /usr/bin/python3 make_images.py OUT_DIR IMAGES [CLASSES] [WxH]

WxH (default 500x375) sets the size, e.g. 1024x768 to see DCT-domain scaling apply.

Each image: a smooth colour gradient, a few filled ellipses and rectangles, blurred a little, plus
per-pixel noise and low-frequency texture, so the files are about as large as ImageNet's (~50-100 KB).
"""
import os
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

W, H, QUALITY = 500, 375, 90


def make(rng):
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    c0, c1 = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    angle = rng.uniform(0, 2 * np.pi)
    t = ((x * np.cos(angle) + y * np.sin(angle)) / (W + H) + 0.5)[..., None]
    img = c0 * (1 - t) + c1 * t
    im = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(im)
    for _ in range(rng.integers(4, 12)):
        x0, y0 = rng.integers(-50, W), rng.integers(-50, H)
        box = [int(x0), int(y0), int(x0 + rng.integers(20, 250)), int(y0 + rng.integers(20, 200))]
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=fill)
    im = im.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 2.0)))
    a = np.asarray(im).astype(np.float32)
    # Texture: low-frequency noise (upsampled) and fine grain.
    low = rng.normal(0, 18, (H // 8 + 1, W // 8 + 1, 3)).repeat(8, 0).repeat(8, 1)[:H, :W]
    a += np.asarray(Image.fromarray(np.clip(low + 128, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(3))).astype(np.float32) - 128
    a += rng.normal(0, 9, a.shape)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def main():
    out, n = sys.argv[1], int(sys.argv[2])
    classes = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    if len(sys.argv) > 4:
        global W, H
        W, H = (int(v) for v in sys.argv[4].split("x"))
    rng = np.random.default_rng(0)
    for i in range(n):
        d = os.path.join(out, f"class{i % classes:02d}")
        os.makedirs(d, exist_ok=True)
        make(rng).save(os.path.join(d, f"img{i:06d}.jpg"), quality=QUALITY)


if __name__ == "__main__":
    main()
