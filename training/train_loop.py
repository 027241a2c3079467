"""train.py's loop: the LR schedule, the steps, the per-epoch validation and checkpoint choice, and the resumable
state (replaced atomically after every epoch, every --save-every-min minutes and on SIGTERM/SIGINT)."""
import copy
import datetime
import json
import math
import os
import signal
import socket
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from augment import domain_views
from train_eval import normalise, score_epoch

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # state and log paths are logged relative to it


class WeightAverage:
    """Exponential moving average of a model's weights (BatchNorm statistics included), kept in a copy."""

    def __init__(self, model, decay):
        self.decay = decay
        self.model = copy.deepcopy(model).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model):
        for avg, cur in zip(self.model.state_dict().values(), model.state_dict().values()):
            if avg.dtype.is_floating_point:
                avg.mul_(self.decay).add_(cur.detach(), alpha=1 - self.decay)
            else:
                avg.copy_(cur)


def loss_fn(logits, target, gap_weight=0.0):
    """BCE (soft target) + soft Dice. `target` may carry the gap map as a second channel: BCE there weighs
    1 + gap_weight."""
    weight = 1 + gap_weight * target[:, 1:2] if target.shape[1] > 1 else None
    target = target[:, :1]
    bce = F.binary_cross_entropy_with_logits(logits, target, weight=weight)
    prob = torch.sigmoid(logits)
    inter = (prob * target).sum()
    dice = (2 * inter + 1) / (prob.sum() + target.sum() + 1)
    return bce + (1 - dice)


def choice_rule(args, held_out):
    """What the checkpoint choice weighs: a best figure kept under another rule is not comparable with new ones."""
    if not args.other_labs:
        return 'in-domain'
    return f'other labs weight {args.other_labs_weight}, held out {held_out or "none"}'


class Training:
    """The loop's state and what it does with it: one instance per sitting (a resumed run is a new sitting)."""

    def __init__(self, args, model, opt, sampler, ema, device, data, log_path, argv, t_loop):
        self.args, self.model, self.opt, self.sampler, self.ema = args, model, opt, sampler, ema
        self.device, self.data, self.log_path, self.argv = device, data, log_path, argv
        self.total_steps = args.epochs * args.steps_per_epoch
        self.budget_s = args.time_budget_min * 60.0
        self.t_loop = t_loop
        self.step = 0
        self.choice_rule = choice_rule(args, args.other_labs_held_out)
        self.best = {'dice': -1.0, 'choiceRule': self.choice_rule}
        self.history = []
        self.sittings = []
        self.epoch_losses = []

    def progress(self):
        # Fraction of the schedule done: by time when budgeted (the machine is shared), else by steps.
        by_steps = self.step / self.total_steps
        return max(by_steps, (time.time() - self.t_loop) / self.budget_s) if self.budget_s > 0 else by_steps

    def lr_at(self, frac):
        args = self.args
        warmup = args.warmup_steps / self.total_steps if args.warmup_steps else 0.1
        if frac < warmup:
            return args.lr * (0.04 + 0.96 * frac / warmup)
        return args.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, (frac - warmup) / (1 - warmup))))

    def resume(self):
        saved = torch.load(self.args.state, map_location='cpu')
        self.model.load_state_dict(saved['model'])
        self.opt.load_state_dict(saved['optimizer'])
        if self.ema and saved.get('ema') is not None:
            self.ema.model.load_state_dict(saved['ema'])
        elif self.ema:
            # A run may take up --ema in a later sitting: the average starts from the weights it resumes with.
            self.ema.model.load_state_dict(self.model.state_dict())
            print(f'weight average (--ema {self.args.ema}) starts at step {saved["step"]}', flush=True)
        self.sampler.gen.set_state(saved['sampler'])
        torch.set_rng_state(saved['torch'])
        self.step, self.best, self.history = saved['step'], saved['best'], saved['history']
        self.epoch_losses, self.sittings = saved.get('epochLosses', []), saved.get('sittings', [])
        # A state saved before the rule was recorded was chosen with no case held out.
        kept_under = self.best.get('choiceRule', choice_rule(self.args, ''))
        if kept_under != self.choice_rule:
            print(f'the checkpoint choice changed ({kept_under} -> {self.choice_rule}): the best so far is chosen '
                  f'again from the next validation on', flush=True)
            self.best = {'dice': -1.0, 'choiceRule': self.choice_rule}
        self.t_loop = time.time() - saved['loopSeconds']  # the schedule goes on where it stopped
        print(f'resumed from {self.args.state}: epoch {saved["epoch"]}, step {self.step}, {saved["loopSeconds"]:.0f}s '
              f'of the budget spent, best {self.best["dice"]:.4f}', flush=True)

    def begin_sitting(self):
        self.sitting = {'startStep': self.step, 'host': socket.gethostname(), 'device': str(self.device),
                        'threads': self.args.threads,
                        'started': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}
        self.t_sitting = time.time()

    def save_state(self):
        """Everything the loop needs to go on, replaced atomically (temp file + rename), and the JSON log beside it."""
        args, ema = self.args, self.ema
        self.sitting.update(endStep=self.step, seconds=round(time.time() - self.t_sitting, 1))
        os.makedirs(os.path.dirname(os.path.abspath(args.state)), exist_ok=True)
        torch.save({'arch': args.arch, 'model': self.model.state_dict(), 'optimizer': self.opt.state_dict(),
                    'ema': ema.model.state_dict() if ema else None, 'sampler': self.sampler.gen.get_state(),
                    'torch': torch.get_rng_state(), 'step': self.step, 'epoch': self.step // args.steps_per_epoch,
                    'epochLosses': self.epoch_losses, 'best': self.best, 'history': self.history,
                    'sittings': self.sittings + [self.sitting], 'loopSeconds': time.time() - self.t_loop},
                   args.state + '.tmp')
        os.replace(args.state + '.tmp', args.state)
        if self.log_path:
            self.write_log()

    def write_log(self):
        args, argv = self.args, self.argv
        log = {'arch': args.arch, 'command': 'npm run train -- ' + ' '.join(argv if argv is not None else sys.argv[1:]),
               'state': os.path.relpath(args.state, REPO), 'stateBytes': os.path.getsize(args.state),
               'step': self.step, 'totalSteps': self.total_steps, 'trainingSeconds': round(time.time() - self.t_loop, 1),
               'sittings': self.sittings + [self.sitting],
               'best': {k: v for k, v in self.best.items() if k not in ('state', 'scores')}, 'history': self.history}
        with open(self.log_path + '.tmp', 'w') as f:
            json.dump(log, f, indent=1)
            f.write('\n')
        os.replace(self.log_path + '.tmp', self.log_path)

    def train_step(self, mean_d, std_d):
        args, device = self.args, self.device
        self.model.train()
        img, msk = self.sampler.next()
        if args.domain_views:
            img = domain_views(img, self.sampler.gen)
        x = normalise(img.to(device), mean_d, std_d).contiguous(memory_format=torch.channels_last)
        logits = self.model(x)
        loss = loss_fn(logits, msk.to(device).contiguous(memory_format=torch.channels_last), args.gap_weight)
        for group in self.opt.param_groups:
            group['lr'] = self.lr_at(self.progress())
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        if self.ema:
            self.ema.update(self.model)
        self.step += 1
        self.epoch_losses.append(loss.item())

    def run(self, t_start):
        """Steps until the schedule ends (True) or a signal or --max-steps-this-run stops the sitting (False)."""
        args = self.args
        stop = {}

        def on_signal(signum, _frame):
            stop['signal'] = signum  # the loop saves the state and returns at the next step boundary

        previous_handlers = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        mean_d, std_d = self.data.mean.to(self.device), self.data.std.to(self.device)
        t_saved = t_epoch = time.time()
        epoch_step0 = self.step
        try:
            while not args.export_only:
                if self.step % args.steps_per_epoch == 0 and (self.step >= self.total_steps or self.progress() >= 1.0):
                    break
                if stop or (args.max_steps_this_run and self.step - self.sitting['startStep'] >= args.max_steps_this_run):
                    self.save_state()
                    why = f'signal {stop["signal"]}' if stop else f'--max-steps-this-run {args.max_steps_this_run}'
                    print(f'stopped at step {self.step} ({why}): state saved to {args.state}', flush=True)
                    return False
                self.train_step(mean_d, std_d)
                if self.step % args.steps_per_epoch:
                    if time.time() - t_saved > args.save_every_min * 60:
                        self.save_state()
                        t_saved = time.time()
                    continue
                self.end_epoch((time.time() - t_epoch) / max(1, self.step - epoch_step0), t_start)
                t_saved = t_epoch = time.time()
                epoch_step0 = self.step
            return True
        finally:
            for sig, handler in previous_handlers.items():
                signal.signal(sig, handler)

    def end_epoch(self, step_s, t_start):
        """Validate, log, keep the best checkpoint and save the state."""
        args, step = self.args, self.step
        epoch = step // args.steps_per_epoch
        scored = self.ema.model if self.ema else self.model
        per_look, scores, stressed, choice, other_scores = score_epoch(scored, self.data, self.device,
                                                                       args.other_labs_weight)
        box, pyr = per_look['box'], per_look['pyramid']
        t_best = max(choice, key=choice.get)
        d05 = scores[0.5]['global']
        self.history.append({'epoch': epoch, 'step': step, 'seconds': round(time.time() - self.t_loop, 1),
                             'loss': float(np.mean(self.epoch_losses)), 'valDice@0.5': d05,
                             'valDiceBest': scores[t_best]['global'], 'thresholdBest': t_best,
                             'valDiceBox': box[t_best]['global'], 'valDicePyramid': pyr[t_best]['global'],
                             **({f'otherLabs{part}{key}': round(other_scores[t][field], 4)
                                 for field, part in (('meanImage', ''), ('heldOut', 'HeldOut'))
                                 for t, key in ((t_best, 'MeanImageDice'), (0.5, 'MeanImageDice@0.5'))
                                 if other_scores[t][field] is not None} if other_scores else {}),
                             **({'choice': choice[t_best]} if stressed or other_scores else {}),
                             **({'stress': {n: round(per_look[n][t_best]['global'], 4) for n in stressed}}
                                if stressed else {})})
        worst = f' | stress worst {min(per_look[n][t_best]["global"] for n in stressed):.4f}' if stressed else ''
        for field, name in (('meanImage', 'other labs'), ('heldOut', 'held out')):
            if other_scores and other_scores[t_best][field] is not None:
                worst += f' | {name} {other_scores[t_best][field]:.4f}'
        print(f'epoch {epoch:3d}/{args.epochs} loss {np.mean(self.epoch_losses):.4f} step {step_s:.2f}s | val Dice@0.5 '
              f'{d05:.4f} best {scores[t_best]["global"]:.4f} @ {t_best} (box {box[t_best]["global"]:.4f}, pyramid '
              f'{pyr[t_best]["global"]:.4f}){worst} | elapsed {time.time() - t_start:.0f}s', flush=True)
        if choice[t_best] > self.best['dice']:
            self.best = {'dice': choice[t_best], 'choiceRule': self.choice_rule, 'epoch': epoch, 'threshold': t_best,
                         'scores': scores,
                         'box': box[t_best], 'pyramid': pyr[t_best],
                         'stress': {n: per_look[n][t_best]['global'] for n in stressed},
                         **({key: other_scores[t_best][field]
                             for field, key in (('meanImage', 'otherLabs'), ('heldOut', 'otherLabsHeldOut'))
                             if other_scores[t_best][field] is not None} if other_scores else {}),
                         'state': {k: v.detach().cpu().clone() for k, v in scored.state_dict().items()}}
        self.epoch_losses = []
        self.save_state()
