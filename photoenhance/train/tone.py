"""Train the global tone and colour model (``models/tone-v1``) on synthetic faults.

Data: the project's own good photos (the Debian wallpaper photos fetched by
``python -m photoenhance.train data``; ``data/manifest.json``), downscaled to
:data:`PHOTO_SIDE` px on the long side. Each sample is a random crop of one photo, resized
to the net's thumbnail, with a random fault synthesised on it (:func:`synth_faults`); the
target is the photo itself. A share of samples carries no fault at all (identity pairs):
a good photo must come back unchanged. Night, sunset and low-key photos of the set are
therefore also shown as targets of themselves, which teaches the model to leave such
photos alone unless the evidence of a fault is strong.

A faulty sample gets one fault (60 %), two (30 %) or three (10 %), drawn by the weights
of :data:`FAULTS` (exposure most often, then white balance, flat contrast, ...). Faults,
applied in linear light where the physics is there (light adds, sensors clip):
exposure -3..+1.5 EV with clipping at white; white balance (temperature and tint, as
per-channel gains); haze (``L (1 - a) + a A``, a light, slightly coloured airlight);
then in the encoded (sRGB) domain: gamma 0.6..1.6, flattened contrast (lifted blacks,
lowered whites), over-steep S-curves, saturation 0.4..1.6; finally 8-bit quantisation.

Loss: L1 between the model's edit of the faulty crop and the clean crop, plus a small
penalty on the distance of the edit from the identity (so, when a photo is ambiguous, the
cheapest answer is to do little), plus a direct L1 on the white balance: the predicted
temperature and tint against the ones that undo the synthetic cast (:func:`wb_loss`).

Run: ``nice -n 10 python -m photoenhance.train.tone --minutes 30``; checkpoints go to
``checkpoints/tone/``; ``--export`` writes ``models/tone-v1.pt`` and its card.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from photoenhance.core.ml.nets.tone import (
    LIFT_GAMMA_MIN,
    LIFT_RAMP,
    LIFT_TARGET,
    LUMA,
    N_PARAMS,
    STATS_SIDE,
    THUMB,
    ToneNet,
    ToneParams,
    build_tone,
    linear_to_srgb,
    make_thumb,
    render,
    srgb_to_linear,
)
from photoenhance.core.ml.registry import write_card
from photoenhance.train import REPO

PHOTO_SIDE = 384
P_IDENTITY = 0.3
#: relative weight of each fault; a faulty sample gets 1, 2 or 3 distinct faults
#: (probabilities N_FAULTS), drawn by these weights
FAULTS = {"exposure": 0.3, "white_balance": 0.22, "haze": 0.1, "gamma": 0.1,
          "flat": 0.14, "steep": 0.06, "saturation": 0.08, "low_light": 0.12}
N_FAULTS = (0.6, 0.3, 0.1)
RANGES = {"exposure_ev": (-3.0, 1.5), "temperature_log2": (-0.8, 0.8), "tint_log2": (-0.3, 0.3),
          "haze_a": (0.1, 0.45), "gamma": (0.6, 1.6), "flat_black": (0.03, 0.2),
          "flat_white": (0.8, 0.97), "steep_k": (1.3, 2.5), "saturation": (0.4, 1.6),
          "low_light_ev": (-4.0, -1.5), "lights_share": (0.003, 0.02)}
REG = 1e-5
#: half-ranges of the good-look jitter (:func:`jitter_look`, from v1.1): +-EV, +-log2
#: temperature and tint, gamma and saturation factors in [1/f, f]
LOOK = {"exposure_ev": 0.1, "temperature_log2": 0.15, "tint_log2": 0.06, "gamma": 1.12,
        "saturation": 1.15}
#: weight of :func:`wb_loss` beside the pixel L1 (about 0.03 on faulty samples): a cast
#: of 0.5 log2 costs as much as a 0.02 mean pixel error
WB_WEIGHT = 0.04
#: weight of the penalty on the anchored net's own outputs (its departure from the anchor,
#: squared, in decoded units; :func:`residual_loss`)
RESIDUAL_WEIGHT = 0.05
#: the anchored net's architecture (v2)
CONFIG: dict[str, Any] = {"widths": [16, 32, 64, 128], "hidden": 128, "anchored": True}
#: target normalisation (v2, :func:`normalise`): lowest sRGB white point of a target, the
#: typical colour (log2 R/B and G over the R-B mean of the linear channel means: the
#: training photos' medians), how far a photo's colour moves towards it, and the colour
#: distance beyond which a photo never gets a white-balance fault
WHITE_FLOOR = 0.97
TYPICAL_RB, TYPICAL_G = 0.45, 0.07
COLOUR_KEEP = 0.7
COLOUR_FAR = (0.9, 0.5)


def load_photos(root: Path, split: str) -> list[torch.Tensor]:
    """Each photo of ``split`` as a (3, H, W) float tensor, long side PHOTO_SIDE (cached)."""
    cache = root / f"tone_photos_{split}_{PHOTO_SIDE}.npz"
    if not cache.exists():
        manifest = json.loads((root / "manifest.json").read_text())
        arrays = {}
        for i, e in enumerate(manifest["images"]):
            if e["split"] != split:
                continue
            with Image.open(root / "unpacked" / e["package"] / e["path"]) as im:
                im = im.convert("RGB")
                im.thumbnail((PHOTO_SIDE, PHOTO_SIDE), Image.Resampling.LANCZOS,
                             reducing_gap=2.0)
                arrays[f"p{i}"] = np.asarray(im)
        np.savez(cache, **arrays)
    with np.load(cache) as z:
        return [torch.from_numpy(z[k]).permute(2, 0, 1).float() / 255 for k in z.files]


def _colour(x: torch.Tensor) -> tuple[float, float]:
    """log2 R/B and log2 G over sqrt(R B) of the linear channel means of ``x`` (3, H, W)."""
    m = srgb_to_linear(x).flatten(1).mean(1).clamp_min(1e-4)
    return float(torch.log2(m[0] / m[2])), float(torch.log2(m[1] / (m[0] * m[2]).sqrt()))


def normalise(x: torch.Tensor) -> tuple[torch.Tensor, bool]:
    """A training photo (3, H, W) made into a target, and whether it may carry a
    white-balance fault.

    The bench's and most users' photos have their brightest pixels near white; a quarter
    of the wallpapers do not (night and low-key photos), which taught v1 to leave dark
    photos dark. Photos whose white point is below WHITE_FLOOR are brightened to it in
    linear light (at most 2 EV). Their colour balance spreads about three times more than
    a synthetic cast (log2 R/B from -0.5 to 2.7, 10-90 %), so a cast could not be told
    from the scene: colours within COLOUR_FAR of the typical one move COLOUR_KEEP of the
    way towards it, and only those photos get casts; photos further away (sunsets,
    tungsten-lit scenes) are left as they are and never get a cast, so they teach the net
    to leave such colours alone."""
    white = float(torch.quantile(x.amax(0).flatten(), 0.998))
    lin = srgb_to_linear(x)
    if white < WHITE_FLOOR:
        gain = float(srgb_to_linear(torch.tensor(WHITE_FLOOR)) / srgb_to_linear(
            torch.tensor(white)).clamp_min(0.25))
        lin = lin * gain
    rb, gg = _colour(x)
    dev_rb, dev_g = rb - TYPICAL_RB, gg - TYPICAL_G
    near = abs(dev_rb) <= COLOUR_FAR[0] and abs(dev_g) <= COLOUR_FAR[1]
    if near:
        t, m = -(1 - COLOUR_KEEP) * dev_rb, -(1 - COLOUR_KEEP) * dev_g
        gains = torch.exp2(torch.tensor([t / 2 - m / 3, 2 * m / 3, -t / 2 - m / 3]))
        lin = lin * gains.reshape(3, 1, 1) / float(gains.max())
    y = linear_to_srgb(lin.clamp(0, 1))
    return (y * 255).round() / 255, near


def random_crops(photos: list[torch.Tensor], n: int, g: torch.Generator,
                 side: int = STATS_SIDE) -> tuple[torch.Tensor, list[int]]:
    """``n`` random crops (50-100 % of the side, any aspect from 3:4 to 4:3), flipped at
    random, resized to ``side`` x ``side``; and the index of each one's photo."""
    out, idx = [], []
    for _ in range(n):
        i = int(torch.randint(len(photos), (1,), generator=g))
        p = photos[i]
        idx.append(i)
        _, h, w = p.shape
        f = 0.5 + 0.5 * float(torch.rand(1, generator=g))
        ch, cw = max(32, int(h * f)), max(32, int(w * f))
        y0 = int(torch.randint(h - ch + 1, (1,), generator=g))
        x0 = int(torch.randint(w - cw + 1, (1,), generator=g))
        crop = p[:, y0 : y0 + ch, x0 : x0 + cw][None]
        if float(torch.rand(1, generator=g)) < 0.5:
            crop = crop.flip(-1)
        out.append(make_thumb(crop, side))
    return torch.cat(out), idx


def _u(g: torch.Generator, lo: float, hi: float) -> float:
    return lo + (hi - lo) * float(torch.rand(1, generator=g))


def _luma(x: torch.Tensor) -> torch.Tensor:
    w = torch.tensor(LUMA).reshape(3, 1, 1)
    return (x * w).sum(0, keepdim=True)


def synth_one(x: torch.Tensor, g: torch.Generator, faults: dict[str, float] | None = None,
              p_identity: float = P_IDENTITY, info: dict[str, float] | None = None
              ) -> tuple[torch.Tensor, list[str]]:
    """One faulty version of ``x`` (3, H, W) sRGB; returns it and the fault names.
    ``faults``: the weights to draw from (default :data:`FAULTS`). ``info``, when given,
    receives the white-balance fault drawn (``temp`` and ``tint``, log2; 0 when none)."""
    faults = faults or FAULTS
    if info is not None:
        info.update(temp=0.0, tint=0.0)
    if float(torch.rand(1, generator=g)) < p_identity:
        return x.clone(), []
    n = 1 + int(torch.multinomial(torch.tensor(N_FAULTS), 1, generator=g))
    picked = torch.multinomial(torch.tensor(list(faults.values())), min(n, len(faults)),
                               generator=g)
    names = [list(faults)[int(i)] for i in picked]
    if "flat" in names and "steep" in names:
        names.remove("steep")
    if "low_light" in names and "exposure" in names:
        names.remove("exposure")
    r = RANGES
    lin = srgb_to_linear(x)
    if "low_light" in names:  # a dim scene whose light sources stay bright (LIME-like)
        bright = lin.amax(0, keepdim=True)
        lights = (bright >= torch.quantile(bright.flatten(), 1 - _u(g, *r["lights_share"])))
        scale = 2 ** _u(g, *r["low_light_ev"])
        lin = lin * (scale + (1 - scale) * lights.float())
    if "haze" in names:
        a = _u(g, *r["haze_a"])
        air = _u(g, 0.7, 1.0) * torch.tensor([_u(g, 0.9, 1.0), _u(g, 0.95, 1.0), 1.0])
        lin = lin * (1 - a) + a * air.reshape(3, 1, 1)
    gains = torch.ones(3)
    if "white_balance" in names:
        t, m = _u(g, *r["temperature_log2"]), _u(g, *r["tint_log2"])
        if info is not None:
            info.update(temp=t, tint=m)
        gains = torch.exp2(torch.tensor([t / 2 + m / 3, -2 * m / 3, -t / 2 + m / 3]))
    if "exposure" in names:
        gains = gains * 2 ** _u(g, *r["exposure_ev"])
    y = linear_to_srgb((lin * gains.reshape(3, 1, 1)).clamp(0, 1))
    if "gamma" in names:
        y = y.clamp_min(0) ** _u(g, *r["gamma"])
    if "flat" in names:
        lo, hi = _u(g, *r["flat_black"]), _u(g, *r["flat_white"])
        y = lo + (hi - lo) * y
    if "steep" in names:
        k = _u(g, *r["steep_k"])
        s0, s1 = math.tanh(-k / 2), math.tanh(k / 2)
        y = (torch.tanh(k * (y - 0.5)) - s0) / (s1 - s0)
    if "saturation" in names:
        lum = _luma(y)
        y = lum + _u(g, *r["saturation"]) * (y - lum)
    return (y.clamp(0, 1) * 255).round() / 255, names


def jitter_look(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """A mildly different but still good look of ``x`` (3, H, W) sRGB: exposure, white
    balance, gamma and saturation moved within :data:`LOOK` (linear light for the gains).
    Used as the *target* (and the identity input), so "good" is a neighbourhood of looks,
    not the 51 training photos' own style: v1, trained on the photos as they are, edited
    clean Kodak and LIVE1 photos by as much as it corrected faults (mean change ~20
    levels on both), pulling every photo towards the wallpapers' look."""
    r = LOOK
    t, m = _u(g, -r["temperature_log2"], r["temperature_log2"]), _u(g, -r["tint_log2"],
                                                                      r["tint_log2"])
    ev = _u(g, -r["exposure_ev"], r["exposure_ev"])
    gains = torch.exp2(torch.tensor([ev + t / 2 + m / 3, ev - 2 * m / 3, ev - t / 2 + m / 3]))
    y = linear_to_srgb((srgb_to_linear(x) * gains.reshape(3, 1, 1)).clamp(0, 1))
    y = y.clamp_min(0) ** _u(g, 1 / r["gamma"], r["gamma"])
    lum = _luma(y)
    y = lum + _u(g, 1 / r["saturation"], r["saturation"]) * (y - lum)
    return (y.clamp(0, 1) * 255).round() / 255


def synth_faults(x: torch.Tensor, g: torch.Generator, casts: list[bool] | None = None
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """Faulty versions of the batch ``x`` and the white balance that undoes each one:
    (B, 2) target temperature and tint (the negated fault; zeros for other samples).
    ``casts``: per sample, whether a white-balance fault may be drawn (default: all)."""
    no_cast = {k: v for k, v in FAULTS.items() if k != "white_balance"}
    out, wb = [], []
    for i, xi in enumerate(x):
        info: dict[str, float] = {}
        faults = FAULTS if casts is None or casts[i] else no_cast
        out.append(synth_one(xi, g, faults, info=info)[0])
        wb.append((-info["temp"], -info["tint"]))
    return torch.stack(out), torch.tensor(wb)


def wb_loss(p: ToneParams, target: torch.Tensor) -> torch.Tensor:
    """L1 between the predicted temperature and tint and the ones that undo the synthetic
    cast (zero when the sample has none). The pixel loss alone left the colour outputs
    near zero (v1 corrected no cast on the bench); a white balance is one number pair per
    photo that the synthesis knows exactly, so it is supervised directly."""
    return ((p.temp - target[:, 0]).abs() + (p.tint - target[:, 1]).abs()).mean()


def residual_loss(net: ToneNet, y: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Mean squared departure of the raw outputs ``z`` for ``y`` from the rule-based anchor,
    in decoded units. Without it, 900 steps on the wallpapers moved the anchored net away
    from the anchor everywhere (bench: mean gain +11.6 -> +4.8 dB, Kodak identity 76 ->
    33 dB): it should depart only where that pays on many photos."""
    if not net.anchored:
        return z.new_zeros(())
    from photoenhance.core.ml.nets.tone import Z_SCALE, anchor

    with torch.no_grad():
        base = anchor(y)
    return (((z - base) * Z_SCALE) ** 2).sum(1).mean()


def reg_loss(p: ToneParams) -> torch.Tensor:
    k = p.curve.shape[1]
    return (p.ev**2 + p.temp**2 + p.tint**2 + (p.offset**2).sum(1) + p.sat**2
            + k * ((p.curve * k - 1) ** 2).sum(1) / k).mean()


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """PSNR in dB, capped at 50 (an unchanged identity pair would otherwise count 100)."""
    mse = float(((a - b) ** 2).mean())
    return 10 * math.log10(1 / max(mse, 1e-5))


def evaluate(net: ToneNet, val: torch.Tensor, faulty: torch.Tensor) -> tuple[float, float]:
    """Mean PSNR (dB) of the faulty and the corrected validation thumbnails."""
    with torch.no_grad():
        p = ToneParams.decode(net(faulty))
        small, target = make_thumb(faulty), make_thumb(val)
        out = render(small, p)
    before = np.mean([psnr(f, v) for f, v in zip(small, target, strict=True)])
    after = np.mean([psnr(o, v) for o, v in zip(out, target, strict=True)])
    return float(before), float(after)


def _start(args: argparse.Namespace) -> ToneNet:
    """The anchored net, its convolutions and first head layer taken from ``--init`` (v1's
    weights) where given; the last layer stays zero, so training starts at the anchor."""
    net = build_tone(CONFIG)
    if args.init:
        old = torch.load(args.init, weights_only=True)
        own = net.state_dict()
        for k, v in old.items():
            if k.startswith("features.") and own[k].shape == v.shape:
                own[k] = v
        w = old["head.0.weight"]
        own["head.0.weight"][:, : w.shape[1]] = w
        own["head.0.bias"] = old["head.0.bias"]
        net.load_state_dict(own)
    return net


def _save(state: dict[str, Any], path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def train(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    root = REPO / "data"
    normed = [normalise(p) for p in load_photos(root, "train")]
    photos, casts = [p for p, _ in normed], [c for _, c in normed]
    val_photos = [normalise(p)[0] for p in load_photos(root, "val")]
    ck = Path(args.out)
    ck.mkdir(parents=True, exist_ok=True)
    keep = Path(args.keep) if args.keep else None
    if keep:
        keep.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(args.seed)
    gv = torch.Generator().manual_seed(123)
    val = random_crops(val_photos, 96, gv)[0]
    val_faulty, _ = synth_faults(val, gv)
    net = _start(args)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
    step, start, best = 0, time.monotonic(), -1.0
    if args.resume and (ck / "last.pt").exists():
        state = torch.load(ck / "last.pt", weights_only=True)
        net.load_state_dict(state["net"])
        opt.load_state_dict(state["opt"])
        step = int(state["step"])  # the best is judged afresh: the sampling may have changed
    budget = args.minutes * 60
    log = (ck / "log.txt").open("a")
    while time.monotonic() - start < budget:
        frac = (time.monotonic() - start) / budget
        for group in opt.param_groups:
            group["lr"] = args.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * frac)))
        x, idx = random_crops(photos, args.batch, g)
        if args.jitter:
            x = torch.stack([jitter_look(xi, g) for xi in x])
        y, wb = synth_faults(x, g, [casts[i] for i in idx])
        z = net(y)
        p = ToneParams.decode(z)
        loss = ((render(make_thumb(y), p) - make_thumb(x)).abs().mean()
                + REG * reg_loss(p) + args.wb_weight * wb_loss(p, wb)
                + args.residual_weight * residual_loss(net, y, z))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        step += 1
        if step % args.every == 0:
            before, after = evaluate(net, val, val_faulty)
            line = (f"step {step} min {(time.monotonic() - start) / 60:.1f} loss "
                    f"{float(loss.detach()):.4f} val {before:.2f} -> {after:.2f} dB")
            print(line, flush=True)
            log.write(line + "\n")
            log.flush()
            _save({"net": net.state_dict(), "opt": opt.state_dict(), "step": step}, ck / "last.pt")
            torch.save(net.state_dict(), ck / f"step{step}.pt")
            if after > best:
                best = after
                _save(net.state_dict(), ck / "best.pt")
                if keep:
                    _save(net.state_dict(), keep / "best.pt")
            if keep:
                _save(net.state_dict(), keep / "last.pt")
    (ck / "train.json").write_text(json.dumps(
        {"steps": step, "minutes": round((time.monotonic() - start) / 60, 1),
         "batch": args.batch, "lr": args.lr, "best_val_psnr": round(best, 2)}))


def export(args: argparse.Namespace) -> None:
    """Write ``models/tone-v1.pt`` (float32 state_dict) and its card from the chosen
    checkpoint; the card's metrics come from ``--metrics`` (bench/tone.py --json)."""
    ck = Path(args.out)
    net = build_tone(CONFIG)
    state = torch.load(ck / f"{args.pick}.pt", weights_only=True)
    net.load_state_dict(state.get("net", state))
    weights = REPO / "models" / "tone-v1.pt"
    torch.save(net.state_dict(), weights)
    info: dict[str, Any] = json.loads((ck / "train.json").read_text())
    metrics = json.loads(Path(args.metrics).read_text()) if args.metrics else {}
    card = {
        "name": "tone-v1", "model_id": "photoenhance-tone", "version": args.version,
        "task": "global exposure, contrast and colour correction, predicted from a "
                "thumbnail and applied at full resolution as per-channel curves, a "
                "saturation mix and a tone curve",
        "architecture": {"class": "ToneNet", "config": dict(CONFIG),
                         "params": sum(p.numel() for p in net.parameters()),
                         "contract": f"(N,3,{STATS_SIDE},{STATS_SIDE}) sRGB [0,1] downscale "
                                     f"(statistics and anchor; the convolutions read its "
                                     f"{THUMB} px thumbnail) -> {N_PARAMS} raw edit parameters, "
                                     "anchor included (photoenhance.core.ml.nets.tone)"},
        "training": {**info, "optimizer": "AdamW wd 1e-4", "schedule": "cosine over the "
                     "time budget", "loss": f"L1 in sRGB on {THUMB} px thumbnails + {REG} x "
                     f"distance from identity + {args.wb_weight} x L1 on temperature and tint + "
                     f"{args.residual_weight} x squared distance from the anchor",
                     "data": "Debian wallpaper photos (data/manifest.json, train split), "
                             f"long side {PHOTO_SIDE} px, random 50-100 % crops resized to "
                             f"{STATS_SIDE} px",
                     "target_normalisation": {"white_floor": WHITE_FLOOR,
                                              "typical_log2_rb_g": [TYPICAL_RB, TYPICAL_G],
                                              "colour_keep": COLOUR_KEEP,
                                              "no_cast_beyond": list(COLOUR_FAR)},
                     "identity_share": P_IDENTITY,
                     "target_look_jitter": LOOK if args.jitter else None, "fault_weights": FAULTS,
                     "faults_per_sample_1_2_3": N_FAULTS,
                     "fault_ranges": RANGES},
        "anchor": {"exposure": "white point (99.8th percentile of the brightest channel) "
                              "to white in linear light, none within 1 % of white",
                   "levels": "black and white point in sRGB where the blacks are lifted "
                             "(0.2th percentile of the darkest channel 0.03-0.07)",
                   "shadow_lift": {"mean_luma_ramp": list(LIFT_RAMP),
                                   "target_mean_luma": LIFT_TARGET,
                                   "power_min": LIFT_GAMMA_MIN,
                                   "form": "power curve on all but the top of 16 pieces"}},
        "metrics": metrics,
    }
    if args.history:
        card["training"]["history"] = args.history
    write_card(weights, card)
    print(f"wrote {weights}")


def calibrate(args: argparse.Namespace) -> None:
    """Print how much the best checkpoint edits the clean training photos and single-fault
    versions of them (mean change, 8-bit levels): the evidence for the runtime dead zone
    (``photoenhance.core.ml.tone.DEAD_ZONE``). Uses training photos only."""
    from photoenhance.core.ml.tone import ToneModel, edit_size, sample_codes

    torch.set_num_threads(args.threads)
    net = build_tone(CONFIG)
    state = torch.load(Path(args.out) / f"{args.pick}.pt", weights_only=True)
    net.load_state_dict(state.get("net", state))
    model = ToneModel.from_net(net)
    g = torch.Generator().manual_seed(7)
    sizes: dict[str, list[float]] = {}
    for photo in load_photos(REPO / "data", "train"):
        for fault in ("clean", "exposure", "white_balance", "flat"):
            x = photo if fault == "clean" else synth_one(photo, g, {fault: 1.0}, 0.0)[0]
            rgb = (x.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
            p, _ = model.predict(rgb)
            sizes.setdefault(fault, []).append(edit_size(sample_codes(rgb), p, rgb.dtype))
    for k, v in sizes.items():
        q = np.percentile(v, [10, 25, 50, 75, 90])
        print(f"{k:>14}: mean change percentiles 10/25/50/75/90 = {np.round(q, 1)}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m photoenhance.train.tone")
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--every", type=int, default=200, help="steps between checkpoints")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jitter", action=argparse.BooleanOptionalAction, default=True,
                    help="train towards jittered good looks (jitter_look), not the photos")
    ap.add_argument("--wb-weight", type=float, default=WB_WEIGHT,
                    help="weight of the direct white-balance supervision (wb_loss)")
    ap.add_argument("--residual-weight", type=float, default=RESIDUAL_WEIGHT,
                    help="weight of the penalty on departing from the anchor (residual_loss)")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--init", default=None, help="v1 weights to take the convolutions from")
    ap.add_argument("--out", default=str(REPO / "checkpoints" / "tone"),
                    help="checkpoint folder")
    ap.add_argument("--keep", default=None, help="a second folder for best.pt and last.pt")
    ap.add_argument("--export", action="store_true", help="write models/tone-v1 and stop")
    ap.add_argument("--calibrate", action="store_true",
                    help="print the edit sizes on clean and faulty training photos")
    ap.add_argument("--pick", choices=("best", "last"), default="best",
                    help="checkpoint to export or calibrate: best on validation, or the last")
    ap.add_argument("--metrics", default=None, help="bench/tone.py --json output for the card")
    ap.add_argument("--version", default="1")
    ap.add_argument("--history", default=None, help="how the checkpoint was reached, for the card")
    args = ap.parse_args(argv)
    if args.export:
        export(args)
    elif args.calibrate:
        calibrate(args)
    else:
        train(args)


if __name__ == "__main__":
    main()
