"""The options of `gradviz check` and `gradviz render`, validated at parse time.

`gradviz grade` reads each target's settings with `check_parser()`, so a
grading spec accepts exactly what `gradviz check` does, without importing the
command line that registers `grade` itself.
"""

from __future__ import annotations

import argparse

from ..errors import GradvizError
from .reading_flags import add_reading_flags

EXAMPLES = """examples:
  gradviz check                                   self-test every op, layer, loss and optimizer
  gradviz check "tanh(w*x + b)" --at w=0.5,x=2,b=-1
  gradviz check my_layer.py:Conv2D --input-shape 2,3,8,8 --args '{"pad": 1}'
  gradviz check layers.py:affine_forward,affine_backward --input x=4,5 --input w=5,3 --input b=3
  gradviz check losses.py:softmax_loss --input x=5,10 --input "y=randint(10, size=5)"
  gradviz render "tanh(w*x + b)" --at w=0.5,x=2,b=-1 -o graph.svg
"""


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """--help keeps the examples' layout and states each option's default where it has a real one.

    argparse.ArgumentDefaultsHelpFormatter would also print "(default: None)"
    and "(default: False)" for every flag; this prints only defaults that say something.
    """

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        meaningless = action.default is None or action.default is False or action.default == [] \
            or action.default is argparse.SUPPRESS
        if action.option_strings and not meaningless and "%(default)" not in text and "default:" not in text:
            text += " (default: %(default)s)"
        return text


def add_check_arguments(check: argparse.ArgumentParser) -> None:
    """Every option of `gradviz check` (and of a target's settings in a grading spec)."""
    check.add_argument("target", nargs="?", help='an expression like "tanh(w*x + b)", or path/file.py:NAME')
    _common(check)
    check.add_argument("--args", dest="args_json", metavar="JSON",
                       help="settings: a class's constructor arguments, or a function's keyword settings, "
                            "e.g. '{\"pad\": 1}' (each function of a pair gets the ones it accepts)")
    _convention_flags(check)
    check.add_argument("--input-shape", metavar="SHAPE", help="input shape for a layer or loss class, e.g. 2,3,8,8")
    output = check.add_mutually_exclusive_group()  # one output format: --json --markdown is a usage error
    output.add_argument("--json", action="store_true", help="print the report as JSON")
    output.add_argument("--markdown", action="store_true", help="print the report as Markdown")
    check.add_argument("--render", metavar="FILE", help="draw the checked graph with the verdict on it")
    _tolerance_flags(check)
    _optimizer_flags(check)
    check.add_argument("--mode", choices=("auto", "full", "directional"), default="auto",
                       help="finite differences per element (full), along random directions, or auto by size")
    output.add_argument("-q", "--quiet", action="store_true", help="print only the verdict")
    output.add_argument("-v", "--verbose", action="store_true", help="print every report in full")


def add_render_arguments(render: argparse.ArgumentParser) -> None:
    """Every option of `gradviz render`."""
    render.add_argument("target", help='an expression like "tanh(w*x + b)", or path/file.py:NAME')
    _common(render)
    render.add_argument("-o", "--output", required=True, metavar="FILE", help="graph.svg | .png | .pdf | .dot")
    render.add_argument("--rankdir", default="auto", choices=("auto", "LR", "TB", "RL", "BT"),
                        help="layout direction; auto picks the narrower of LR and TB")
    render.add_argument("--collapse", type=int, metavar="LEVEL", help="fold scopes deeper than LEVEL")
    render.add_argument("--show-order", action="store_true", help="number the ops in backward order")
    render.add_argument("--formulas", action="store_true", help="write each edge's local derivative")
    render.add_argument("--animate", metavar="HTML", help="also write a step-through page of backward()")
    slides = render.add_argument_group("for slides")
    slides.add_argument("--dpi", type=float, metavar="N", help="PNG/JPEG resolution in dots per inch (default 96)")
    slides.add_argument("--scale", type=float, metavar="F", help="multiply the picture's natural size by F")
    slides.add_argument("--landscape", action="store_true",
                        help="lay the graph out left to right: a chain of ops comes out wider than tall")


def check_parser() -> argparse.ArgumentParser:
    """A parser of `gradviz check`'s options alone (what `gradviz grade` validates a spec's settings with)."""
    check = argparse.ArgumentParser(prog="gradviz check", formatter_class=HelpFormatter, epilog=EXAMPLES)
    add_check_arguments(check)
    return check


def _convention_flags(check: argparse.ArgumentParser) -> None:
    """Flags for checking hand-written code as it is written (see docs/cli.md)."""
    check.add_argument("--init", action="append", default=[], metavar="NAME=SPEC",
                       help="a constructor argument of a class, e.g. --init W=4,3 (repeatable; SPEC as for --input)")
    check.add_argument("--forward", metavar="METHOD", help="the forward method of a class (default: detected)")
    check.add_argument("--backward", metavar="METHOD", help="the backward method of a class (default: detected)")
    check.add_argument("--wrt", metavar="NAME", help="the argument a gradient belongs to (default: guessed, and said)")
    check.add_argument("--batch-axis", type=int, default=None, metavar="AXIS",
                       help="the examples axis of the input: 1 for (features, examples) code")
    check.add_argument("--params", metavar="NAMES",
                       help="the layer's parameters, e.g. W,b (default: every float array the output depends on; "
                            "an empty value checks only the input)")
    check.add_argument("--per-example-dout", action="store_true",
                       help="dout holds per-example gradients: expect 1/m in the parameter gradients only "
                            "(the deeplearning.ai convention)")
    add_reading_flags(check)


def assignments(items: list[str], flag: str) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip().isidentifier():
            raise GradvizError(f"{flag} takes NAME=SPEC, e.g. {flag} x=4,5 or {flag} \"y=randint(10, size=4)\"; "
                               f"got {item!r}")
        out[name.strip()] = value
    return out


def _tolerance_flags(p: argparse.ArgumentParser) -> None:
    """--eps/--atol/--rtol, validated at parse time: `--eps 0` is a usage error (exit 2), not a traceback."""
    p.add_argument("--eps", type=_number(positive=True), default=1e-6, help="finite-difference step (> 0)")
    p.add_argument("--atol", type=_number(positive=False), default=1e-5, help="absolute tolerance (>= 0)")
    p.add_argument("--rtol", type=_number(positive=False), default=1e-3, help="relative tolerance (>= 0)")
    p.add_argument("--strict", action="store_true",
                   help="also fail what exceeds 10x the measured finite-difference error (catches 1e-5 relative bugs)")


def _number(positive: bool):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value != value or value in (float("inf"), float("-inf")) or value < 0 or (positive and value == 0):
            raise argparse.ArgumentTypeError(f"{text!r}: must be {'> 0, e.g. 1e-6' if positive else '>= 0'}")
        return value

    return parse


def _optimizer_flags(p: argparse.ArgumentParser) -> None:
    """--optimizer [KIND]: check a hand-written optimizer (gv.check_optimizer); --args then gives hyperparameters."""
    from ..checking.optimizers import KINDS

    p.add_argument("--optimizer", nargs="?", const="auto", choices=("auto",) + KINDS, metavar="KIND",
                   help=f"the target is an optimizer: compare it with the {', '.join(KINDS)} rule (no KIND: auto)")
    p.add_argument("--steps", type=int, default=5, help="optimizer steps compared (with --optimizer)")
    p.add_argument("--role", action="append", default=[], metavar="ROLE=NAME[,NAME]",
                   help="with --optimizer: which argument is the param, grad, state, step (counter) or name (key), "
                        "e.g. --role grad=param_grad --role state=v,s (default: read from the code and confirmed)")


def optimizer_roles(items: list[str]) -> dict[str, list[str]]:
    """--role grad=param_grad --role state=v,s as {'grad': ['param_grad'], 'state': ['v', 's']}."""
    roles: dict[str, list[str]] = {}
    for item in items:
        role, sep, names = item.partition("=")
        listed = [n.strip() for n in names.split(",") if n.strip()]
        if not sep or not role.strip() or not listed or not all(n.isidentifier() for n in listed):
            raise GradvizError(f"--role takes ROLE=NAME[,NAME], e.g. --role grad=param_grad or --role state=v,s; "
                               f"got {item!r}")
        roles.setdefault(role.strip(), []).extend(listed)
    return roles


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--at", metavar="NAME=VALUE,...", help="values of an expression's names (default: seeded random)")
    p.add_argument("--input", action="append", default=[], metavar="NAME=SPEC",
                   help="an argument of a file function or method: 2.5, a shape 4,5, randn(4,5), rand(3), "
                        "randint(10, size=5), zeros/ones/eye, [1, 0, 2], or relu/tanh/sigmoid/identity (repeatable)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random inputs, cotangents and directions")
    p.add_argument("--parents", metavar="ATTR",
                   help="where your autograd engine's results keep their operands: an attribute or a path one "
                        "level down, e.g. --parents grad_fn.inputs (default: detected)")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
