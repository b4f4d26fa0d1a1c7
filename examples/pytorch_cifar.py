"""ResNet-18 on CIFAR-10 trained by PyTorch workers with majority vote
(signvote.torch.VoteOptimizer), written as a torch script is: two parameter
groups (weight decay on the conv and linear weights only) and torch's
CosineAnnealingLR from lr 3e-3 (the C++ path's best schedule); with
--schedule constant --lr 1e-3 it runs the settings of
configs/cifar10_resnet18_w16_signum.yaml, so that the two can be compared:

    scripts/train_cifar_pytorch.sh DATA_DIR [WORKERS=7] [--steps 600 ...]

As the C++ workers (src/nn, src/data, src/worker):
  model  the CIFAR ResNet-18 of src/nn/builders.cpp (3x3 stride-1 stem, no
         max-pool; 1x1 conv + BN shortcuts; no conv biases), resnet18_params(W)
         parameters (src/core/resources.cpp), the same init distributions.
  data   train = the first 50000 - val_count records of data_batch_1..5.bin in
         file order, val = the last val_count (src/data/cifar10.cpp). Epoch
         permutations, worker shards (worker k: slots k, k+W, ... of one shared
         permutation) and crop / flip draws use the C++ loader's counter-based
         RNG (src/data/rng.h, loader.cpp, transform.cpp): for one seed and
         worker count, the same images in the same order, bit for bit.
  eval   the validation split in file order, batches of 500, eval mode, with
         the mean of all workers' BN running statistics (opt.average_, as
         src/worker/evaluation.cpp averages them).
Kernels and the init's random stream differ, so the runs agree in
distribution, not bit for bit.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# ---------------------------------------------------------------- data ----
RECORD_BYTES = 3073  # 1 label byte + 3072 pixel bytes (R, G, B planes of 32x32)
TRAIN_FILES, RECORDS_PER_FILE = 5, 10000  # data.train_files, data.records_per_file
EVAL_BATCH = 500  # src/worker/network.cpp kEvalBatch
# data::Normalize: per-channel mean / std of pixel/255 (float32 in C++).
MEAN = np.float32([0.4914, 0.4822, 0.4465])
STD = np.float32([0.2470, 0.2435, 0.2616])

M64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15  # util::kGolden
TAG_PERMUTATION, TAG_AUGMENT = 1, 2  # data::rng::kTag*


def mix64(x):
    """util::mix64, the SplitMix64 finaliser on uint64 (Python ints, masked)."""
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


def stream_key(seed, tag, a, b=0):
    """data::rng::stream_key(seed, tag, a, b)."""
    h = mix64((seed & M64) ^ 0x5167A3C0FFEE1234)
    h = mix64(h ^ tag)
    h = mix64((h + GOLDEN * (a + 1)) & M64)
    return mix64((h + 0xD1B54A32D192ED03 * (b + 1)) & M64)


class Stream:
    """data::rng::Stream: SplitMix64 from a key; below(n) by rejection."""
    def __init__(self, key):
        self.state = key

    def below(self, n):
        threshold = ((1 << 64) - n) % n  # 2^64 mod n
        while True:
            self.state = (self.state + GOLDEN) & M64
            r = mix64(self.state)
            if r >= threshold:
                return r % n


def load_cifar10(data_dir, val_count):
    """(train_x, train_y, val_x, val_y): images uint8 (N, 3, 32, 32) CHW as
    stored, labels int64 (N,). The last val_count records of data_batch_1..5
    (in file order) are the validation split, the rest the training split."""
    recs = []
    for k in range(1, TRAIN_FILES + 1):
        path = os.path.join(data_dir, f"data_batch_{k}.bin")
        raw = np.fromfile(path, dtype=np.uint8)
        if raw.size != RECORDS_PER_FILE * RECORD_BYTES:
            raise SystemExit(f"cifar10: {path} holds {raw.size} bytes, expected {RECORDS_PER_FILE} records")
        recs.append(raw.reshape(RECORDS_PER_FILE, RECORD_BYTES))
    recs = np.concatenate(recs)  # (50000, 3073)
    if recs[:, 0].max() > 9:
        raise SystemExit(f"cifar10: a label in {data_dir} is not 0..9")
    if not 0 < val_count < len(recs):
        raise SystemExit(f"cifar10: val_count {val_count} must be in 1..{len(recs) - 1}")
    cut = len(recs) - val_count  # first validation record
    x = recs[:, 1:].reshape(-1, 3, 32, 32)
    y = recs[:, 0].astype(np.int64)
    return x[:cut], y[:cut], x[cut:], y[cut:]


def shard_indices(n, k, workers, seed, epoch):
    """data::shard_indices: epoch's permutation P (Fisher-Yates, the same on
    every worker), worker k's slots k, k+W, ..., n // W of them (int64)."""
    perm = list(range(n))
    s = Stream(stream_key(seed, TAG_PERMUTATION, epoch))
    for i in range(n, 1, -1):
        j = s.below(i)
        perm[i - 1], perm[j] = perm[j], perm[i - 1]
    return np.asarray(perm[k::workers][: n // workers], dtype=np.int64)


def draw_augment(seed, epoch, index, pad=4):
    """data::draw_augment: (dx, dy, flip) of image `index` in `epoch`."""
    s = Stream(stream_key(seed, TAG_AUGMENT, epoch, index))
    dx, dy = s.below(2 * pad + 1), s.below(2 * pad + 1)
    return dx, dy, s.below(2) == 1


# PixelConverter's table, (3, 256) float32: float((v/255 - mean) / std) in double.
LUT = ((np.arange(256)[None, :] / 255.0 - MEAN[:, None].astype(np.float64))
       / STD[:, None].astype(np.float64)).astype(np.float32)


def to_float(images):
    """uint8 (B, 3, 32, 32) -> normalised float32 tensor (B, 3, 32, 32)."""
    return torch.from_numpy(LUT[np.arange(3)[None, :, None, None], images])


def augment(images, draws, pad=4):
    """Zero pad `pad` pixels (raw value 0, normalised after, as the C++
    PadMode::zero), crop 32x32 at (dy, dx), then flip: uint8 (B, 3, 32, 32)."""
    b = len(images)
    padded = np.zeros((b, 3, 32 + 2 * pad, 32 + 2 * pad), dtype=np.uint8)
    padded[:, :, pad:pad + 32, pad:pad + 32] = images
    dx, dy, flip = (np.asarray(v) for v in zip(*draws))
    ar = np.arange(32)
    rows = dy[:, None] + ar[None, :]                                  # (B, 32)
    cols = dx[:, None] + np.where(flip[:, None], 31 - ar[None, :], ar[None, :])
    return padded[np.arange(b)[:, None, None, None], np.arange(3)[None, :, None, None],
                  rows[:, None, :, None], cols[:, None, None, :]]


class ShardLoader:
    """data::Loader with augment = true, pad 4, drop_last: worker k of W
    walks shard_indices(N, k, W, seed, epoch) in batches; a final partial
    batch is skipped and the next epoch (a new permutation) starts."""
    def __init__(self, x, y, batch, k, workers, seed):
        self.x, self.y, self.batch, self.k, self.w, self.seed = x, y, batch, k, workers, seed
        self.epoch, self.pos = 0, 0
        self.order = shard_indices(len(y), k, workers, seed, 0)
        if len(self.order) < batch:
            raise SystemExit(f"shard {k}/{workers} has {len(self.order)} images, fewer than one batch of {batch}")

    def state(self):
        return {"epoch": self.epoch, "pos": self.pos, "workers": self.w}

    def restore(self, st):
        """Back to a saved position; saved by another worker count, the
        epoch goes on from about where the job stood (pos x W / W' images)."""
        self.epoch = st["epoch"]
        self.order = shard_indices(len(self.y), self.k, self.w, self.seed, self.epoch)
        self.pos = (st["pos"] * st["workers"] // self.w) // self.batch * self.batch

    def next(self):
        """(images float32 (B, 3, 32, 32), labels int64 (B,)), B = batch."""
        if self.pos + self.batch > len(self.order):
            self.epoch, self.pos = self.epoch + 1, 0
            self.order = shard_indices(len(self.y), self.k, self.w, self.seed, self.epoch)
        idx = self.order[self.pos:self.pos + self.batch]
        self.pos += self.batch
        draws = [draw_augment(self.seed, self.epoch, int(i)) for i in idx]
        return to_float(augment(self.x[idx], draws)), torch.from_numpy(self.y[idx])


# --------------------------------------------------------------- model ----
class BasicBlock(nn.Module):
    """conv3x3(stride)-BN-ReLU-conv3x3-BN + shortcut, ReLU; the shortcut is a
    1x1 conv (stride) + BN when the shape changes (src/nn/builders.cpp)."""
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)  # eps 1e-5, momentum 0.1 as the C++ BatchNorm2d
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, 0, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(h)) + self.shortcut(x))


class ResNet18(nn.Module):
    """(B, 3, 32, 32) -> logits (B, classes): stem conv3x3 3->W; stages of W,
    2W, 4W, 8W channels at 32, 16, 8, 4 pixels; average pool; linear 8W ->
    classes. Parameters in the C++ node order (conv1, bn1, layer1.0.conv1, ...)."""
    def __init__(self, width=16, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        layers, cin = [], width
        for stage in range(4):
            c = width << stage
            layers.append(nn.Sequential(BasicBlock(cin, c, 1 if stage == 0 else 2), BasicBlock(c, c, 1)))
            cin = c
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.linear = nn.Linear(cin, classes)
        # The C++ init (src/nn/conv2d.cpp, linear.cpp, batchnorm2d.cpp): conv
        # N(0, 2 / (out_channels * k * k)) (He, fan-out), linear N(0, 1 / in)
        # with bias 0, BN weight 1 and bias 0. Same distributions, torch's RNG.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, std=m.in_features ** -0.5)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.linear(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def resnet18_params(w, classes=10):
    """src/core/resources.cpp resnet18_params(w, classes)."""
    total, cin = 3 * w * 9 + 2 * w, w  # stem conv + BN
    for stage in range(4):
        c = w << stage
        total += cin * c * 9 + 2 * c + c * c * 9 + 2 * c  # block 1
        if stage > 0 or cin != c:
            total += cin * c + 2 * c  # 1x1 shortcut + BN
        total += 2 * (c * c * 9 + 2 * c)  # block 2
        cin = c
    return total + cin * classes + classes  # linear


@torch.no_grad()
def evaluate(model, x, y, device="cpu"):
    """(accuracy, mean cross-entropy) over the whole split, in file order."""
    model.eval()
    loss_sum, correct = 0.0, 0
    for i in range(0, len(y), EVAL_BATCH):
        xb = to_float(x[i:i + EVAL_BATCH]).to(device).contiguous(memory_format=torch.channels_last)
        yb = torch.from_numpy(y[i:i + EVAL_BATCH]).to(device)
        out = model(xb)
        loss_sum += F.cross_entropy(out, yb, reduction="sum").item()
        correct += (out.argmax(1) == yb).sum().item()
    model.train()
    return correct / len(y), loss_sum / len(y)


# ---------------------------------------------------------------- main ----
def parse_args(argv=None):
    # Defaults: configs/cifar10_resnet18_w16_signum.yaml (run.seed 1, batch 64,
    # Signum lr 1e-3, momentum 0.9, weight decay 1e-5, constant schedule).
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="directory of data_batch_1..5.bin")
    ap.add_argument("--width", type=int, default=16, help="ResNet-18 base width W")
    ap.add_argument("--batch", type=int, default=64, help="images per worker per step")
    ap.add_argument("--steps", type=int, default=600, help="vote rounds (run.steps)")
    ap.add_argument("--method", default="signum", choices=("signum", "signsgd", "lion"))
    ap.add_argument("--lr", type=float, default=3e-3, help="the peak lr (the C++ path's best: cosine from 3e-3)")
    ap.add_argument("--schedule", default="cosine", choices=("cosine", "constant"),
                    help="cosine: torch's CosineAnnealingLR over --steps")
    ap.add_argument("--momentum", type=float, default=0.9, help="signum's beta")
    ap.add_argument("--beta1", type=float, default=0.9, help="lion")
    ap.add_argument("--beta2", type=float, default=0.99, help="lion")
    ap.add_argument("--wd", type=float, default=1e-5,
                    help="weight decay of the conv and linear weights (x -= lr (vote + wd x)); none on BN and biases")
    ap.add_argument("--device", default="cpu", help="cpu, or cuda (cuda:<local rank % GPUs> per worker)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per worker")
    ap.add_argument("--seed", type=int, default=1, help="initial weights and data order (run.seed)")
    ap.add_argument("--val-count", type=int, default=5000, help="the last N training records are held out")
    ap.add_argument("--checkpoint-dir", default="",
                    help="save each worker's state here (signvote.checkpoints) and resume from the latest complete "
                         "step found there: what `signvote launch --mpmd` restarts")
    ap.add_argument("--checkpoint-every", type=int, default=50, help="steps between saves")
    ap.add_argument("--out", default="", help="also write the result JSON to this file")
    ap.add_argument("--overwrite", action="store_true", help="allow replacing --out")
    return ap.parse_args(argv)


def resume(args, opt, model, sched, loader):
    """--checkpoint-dir: the Checkpoints to save to, after loading the latest
    complete step there (weights, momentum, scheduler, data position)."""
    if not args.checkpoint_dir:
        return None
    from signvote.checkpoints import Checkpoints
    ck = Checkpoints(args.checkpoint_dir)
    r = ck.resume(opt, model)
    if r is not None:
        if sched is not None and r["extra"]["sched"] is not None:
            sched.load_state_dict(r["extra"]["sched"])
        loader.restore(r["extra"]["loader"])
        if opt.worker_index == 0:
            print(f"resumed step {r['step']} of {r['workers']} workers from {os.path.dirname(r['path'])} "
                  f"with {opt.workers}", file=sys.stderr, flush=True)
    return ck


def main(argv=None):
    args = parse_args(argv)
    # Checked on every worker before joining, so that all of them stop alike.
    if args.out and os.path.exists(args.out) and not args.overwrite:
        raise SystemExit(f"{args.out} exists: choose another --out or pass --overwrite")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)  # the same initial weights on every worker
    # The parameters become contiguous views of the optimizer's flat buffer;
    # the images go in as channels_last (NHWC), about 15% faster per step on
    # CPU at width 16, batch 64, 1 thread than NCHW.
    device = torch.device(args.device)
    if args.device == "cuda":  # one GPU per worker on its node (Open MPI names the node-local rank)
        local = int(os.environ.get("OMPI_COMM_WORLD_LOCAL_RANK", "0"))
        device = torch.device(f"cuda:{local % torch.cuda.device_count()}")
    model = ResNet18(args.width)
    n_params = sum(p.numel() for p in model.parameters())
    assert n_params == resnet18_params(args.width), (n_params, resnet18_params(args.width))
    train_x, train_y, val_x, val_y = load_cifar10(args.data, args.val_count)
    model = model.to(device)  # before the optimizer: it keeps the parameters where they are

    from signvote.torch import VoteOptimizer  # here: the data and model code import without it

    # Two parameter groups, as usual with torch: weight decay on the conv and
    # linear weights, none on BatchNorm's scales and shifts and on biases.
    weights = [p for p in model.parameters() if p.ndim > 1]
    others = [p for p in model.parameters() if p.ndim <= 1]
    opt = VoteOptimizer([{"params": weights, "weight_decay": args.wd}, {"params": others, "weight_decay": 0.0}],
                        method=args.method, lr=args.lr, momentum=args.momentum, betas=(args.beta1, args.beta2),
                        steps=args.steps, settings={"run.seed": args.seed, "data.batch_size": args.batch})  # for the logs
    # torch's own scheduler sets each group's lr; every step() sends it along
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.steps) if args.schedule == "cosine" else None
    k = opt.worker_index
    loader = ShardLoader(train_x, train_y, args.batch, k, opt.workers, args.seed)
    if k == 0:
        print(f"{opt.workers} workers, width {args.width}, {n_params} parameters, {len(train_y)} training "
              f"({len(loader.order)} a worker) and {len(val_y)} validation images", file=sys.stderr, flush=True)
    ck = resume(args, opt, model, sched, loader)
    start, step = time.perf_counter(), opt.steps_done
    while True:
        x, y = loader.next()
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        opt.zero_grad()
        loss = F.cross_entropy(model(x.contiguous(memory_format=torch.channels_last)), y)
        loss.backward()
        opt.step(loss=loss)
        if sched is not None:
            sched.step()
        step += 1
        if ck is not None and opt.steps_done % args.checkpoint_every == 0:
            ck.save(opt, model, extra={"sched": sched.state_dict() if sched else None, "loader": loader.state()})
        if k == 0 and step % 50 == 0:
            print(f"step {step} loss {loss.item():.4f} elapsed {time.perf_counter() - start:.1f}s",
                  file=sys.stderr, flush=True)
        if opt.stop_requested:
            break
    seconds = time.perf_counter() - start  # training wall time, evaluation excluded
    opt.average_(model.buffers())  # BN running statistics: the workers' mean (a collective among them)
    opt.close()  # every worker leaves; the server ends
    if k != 0:
        return
    acc, val_loss = evaluate(model, val_x, val_y, device)
    result = {"steps": step, "val_accuracy": acc, "val_loss": val_loss, "seconds": round(seconds, 3),
              "method": args.method, "lr": args.lr, "schedule": args.schedule, "width": args.width, "seed": args.seed}
    if args.out:
        with open(args.out, "w" if args.overwrite else "x") as f:
            f.write(json.dumps(result) + "\n")
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
