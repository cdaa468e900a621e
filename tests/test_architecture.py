"""The import graph of jitconv/: every module in a declared layer, imports only
downwards or within a layer, and no circles (function-level imports count).

A new module must be placed in ``LAYERS`` below; the layers are the ones the
README's "Layout" section describes.
"""
import ast
import os

import jitconv

ROOT = os.path.dirname(os.path.abspath(jitconv.__file__))

#: bottom to top; a module may import modules of its own layer or below
LAYERS = [
    # facts: settings, shapes, dtypes, the trace, njit options
    {"_config", "_trace", "_shapes", "_dtypes", "_filelock", "_extend", "kernels", "kernels._options"},
    # code that runs: numba kernels, their launcher, FFTW
    {"kernels.tile", "kernels.direct", "kernels.direct_batched", "kernels.nn", "kernels.nn_tile", "kernels.nn_winograd4",
     "kernels.filter", "kernels.filter_float", "_launch", "_fftw"},
    # descriptions and stored knowledge
    {"_problem", "_store"},
    # the candidate protocol, the cost model, the guards
    {"algorithms.base", "algorithms.cost", "algorithms.guards"},
    # one module per algorithm: every other module of algorithms/ (``_layer``)
    set(),
    # the one registry
    {"algorithms"},
    # the planner; the checks of every face
    {"_planner", "_validate", "_validate.signal", "_validate.nn", "_validate.ndimage"},
    # decide -> run -> finish
    {"_engine"},
    # faces and the public planner API; the dask faces (signal, ndimage) and
    # their blocks (how a call on a dask array becomes tasks)
    {"signal", "nn", "ndimage", "planner", "dask", "dask._blocks", "dask.ndimage"},
    # the package, the command line and the benchmark (which call the faces)
    {"", "__main__", "_cli", "_bench", "_workloads"},
]


#: where modules not named in LAYERS belong: a new algorithm is one module in
#: algorithms/ (plus a registry line), a new kernel one module in kernels/
_ALGORITHMS, _KERNELS = 4, 1


def _layer(m):
    for i, ms in enumerate(LAYERS):
        if m in ms:
            return i
    if m.startswith("algorithms."):
        return _ALGORITHMS
    if m.startswith("kernels."):
        return _KERNELS
    return None


def _modules():
    out = {}
    for d, _, files in os.walk(ROOT):
        for f in files:
            if f.endswith(".py"):
                rel = os.path.relpath(os.path.join(d, f), ROOT)[:-3].replace(os.sep, ".")
                out[rel[:-len("__init__")].rstrip(".") if rel.endswith("__init__") else rel] = \
                    os.path.join(d, f)
    return out


def _imports(name, path, mods):
    """Modules of jitconv imported by module ``name`` (anywhere in its body)."""
    pkg = name.split(".") if path.endswith("__init__.py") else name.split(".")[:-1]
    pkg = [p for p in pkg if p]
    found = set()
    for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
        targets = []
        if isinstance(node, ast.ImportFrom) and node.level:
            base = pkg[:len(pkg) - (node.level - 1)]
            mod = ".".join(base + ([node.module] if node.module else []))
            # "from .x import y" imports x (and y if it is a module); "from . import y" only y
            targets = ([mod] if node.module else []) + [f"{mod}.{a.name}".lstrip(".")
                                                         for a in node.names]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("jitconv"):
            mod = node.module[len("jitconv"):].lstrip(".")
            targets = [mod] + [f"{mod}.{a.name}".lstrip(".") for a in node.names]
        elif isinstance(node, ast.Import):
            targets = [a.name[len("jitconv"):].lstrip(".") for a in node.names
                       if a.name == "jitconv" or a.name.startswith("jitconv.")]
        for t in targets:
            while t not in mods and "." in t:
                t = t.rpartition(".")[0]
            if t in mods and t != name:
                found.add(t)
    return found


def _graph():
    mods = _modules()
    return mods, {m: _imports(m, p, mods) for m, p in mods.items()}


def test_every_module_has_a_layer():
    mods, _ = _graph()
    declared = set().union(*LAYERS)
    assert [m for m in mods if _layer(m) is None] == [], "place these modules in LAYERS"
    assert declared - set(mods) == set(), "these modules of LAYERS no longer exist"


def test_no_upward_imports():
    _, graph = _graph()
    up = [(m, t) for m, ts in graph.items() for t in ts if _layer(t) > _layer(m)]
    assert up == []


def test_no_import_circles():
    _, graph = _graph()
    state, stack, circles = {}, [], []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for t in sorted(graph[m]):
            if state.get(t) == "open":
                circles.append(stack[stack.index(t):] + [t])
            elif t not in state:
                visit(t)
        stack.pop()
        state[m] = "done"
    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert circles == []


def test_only_the_fftw_module_imports_pyfftw():
    mods = _modules()
    users = [m for m, p in mods.items() if "import pyfftw" in open(p, encoding="utf-8").read()]
    assert users == ["_fftw"]


def _fastmath_values(tree):
    """Every value given to a ``fastmath`` option: keyword arguments and dict entries."""
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "fastmath":
            yield node.value
        elif isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values):
                if isinstance(k, ast.Constant) and k.value == "fastmath":
                    yield v


def test_no_fastmath_true_anywhere():
    """fast-math with nnan/ninf deletes the NaN/inf checks the direct sums rely
    on: ``fastmath`` is never True and never names nnan, ninf or reassoc."""
    bad = []
    for m, p in _modules().items():
        tree = ast.parse(open(p, encoding="utf-8").read())
        for v in _fastmath_values(tree):
            names = {c.value for c in ast.walk(v) if isinstance(c, ast.Constant)}
            if True in names or names & {"fast", "nnan", "ninf", "reassoc"}:
                bad.append((m, ast.dump(v)))
        # the one flag set lives in kernels/_options.py
        src = open(p, encoding="utf-8").read()
        if m != "kernels._options" and "FASTMATH" not in src and any(
                True for _ in _fastmath_values(tree)):
            bad.append((m, "fastmath set outside kernels/_options.py"))
    assert bad == []
