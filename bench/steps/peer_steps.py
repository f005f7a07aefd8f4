"""PyTorch peer of bench/DeepCluster.Bench: alexnet_small (Sobel) inference and SGD step, batch 256, 2 threads.
   peer_steps.py THREADS BATCHES [channels_last|contiguous] [bf16]   (bf16: forward under torch.autocast('cpu', bfloat16))"""
import contextlib, os, sys, time, torch
sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', 'tests', 'DeepCluster.Core.Tests', 'Python'))
from published_models import ARCHS  # noqa: E402

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
batches = int(sys.argv[2]) if len(sys.argv) > 2 else 20
channels_last = len(sys.argv) > 3 and sys.argv[3] == 'channels_last'
bf16 = len(sys.argv) > 4 and sys.argv[4] == 'bf16'
suffix = '_bf16' if bf16 else ''


def cast():
    return torch.autocast('cpu', dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
torch.set_num_threads(threads)
torch.manual_seed(0)
m = ARCHS['alexnet_small'](sobel=True, out=100)
x = torch.randn(256, 3, 28, 28); y = torch.randint(0, 100, (256,))
if channels_last:
    m = m.to(memory_format=torch.channels_last); x = x.to(memory_format=torch.channels_last)


def timed(step):
    for _ in range(5):
        step()
    t = time.time()
    for _ in range(batches):
        step()
    return 256 * batches / (time.time() - t)


m.eval()
with torch.inference_mode(), cast():
    print(f'inference{suffix} {timed(lambda: m.embed(x)):.0f} img/s')
m.train()
opt = torch.optim.SGD([p for p in m.parameters() if p.requires_grad], lr=0.05, momentum=0.9, weight_decay=1e-5)
crit = torch.nn.CrossEntropyLoss()


def step():
    with cast():
        out = m(x)
    loss = crit(out.float(), y)
    opt.zero_grad(); loss.backward(); opt.step()


print(f'train{suffix} {timed(step):.0f} img/s')
