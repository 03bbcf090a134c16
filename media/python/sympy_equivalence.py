"""Symbolic equality checks for Trajectory Studio's math scorer.

Protocol: one JSON object per line on stdin, {"id": n, "a": "<expr>", "b": "<expr>", "timeout": s};
one JSON object per line on stdout, {"id": n, "equal": true|false|null, "method": "...", "error": "...",
"relative_difference": x}. `relative_difference` is present when the two sides were compared as numbers: the
caller's own tolerance can then decide (the studio's 1e-6 gives `equal`; the reference-compatible scorer
applies 1e-4 to the same reply, so one check serves both profiles).
The expressions are in sympy's own syntax, produced by the scorer from normalised LaTeX. They come from
model output, so they are checked here again before sympy (whose parser evaluates text) sees them: only
numbers, single-letter symbols, a few function names and arithmetic are accepted.
"""

import io
import json
import math
import resource
import signal
import sys
import tokenize

# Memory guard: simplify() on a hostile expression must not take the host down with it.
try:
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
except (ValueError, OSError):
    pass

import sympy  # noqa: E402
from sympy.parsing.sympy_parser import (  # noqa: E402
    convert_xor,
    implicit_multiplication,
    parse_expr,
    standard_transformations,
)

ALLOWED_NAMES = {
    "sqrt", "pi", "oo", "sin", "cos", "tan", "cot", "sec", "csc", "asin", "acos", "atan",
    "log", "exp", "factorial",
}
ALLOWED_OPS = {"+", "-", "*", "/", "**", "(", ")", "^", "!", ","}
TRANSFORMS = standard_transformations + (implicit_multiplication, convert_xor)


class CheckTimeout(Exception):
    pass


def on_alarm(_signum, _frame):
    raise CheckTimeout()


signal.signal(signal.SIGALRM, on_alarm)


def check_safe(text):
    """Raises ValueError unless the text holds only tokens the scorer can produce."""
    if len(text) > 2000:
        raise ValueError("expression too long")
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        kind = tok.type
        if kind in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER, tokenize.INDENT, tokenize.DEDENT):
            continue
        if kind == tokenize.NUMBER:
            continue
        if kind == tokenize.NAME and ((len(tok.string) == 1 and tok.string.isalpha()) or tok.string in ALLOWED_NAMES):
            continue
        if kind == tokenize.OP and tok.string in ALLOWED_OPS:
            continue
        if kind == tokenize.ERRORTOKEN and tok.string in ("!", " "):
            continue
        raise ValueError("unexpected token %r" % tok.string)


def local_names(text):
    # Single letters are plain symbols (so that E, I, N, S, Q, O do not turn into sympy objects), except e.
    names = {c: sympy.Symbol(c) for c in set(text) if c.isalpha() and c.isascii()}
    for name in ALLOWED_NAMES:
        names.pop(name, None)
    names.update({"pi": sympy.pi, "oo": sympy.oo, "sqrt": sympy.sqrt, "log": sympy.log, "exp": sympy.exp})
    # In an answer, e is Euler's number far more often than a variable.
    names["e"] = sympy.E
    return names


def parse(text):
    check_safe(text)
    return parse_expr(text, local_dict=local_names(text), transformations=TRANSFORMS, evaluate=True)


STUDIO_NUMERIC_TOLERANCE = 1e-6


def relative_difference(a, b):
    """|a - b| / max(|a|, |b|) for two closed-form numbers, or None when either is not a finite number."""
    if a.free_symbols or b.free_symbols:
        return None
    va = complex(sympy.N(a, 30))
    vb = complex(sympy.N(b, 30))
    if any(math.isnan(x) or math.isinf(x) for x in (va.real, va.imag, vb.real, vb.imag)):
        return None
    scale = max(abs(va), abs(vb), 1e-12)
    return abs(va - vb) / scale


def compare(a_text, b_text):
    """(equal, method, relative difference or None)."""
    a = parse(a_text)
    b = parse(b_text)
    if a == b:
        return True, "structural", None
    try:
        if sympy.simplify(a - b) == 0:
            return True, "simplify", None
    except CheckTimeout:
        raise
    except Exception:  # noqa: BLE001 - simplify fails on some valid inputs; fall back to numbers
        pass
    rel = relative_difference(a, b)
    if rel is None:
        return False, "simplify", None
    return rel <= STUDIO_NUMERIC_TOLERANCE, "numeric", rel


def main():
    sys.stdout.write(json.dumps({"ready": True, "sympy": sympy.__version__}) + "\n")
    sys.stdout.flush()
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        request = json.loads(line)
        reply = {"id": request.get("id")}
        try:
            signal.setitimer(signal.ITIMER_REAL, float(request.get("timeout", 1.0)))
            try:
                equal, method, rel = compare(str(request["a"]), str(request["b"]))
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            reply.update(equal=bool(equal), method=method)
            if rel is not None:
                reply.update(relative_difference=float(rel))
        except CheckTimeout:
            reply.update(equal=None, method="timeout", error="timed out")
        except MemoryError:
            reply.update(equal=None, method="error", error="out of memory")
        except Exception as exc:  # noqa: BLE001 - any failure is reported, never fatal
            reply.update(equal=None, method="error", error="%s: %s" % (type(exc).__name__, exc))
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
