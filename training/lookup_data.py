"""Training windows that teach key lookup: a name is bound to a value in one syntax and read later in
another, with other bindings competing, spliced into windows of real code.

    episode = bindings (3-6 names, each in a random syntax of BINDINGS) placed in the first 70 % of
              the window, then 1-2 queries (QUERIES) after the last binding, each followed by the
              value it asks for; the code of the window fills the gaps

The loss is the usual next-token loss over the whole window; a query's value can only be predicted
by finding its name among the bindings. Names are random identifiers, values random numbers, and
binding and query syntaxes differ (a query never repeats its binding's text), so copying a span is
not enough.

Held out from training, so that evaluations measure transfer and not memory:
- training/eval.py's formats py-dict (`V = {"key": 4821}` ... `assert V["key"] ==`) and js-object
  (`const V = { key: 4821 };` ... `assert.equal(V.key,`): no binding here is a one-line literal and
  no query is `assert X ==` or `assert.equal(`;
- HELD_OUT_PAIRS: (binding, query) pairs that training never combines; `split="heldout"` draws
  only them, `split="train"` never does (training/lookup_proof.py measures both).
"""
import random
import string

import numpy as np

# How a binding is written and how later code refers to the bound name. `V` is a container name.
BINDINGS = {
    "assign": (lambda n, v, V: f"{n} = {v}\n", lambda n, V: n),
    "define": (lambda n, v, V: f"#define {n.upper()} {v}\n", lambda n, V: n.upper()),
    "yaml": (lambda n, v, V: f"{n}: {v}\n", lambda n, V: f"{V}.{n}"),
    "enum": (lambda n, v, V: f"class {V.title()}(IntEnum):\n    {n.upper()} = {v}\n", lambda n, V: f"{V.title()}.{n.upper()}"),
    "let": (lambda n, v, V: f"let {n} = {v};\n", lambda n, V: n),
    "setter": (lambda n, v, V: f'set_option("{n}", {v})\n', lambda n, V: f'get_option("{n}")'),
    "subscript-set": (lambda n, v, V: f'{V}["{n}"] = {v}\n', lambda n, V: f'{V}["{n}"]'),
    "kwarg": (lambda n, v, V: f"{V} = make_{V}({n}={v})\n", lambda n, V: f"{V}.{n}"),
    "dict-lines": (lambda n, v, V: f'{V} = {{\n    "{n}": {v},\n}}\n', lambda n, V: f'{V}.get("{n}")'),
    "object-lines": (lambda n, v, V: f"const {V} = {{\n  {n}: {v},\n}};\n", lambda n, V: f"{V}.{n}"),
}
# A query's text up to the value; the value and the rest follow.
QUERIES = {
    "compare": (lambda r: f"\nif {r} == ", ":\n"),
    "assert-equal": (lambda r: f"\nself.assertEqual({r}, ", ")\n"),
    "expect": (lambda r: f"\nexpect({r}).toBe(", ");\n"),
    "fstring": (lambda r: f'\nprint(f"{{{r}}}")  # prints ', "\n"),
    "call": (lambda r: f"\nresult = lookup({r})  # == ", "\n"),
    "return": (lambda r: f"\n    return {r}  # always ", "\n"),
}
HELD_OUT_PAIRS = {("assign", "expect"), ("define", "compare"), ("yaml", "assert-equal"), ("setter", "fstring"),
                  ("subscript-set", "call"), ("kwarg", "return"), ("dict-lines", "compare"), ("object-lines", "assert-equal")}
CONTAINERS = ["settings", "limits", "config", "ports", "table", "opts", "registry", "defaults", "params", "sizes"]


def random_name(rnd):
    words = ["".join(rnd.choice(string.ascii_lowercase) for _ in range(rnd.randint(3, 6))) for _ in range(rnd.randint(1, 2))]
    return "_".join(words)


def random_value(rnd):
    return str(rnd.randint(1000, 9999) if rnd.random() < 0.6 else rnd.randint(10, 99999))


def episode(tok, rnd, split="train", max_tokens=None):
    """Token pieces of one episode: (bindings, queries, pairs). bindings: id lists; queries: (prefix ids,
    value ids, suffix ids); pairs: each query's (binding, query) syntax names. The first query's pair is
    held out iff split == "heldout".
    Competing bindings are dropped while the episode is longer than max_tokens."""
    k = rnd.randint(3, 6)
    names = set()
    while len(names) < k:
        names.add(random_name(rnd))
    names = list(names)
    values = [random_value(rnd) for _ in names]
    pairs = [(b, q) for b in BINDINGS for q in QUERIES]
    allowed = [p for p in pairs if (p in HELD_OUT_PAIRS) == (split == "heldout")]
    train_pairs = [p for p in pairs if p not in HELD_OUT_PAIRS]
    syntaxes = [rnd.choice(list(BINDINGS)) for _ in names]
    containers = [rnd.choice(CONTAINERS) for _ in names]
    asked = rnd.sample(range(k), rnd.randint(1, 2))
    queries, used = [], []
    for j, i in enumerate(asked):
        # the first query decides the split; a second one is always a training pair
        b, q = rnd.choice(allowed if j == 0 else train_pairs)
        syntaxes[i] = b
        used.append((b, q))
        bind_ref = BINDINGS[b][1]
        prefix, suffix = QUERIES[q]
        text, value = prefix(bind_ref(names[i], containers[i])), values[i]
        if text.endswith(" "):  # the space belongs to the value's first token, as in the binding
            text, value = text[:-1], " " + value
        queries.append((tok.encode(text), tok.encode(value), tok.encode(suffix)))
    bindings = [tok.encode("\n" + BINDINGS[b][0](n, v, V)) for b, n, v, V in zip(syntaxes, names, values, containers)]
    spare = [i for i in range(k) if i not in asked]
    size = lambda: sum(map(len, bindings)) + sum(len(p) + len(v) + len(s) for p, v, s in queries)  # noqa: E731
    while max_tokens is not None and size() > max_tokens and spare:
        bindings[spare.pop()] = []
    bindings = [b for b in bindings if b]
    if max_tokens is not None and size() > max_tokens:
        raise ValueError(f"a lookup episode needs {size()} tokens, more than {max_tokens}")
    return bindings, queries, used


def splice(filler, bindings, queries, rnd):
    """One window of len(filler) tokens: the bindings in order within its first 70 %, the queries after
    the last binding, the filler's tokens around them (its tail dropped to keep the length). Returns
    the ids and, per query, the index of its value's first token."""
    n = len(filler)
    pieces = bindings + [p + v + s for p, v, s in queries]
    room = n - sum(len(p) for p in pieces)
    assert room > len(pieces), "window too short for the episode"
    cut_b = sorted(rnd.randint(0, int(room * 0.7)) for _ in bindings)
    cut_q = sorted(rnd.randint(cut_b[-1], room) for _ in queries)
    ids, answers, at = [], [], 0
    for cut, piece, query in zip(cut_b + cut_q, pieces, [None] * len(bindings) + queries):
        ids += list(filler[at:cut])
        at = cut
        if query is not None:
            answers.append(len(ids) + len(query[0]))
        ids += piece
    ids += list(filler[at:room])
    assert len(ids) == n
    return np.asarray(ids, dtype=filler.dtype), answers


def add_lookups(x, rng, share, tok):
    """In place, like train.add_repeated_spans: with probability `share` a row of x (B, n) becomes a
    lookup window (training pairs only). Returns [(row, answer positions)]."""
    out = []
    for row in np.flatnonzero(rng.random(len(x)) < share):
        rnd = random.Random(int(rng.integers(1 << 62)))
        bindings, queries, _ = episode(tok, rnd, "train", max_tokens=x.shape[1] // 2)
        x[row], answers = splice(x[row], bindings, queries, rnd)
        out.append((int(row), answers))
    return out
