"""PyTorch peer of `dcbench … cuda bf16`: the DeepCluster AlexNet (BN, k = 10000 head) under
torch.autocast(bfloat16) with channels_last model and input, SGD with momentum, synthetic batches already
on the device; cudnn.benchmark off (as ours by default) and then on (how ../shared/gpu/README.md's
22 500 img/s was measured).
   python3 pytorch_alexnet_bf16.py [BATCH=256] [ITERS=20] [DEVICE=cuda] [SIZE=224]
(DEVICE cpu and a small SIZE, e.g. 96, check the script itself on a machine without a GPU.)"""
import sys, time, torch, torch.nn as nn

batch = int(sys.argv[1]) if len(sys.argv) > 1 else 256
iters = int(sys.argv[2]) if len(sys.argv) > 2 else 20
dev = sys.argv[3] if len(sys.argv) > 3 else 'cuda'
size = int(sys.argv[4]) if len(sys.argv) > 4 else 224
features = nn.Sequential(
    nn.Conv2d(3, 96, 11, stride=4, padding=2), nn.BatchNorm2d(96), nn.ReLU(True), nn.MaxPool2d(3, 2),
    nn.Conv2d(96, 256, 5, padding=2), nn.BatchNorm2d(256), nn.ReLU(True), nn.MaxPool2d(3, 2),
    nn.Conv2d(256, 384, 3, padding=1), nn.BatchNorm2d(384), nn.ReLU(True),
    nn.Conv2d(384, 384, 3, padding=1), nn.BatchNorm2d(384), nn.ReLU(True),
    nn.Conv2d(384, 256, 3, padding=1), nn.BatchNorm2d(256), nn.ReLU(True), nn.MaxPool2d(3, 2))
with torch.no_grad():
    flat = features(torch.zeros(1, 3, size, size)).numel()
classifier = nn.Sequential(nn.Dropout(0.5), nn.Linear(flat, 4096), nn.ReLU(True),
                           nn.Dropout(0.5), nn.Linear(4096, 4096), nn.ReLU(True), nn.Linear(4096, 10000))
model = nn.Sequential(features, nn.Flatten(), classifier).to(dev).to(memory_format=torch.channels_last)
opt = torch.optim.SGD(model.parameters(), 0.05, momentum=0.9, weight_decay=1e-5)
loss_fn = nn.CrossEntropyLoss()
x = torch.randn(batch, 3, size, size, device=dev).to(memory_format=torch.channels_last)
y = torch.randint(0, 10000, (batch,), device=dev)
device_type = 'cuda' if dev.startswith('cuda') else 'cpu'


def sync():
    if device_type == 'cuda':
        torch.cuda.synchronize()


def step():
    with torch.autocast(device_type, dtype=torch.bfloat16):
        out = model(x)
    loss = loss_fn(out.float(), y)
    opt.zero_grad(); loss.backward(); opt.step()


def infer():
    with torch.autocast(device_type, dtype=torch.bfloat16):
        model(x)


def timed(f):
    for _ in range(3):
        f()
    sync(); t = time.time()
    for _ in range(iters):
        f()
    sync()
    return batch * iters / (time.time() - t)


for bench in (False, True):
    torch.backends.cudnn.benchmark = bench
    tag = f"pytorch {torch.__version__} bf16 autocast + channels_last, cudnn.benchmark {'on' if bench else 'off'}"
    model.train()
    print(f"{tag}: train {timed(step):.0f} img/s")
    model.eval()
    with torch.no_grad():
        print(f"{tag}: infer {timed(infer):.0f} img/s")
