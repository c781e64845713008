"""Optimizers written as functions that take their state explicitly and hand it back:

    parameters, v = update_parameters_with_momentum(parameters, grads, v, beta, learning_rate)
    parameters, v, s = update_parameters_with_adam(parameters, grads, v, s, t, learning_rate, ...)
    var, v = update_variables_momentum(alpha, beta1, var, grad, v)
    momentum_update(velocity, params, grads, lr, mu)        # lists, gradients in reversed layer order

Which argument is the parameter, the gradient and the state is read by structure and data flow, never by
name alone: every reading (roles x container layout x order of what is returned) is tried in order of
plausibility, and the first one confirmed (confirming.py) drives the code. None confirmed is a refusal.
"""

from __future__ import annotations

import inspect
import numbers
import re
import sys
from dataclasses import dataclass
from itertools import permutations
from typing import Any, Callable

import numpy as np

from ....errors import GradvizError
from .. import hyperparameters as hyper
from ..confirming import Attempt, Unconfirmed, check_roles, decays_weights, half, keeps_memory, moves_where_gradient, \
    raised, refusal, same
from ..driving import Run, UserFault, drive
from ..layouts import LAYOUTS, Layout, Misfit, leaves, refill, same_structure
from ..problem import fixed_gradients
from .common import EPOCH, GRAD, GRADS, PARAM, PARAMS, STEP, Setup, signature
from .functions import USUAL

PARAM_NAMES = PARAM + PARAMS + ("var", "params_list", "weights_list", "thetas")
STATE_NAMES = ("v", "s", "m", "r", "h", "velocity", "velocities", "vel", "cache", "state", "states", "moment",
               "moments", "m_t", "v_t", "s_t", "accumulator", "sq", "first_moment", "second_moment",
               "accum", "accumulators", "acc", "sum_sq", "sum_squares", "G")  # Adagrad's sum keeps all of itself


def _is_grad_name(name: str) -> bool:
    return name in GRAD + GRADS or "grad" in name.lower() or (name.startswith("d") and name[1:] in PARAM_NAMES)


@dataclass(frozen=True)
class Reading:
    param: str
    grad: str
    states: tuple[str, ...]
    layout: Layout
    returns: str  # what the function returns, in "argument" order or "parameters first"

    def named(self) -> bool:
        """The code's names say this reading: a gradient's name for the gradient, state names for the state."""
        return _is_grad_name(self.grad) and all(s in STATE_NAMES for s in self.states)

    def describe(self, made: list | None = None) -> str:
        """The binding in the user's names; `made`: the states as the user's builder made them (a nested state
        is described by its own keys)."""
        lay = self.layout
        parts = [f"{self.param} <- the parameters ({lay.describe('param')})",
                 f"{self.grad} <- their gradients ({lay.describe('grad')})"]
        for k, s in enumerate(self.states):
            state = made[k] if made else None
            nested = isinstance(state, dict) and not all(isinstance(v, np.ndarray) for v in state.values())
            keyed = f"a dict keyed {', '.join(map(str, state))}, arrays zero at first" if nested else \
                f"{lay.describe('state')}, zeros at first"
            parts.append(f"{s} <- state ({keyed})")
        return ", ".join(parts)


@dataclass
class Arguments:
    data: list[str]  # arrays or containers of them: parameters, gradients, state
    hyper: dict[str, Any]  # hyperparameter arguments passed (given, or a usual value for one without default)
    canonical: dict[str, float]  # the same under the reference rule's names, and the defaults
    filled: dict[str, float]  # the ones gradviz chose values for
    counter: str | None
    lr: str | None = None  # the argument that is the learning rate, if one is


def _canonical(name: str, names: list[str]) -> list[str]:
    """The rule hyperparameters an argument name means; `alpha` is the learning rate of a function with no lr."""
    if name == "alpha" and not any(n in hyper.ALIASES["lr"] for n in names):
        return ["lr"]
    alone = {"beta1": ("beta2", "momentum"), "beta2": ("beta1", "rho")}  # one beta: momentum's, or RMSProp's decay
    for canonical, (other, meaning) in alone.items():
        if name in hyper.ALIASES[canonical] and not any(n in hyper.ALIASES[other] for n in names):
            return [canonical, meaning]
    return [c for c, aliases in hyper.ALIASES.items() if name in aliases]


def arguments_of(fn: Callable, given: dict, roles: dict[str, list[str]]) -> Arguments:
    params = signature(fn)
    names = [p.name for p in params]
    said = {n: role for role, ns in roles.items() for n in ns}
    data, passed, canonical, filled, counter, lr = [], {}, {}, {}, None, None
    for p in params:
        role = said.get(p.name)
        if role == "step" or (role is None and counter is None and p.name in STEP + EPOCH):
            counter = p.name
            continue
        meaning = _canonical(p.name, names) if role is None else []
        if meaning:
            value = next((hyper.lookup(c, given) for c in meaning if hyper.lookup(c, given) is not None), None)
            if value is not None:
                passed[p.name] = value
            elif p.default is inspect.Parameter.empty:
                value = passed[p.name] = filled[p.name] = USUAL[meaning[0]]
            elif isinstance(p.default, numbers.Real):
                value = float(p.default)
            for c in meaning:
                if value is not None:
                    canonical.setdefault(c, value)
            lr = p.name if "lr" in meaning else lr
        elif role is not None or p.default is inspect.Parameter.empty:
            data.append(p.name)
    return Arguments(data, passed, canonical, filled, counter, lr)


def is_explicit(target: Any) -> bool:
    if not inspect.isfunction(target):
        return False
    try:
        return len(arguments_of(target, {}, {}).data) >= 2
    except Exception:
        return False


# -- the readings, most plausible first -------------------------------------------------------------------------
def readings(data: list[str], roles: dict[str, list[str]]) -> list[Reading]:
    out = []
    for param, grad in permutations(data, 2):
        states = tuple(d for d in data if d not in (param, grad))
        if roles.get("param", [param]) != [param] or roles.get("grad", [grad]) != [grad]:
            continue
        if "state" in roles and sorted(roles["state"]) != sorted(states):
            continue
        named = (param in PARAM_NAMES) + _is_grad_name(grad) + all(s in STATE_NAMES for s in states)
        for layout in LAYOUTS:
            for returns in ("argument", "parameters first") if states else ("argument",):
                out.append(((-named, data.index(param), data.index(grad)),
                            Reading(param, grad, states, layout, returns)))
    out.sort(key=lambda item: item[0])
    unique = {(r.describe(), r.returns): r for _, r in reversed(out)}  # state keys say nothing without state
    return list(reversed(unique.values()))


# -- one call ---------------------------------------------------------------------------------------------------
@dataclass
class Call:
    params: list[np.ndarray]
    states: list[Any]  # the state containers to pass next time, as the user's code made them
    counter: int | None  # a step counter the function returned, if it did
    grads_after: list[np.ndarray]
    extra: int = 0  # values returned after the parameters and the state, which a training loop does not keep


def fresh_states(fn: Callable, reading: Reading, shapes: list[tuple]) -> tuple[list[Any], str]:
    """Zeros shaped like the parameters, or what the module's own state builder (initialize_velocity,
    init_adam_state, make_rmsprop_state) makes: any nesting of dicts and lists of zero arrays shaped like the
    parameters, with counters beside them ({'t': 0, 'm': {...}, 'v': {...}})."""
    lay = reading.layout
    for name, builder in _builders(fn):
        try:
            made = builder(lay.pack([np.zeros(s) for s in shapes], "param"))
            made = [made] if len(reading.states) == 1 and not isinstance(made, tuple) else list(made)
            arrays = [a for m in made for a in leaves(m)]
            if len(made) == len(reading.states) and arrays and all(
                    a.shape in shapes and not np.any(a) for a in arrays):
                return made, f"the state is made by {name}(...) from your file"
        except Exception:
            continue
    return [lay.pack([np.zeros(s) for s in shapes], "state") for _ in reading.states], ""


# a state builder's name: init_adam_state, initialize_velocity, adam_init, make_rmsprop_state, build_cache, ...
BUILDER = re.compile(r"^(init|initiali[sz]e)|_init$|^(make|build|create|new)_\w*(state|cache|velocit|moment|slot)",
                     re.IGNORECASE)


def _builders(fn: Callable):
    module = sys.modules.get(getattr(fn, "__module__", None) or "")
    for name, obj in sorted(vars(module).items()) if module else ():
        if obj is fn or not inspect.isfunction(obj) or obj.__module__ != fn.__module__:
            continue
        required = [p for p in signature(obj) if p.default is inspect.Parameter.empty]
        if BUILDER.search(name) and len(required) == 1:
            yield name, obj


def call_once(fn: Callable, reading: Reading, args: Arguments, t: int | None, params: list[np.ndarray],
              grads: list[np.ndarray], states: list[Any]) -> Call:
    """Call the function once as this reading says; a returned structure that does not fit is a Misfit."""
    lay, shapes = reading.layout, [np.shape(p) for p in params]
    packed_p, packed_g = lay.pack(params, "param"), lay.pack(grads, "grad")
    kwargs = {reading.param: packed_p, reading.grad: packed_g, **dict(zip(reading.states, states)), **args.hyper}
    if args.counter is not None:
        kwargs[args.counter] = t
    out = fn(**kwargs)
    items = list(out) if isinstance(out, tuple) else [] if out is None else [out]
    numbers_back = [x for x in items if isinstance(x, numbers.Number) and not isinstance(x, bool)]
    items = [x for x in items if not (isinstance(x, numbers.Number) and not isinstance(x, bool))]
    passed = {"": packed_p, **dict(zip(reading.states, states))}  # "" is the parameters
    order = [reading.param] + [d for d in args.data if d in reading.states] if reading.returns != "argument" \
        else [d for d in args.data if d != reading.grad]
    order = ["" if d == reading.param else d for d in order]
    got: dict[str, Any] = {}
    extra = 0
    for item in items:  # what is handed back is matched by identity first (an updated-in-place dict returned)
        same_object = next((k for k, v in passed.items() if v is item and k not in got), None)
        if same_object is not None:
            got[same_object] = item
    for item in items:
        if any(item is v for v in got.values()):
            continue
        free = next((k for k in order if k not in got), None)
        if free is None:  # more than the loop keeps (v_corrected, s_corrected after parameters, v, s): left alone
            extra += 1
            continue
        got[free] = item
    new_params = lay.unpack(got.get("", packed_p), "param", shapes)
    new_states = [got.get(s, c) for s, c in zip(reading.states, states)]
    for name, given, container in zip(reading.states, states, new_states):
        same_structure(given, container, name)
    counter = int(numbers_back[0]) if args.counter is not None and numbers_back else None
    return Call(new_params, new_states, counter, lay.unpack(packed_g, "grad", shapes), extra)


def confirm(fn: Callable, reading: Reading, args: Arguments, setup: Setup, start: int | None,
            said_grad: bool) -> str | None:
    """None when the reading holds; otherwise why not (the call raised, returned another structure, ...)."""
    shapes = list(reading.layout.shapes(reading.param).values())
    problem = fixed_gradients(setup.seed, 1, shapes=reading.layout.shapes(reading.param))
    names, start_values = list(problem.start), list(problem.start.values())
    grads = list(problem.gradients(1, problem.start).values())
    halved = half(grads)
    remembered = {np.shape(g): np.abs(g) + 1.0 for g in grads}  # a state to hand in, to see how much comes back
    held = [refill(s, lambda a: remembered.get(a.shape, np.ones(a.shape))) for s in
            fresh_states(fn, reading, shapes)[0]]

    def once(gradients, states=None):
        with np.errstate(all="ignore"):  # a counter from 0 divides by zero: the drive says so, not numpy
            return call_once(fn, reading, args, start, start_values, gradients,
                             states if states is not None else fresh_states(fn, reading, shapes)[0])

    try:
        first, again, partly = once(grads), once(grads), once(halved)
        memory = once([np.zeros(s) for s in shapes], [refill(h, lambda a: a) for h in held]) \
            if reading.states and not said_grad else None
    except Misfit as misfit:
        return f"handed back {misfit}"
    except Exception as exc:
        return raised(exc)
    if not same(first.params, again.params):
        return "two calls from the same values gave different parameters"
    if said_grad:
        return None
    if not same(first.grads_after, grads):
        return f"it changed {reading.grad} in place, which a gradient never is (it looks like state)"
    if not (decays_weights(setup.given) or args.canonical.get("weight_decay")):
        wrong = moves_where_gradient(start_values, partly.params, halved, names, reading.grad)
        if wrong:
            return wrong
    if memory is not None and not reading.named():  # a symmetric formula: only the names tell the two apart
        for state, before, container in zip(reading.states, held, memory.states):
            if not keeps_memory(leaves(before), leaves(container)):
                return (f"with a zero gradient it handed back little of {state}: a state keeps most of itself, "
                        f"so {state} looks like the gradient")
    return _lr_matters(fn, reading, args, start, start_values, grads, first, shapes)


def _lr_matters(fn, reading, args, start, start_values, grads, first, shapes) -> str | None:
    """Every rule's first step from a fresh state depends on the learning rate; a reading that moves the
    parameters by the same amount whatever lr is has the state where the gradient belongs."""
    lr = args.lr
    if lr is None or not args.canonical.get("lr"):
        return None
    other = Arguments(args.data, {**args.hyper, lr: args.canonical["lr"] * 2}, args.canonical, args.filled,
                      args.counter, lr)
    try:
        with np.errstate(all="ignore"):
            doubled = call_once(fn, reading, other, start, start_values, grads, fresh_states(fn, reading, shapes)[0])
    except Exception as exc:
        return raised(exc)
    if same(doubled.params, first.params):
        return (f"its first step is the same whatever {lr} is: what moves the parameters is not {reading.grad} "
                "scaled by the learning rate")
    return None


# -- the drive --------------------------------------------------------------------------------------------------
def drive_explicit(fn: Callable, setup: Setup) -> list[Run]:
    roles = check_roles(setup.roles, [p.name for p in signature(fn)], fn.__name__)
    args = arguments_of(fn, setup.given, roles)
    starts = (1, 0) if args.counter else (None,)
    attempts, chosen = [], None
    for reading in readings(args.data, roles):
        whys = [(start, confirm(fn, reading, args, setup, start, "grad" in roles)) for start in starts]
        if any(why is None for _, why in whys):
            chosen = reading
            break
        attempts.append(Attempt(reading.describe(), whys[0][1]))
    if chosen is None:
        raise Unconfirmed(refusal(fn.__name__, attempts, bool(roles)))
    return [_drive(fn, chosen, args, setup, start) for start in starts]


def _drive(fn: Callable, reading: Reading, args: Arguments, setup: Setup, start: int | None) -> Run:
    problem = fixed_gradients(setup.seed, setup.steps, shapes=reading.layout.shapes(reading.param))
    names = list(problem.start)
    shapes = [problem.start[n].shape for n in names]
    states, made_by = fresh_states(fn, reading, shapes)
    now = {"states": states, "t": start, "extra": 0}
    counters: list[float] = []

    def step(t, params, grads):
        counters.append(now["t"])
        try:
            with np.errstate(all="ignore"):
                done = call_once(fn, reading, args, now["t"], [params[n] for n in names],
                                 [grads[n] for n in names], now["states"])
        except Misfit as misfit:
            raise UserFault(None, f"{fn.__name__} handed back {misfit}") from None
        except Exception as exc:
            raise UserFault(None, f"{fn.__name__} {raised(exc)}", raised=True) from None
        now["states"], now["extra"] = done.states, done.extra
        if now["t"] is not None:
            now["t"] = done.counter if done.counter is not None else now["t"] + 1
        return dict(zip(names, done.params))

    run = drive(problem, step, fn.__name__)
    run.sources = [dict(args.canonical)]
    run.counters = counters if start is not None else None
    run.binding = reading.describe(states if made_by else None) + (f"; {args.counter} <- the step counter" if args.counter else "") \
        + (f"; {made_by}" if made_by else "") \
        + (f"; the {now['extra']} values returned after them are not kept" if now["extra"] else "")
    if args.filled:
        run.notes.append(f"{fn.__name__} has no default for {', '.join(args.filled)}: gradviz passed "
                         + ", ".join(f"{k}={v:g}" for k, v in args.filled.items()) + " (--args JSON gives others)")
    if start is not None:  # the values passed: a function that hands its counter back chose them itself
        run.alternative = f"{args.counter} = {', '.join(f'{c:g}' for c in counters[:3])}, ... (counted from {start})"
    return run
