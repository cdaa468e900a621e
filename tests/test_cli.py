"""``python -m jitconv explain | wisdom | tune``: the real command line, run in
fresh interpreters with a private wisdom file; and the problem grammar."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from jitconv import _cli


@pytest.fixture
def cli(child_env, tmp_path):
    """``cli(*args, stdin=None, **env)`` -> CompletedProcess of ``python -m jitconv``,
    with JITCONV_WISDOM in ``tmp_path`` and a short planning budget."""
    wisdom = str(tmp_path / "wisdom.json")

    def run(*args, stdin=None, **extra):
        env = child_env(**{"JITCONV_WISDOM": wisdom, "JITCONV_PLANNING_BUDGET": "0.2",
                           **extra})
        return subprocess.run([sys.executable, "-m", "jitconv", *args], env=env, input=stdin,
                              capture_output=True, text=True, timeout=600, cwd=tmp_path)
    run.wisdom = wisdom
    return run


def readable_error(out, code=2):
    assert out.returncode == code, (out.stdout, out.stderr)
    assert "error:" in out.stderr and "Traceback" not in out.stderr, out.stderr


# ------------------------------------------------------------------ help
@pytest.mark.parametrize("args,expect", [
    ((), "explain"), (("--help",), "tune"), (("explain", "--help"), "problem..."),
    (("wisdom", "--help"), "forget"), (("tune", "--help"), "SPECFILE".lower()),
    (("bench", "--help"), "--quick"),
])
def test_every_command_has_help(cli, args, expect):
    out = cli(*args)
    assert out.returncode == 0, out.stderr
    assert expect in out.stdout.lower()


def test_unknown_command(cli):
    readable_error(cli("plan"))


# --------------------------------------------------------------- explain
def test_explain_prints_the_candidate_table(cli):
    out = cli("explain", "convolve f32[512,512] f32[5,5] --mode same")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "convolve f32[512,512] f32[5,5] --mode same"
    assert "chosen:" in out.stdout and "source: measured" in out.stdout
    head = next(l for l in lines if l.strip().startswith("candidate"))
    assert head.split() == ["candidate", "family", "estimate", "measured"]
    assert sum("<- chosen" in l for l in lines) == 1
    assert os.path.exists(cli.wisdom)   # planned like a call: stored
    again = cli("explain", "convolve", "f32[512,512]", "f32[5,5]", "--mode", "same")
    assert "source: disk" in again.stdout  # the next process measures nothing


def test_explain_lags_and_json(cli):
    out = cli("explain", "--effort", "estimate", "--json",
              "correlate f64[100000] f64[100000] --lags 16")
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    # a direct sum over the 33 lags (direct-lags or the general direct
    # kernel: within 1.2x of each other here), not an FFT of 2e5 points
    assert d["family"] == "direct" and d["source"] == "estimate"
    ids = [c["id"] for c in d["candidates"]]
    assert {"direct-lags", "fft", "fft-blocked"} <= set(ids)
    assert "(99983, 33)" in d["key"]     # lags -16..16 are outputs 99983.. of 'full'


@pytest.mark.parametrize("problem,chosen_family", [
    ("conv2d f32[2,8,20,20] f32[16,8,3,3] --padding 1 --stride 2", None),
    ("conv1d f64[1,4,100] f64[4,2,5] --groups 2 --padding same", None),
    ("conv3d f32[1,2,8,8,8] f32[2,2,3,3,3] --padding-mode circular --padding 1", None),
    ("correlate2d f32[64,64] f32[5,5] --mode same --boundary wrap", "direct"),
    ("fftconvolve f64[8,1000] f64[8,50] --axes 1 --mode valid", "fft"),
    ("correlate c128[30,40] c128[30,40] --lags=-3:4,0:9:2 --method fft", "fft"),
])
def test_explain_covers_every_operation(cli, problem, chosen_family):
    out = cli("explain", "--effort", "estimate", "--json", problem)
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert d["chosen"] and d["candidates"]
    if chosen_family:
        assert d["family"] == chosen_family


@pytest.mark.parametrize("problem,msg", [
    ("corr f32[8] f32[3]", "unknown operation 'corr'"),
    ("convolve f32[8]", "needs two operands"),
    ("convolve f32[8] f99[3]", "unknown dtype 'f99'"),
    ("convolve f32[8,x] f32[3]", "dimensions must be non-negative integers"),
    ("convolve f32[8] f32[3] --lags 3", "convolve has no option --lags"),
    ("convolve f32[8] f32[3] --mode", "--mode needs a value"),
    ("convolve f32[8] f32[3] --mode same --mode full", "given twice"),
    ("convolve f32[8] f32[3] --mode sam", "Acceptable mode flags"),
    ("correlate f32[8] f32[3] --lags 9", "exceed the full correlation's lags"),
    ("conv2d f32[1,3,8,8] f32[4,2,3,3]", ""),
    ("convolve2d f32[8] f32[3]", "convolve2d inputs must both be 2-D arrays"),
])
def test_explain_errors_are_readable(cli, problem, msg):
    out = cli("explain", problem)
    readable_error(out)
    assert msg in out.stderr


def test_explain_without_problem(cli):
    readable_error(cli("explain", "--effort", "estimate"))
    readable_error(cli("explain", "--effort", "lots", "convolve f32[8] f32[3]"))


# ------------------------------------------------------------------- tune
SPEC = """# a service's problems
convolve f64[100000] f64[31] --mode same
correlate f32[256,32,32] f32[256,32,32] --axes 1,2 --lags 6   # image windows

conv1d f32[4,8,2000] f32[8,8,9] --padding 4
"""


def test_tune_plans_ahead_and_later_processes_measure_nothing(cli, tmp_path):
    spec = tmp_path / "problems.txt"
    spec.write_text(SPEC)
    out = cli("tune", str(spec), "--effort", "measure")
    assert out.returncode == 0, out.stderr
    assert "3/3" in out.stderr                       # the progress bar
    assert "planned 3 of 3 problems" in out.stdout
    show = cli("wisdom", "show")
    assert show.returncode == 0, show.stderr
    assert "usable here: yes" in show.stdout
    assert "correlate f4[256, 32, 32] * f4[256, 32, 32]" in show.stdout
    for line in SPEC.splitlines():
        body = line.split("#")[0].strip()
        if body:
            again = cli("explain", "--json", body)
            assert json.loads(again.stdout)["source"] in ("disk", "estimate"), body
    # from standard input, with the other effort
    out = cli("tune", "-", "--effort", "exhaustive", "--quiet",
              stdin="convolve f64[20000] f64[65]\n")
    assert out.returncode == 0 and out.stdout == "", out.stderr


def test_tune_rejects_a_bad_spec_before_planning(cli, tmp_path):
    spec = tmp_path / "bad.txt"
    spec.write_text("convolve f64[1000] f64[31]\nconvolve f64[1000] f64[31] --mod same\n")
    out = cli("tune", str(spec))
    readable_error(out)
    assert "line 2" in out.stderr and "--mod" in out.stderr
    assert not os.path.exists(cli.wisdom)           # line 1 was not planned either
    readable_error(cli("tune", str(tmp_path / "missing.txt")))
    readable_error(cli("tune", str(spec), "--effort", "estimate"))
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n\n")
    readable_error(cli("tune", str(empty)))


# ----------------------------------------------------------------- wisdom
def test_wisdom_export_forget_import(cli, tmp_path):
    assert cli("wisdom", "path").stdout.strip() == cli.wisdom
    assert "no file yet" in cli("wisdom", "show").stdout
    assert cli("explain", "convolve f64[50000] f64[101] --mode same").returncode == 0
    assert "decisions: 1" in cli("wisdom", "show").stdout
    saved = str(tmp_path / "exported.json")
    out = cli("wisdom", "export", saved)
    assert out.returncode == 0 and "exported 1 decisions" in out.stdout, out.stderr
    out = cli("wisdom", "forget")
    assert out.returncode == 0 and "deleted" in out.stdout and "(1 decisions)" in out.stdout
    assert not os.path.exists(cli.wisdom)
    assert "nothing to forget" in cli("wisdom", "forget").stdout
    out = cli("wisdom", "import", saved)
    assert out.returncode == 0 and "imported 1 decisions" in out.stdout, out.stderr
    again = cli("explain", "--json", "convolve f64[50000] f64[101] --mode same")
    assert json.loads(again.stdout)["source"] == "disk"


def test_wisdom_errors_are_readable(cli, tmp_path):
    bad = tmp_path / "garbage.json"
    bad.write_text("not wisdom")
    out = cli("wisdom", "import", str(bad))
    readable_error(out, 1)
    assert "corrupt" in out.stderr
    readable_error(cli("wisdom", "import", str(tmp_path / "missing.json")), 1)
    readable_error(cli("wisdom", "nope"))
    assert cli("wisdom").returncode == 2
    bad_file = tmp_path / "wisdom.json"
    bad_file.write_text("{}")
    out = cli("wisdom", "show")
    assert out.returncode == 1 and "not usable here" in out.stdout
    off = cli("wisdom", "path", JITCONV_WISDOM="off")
    assert off.returncode == 0 and off.stdout.startswith("off")
    readable_error(cli("wisdom", "show", JITCONV_WISDOM="off"), 1)


# --------------------------------------------------------------- grammar
def test_grammar_in_process():
    s = _cli.parse("correlate c64[4,30,30] c64[4,30,30] --axes 1,2 --lags -3:4,0:9:2 "
                   "--method=fft --workers 1")
    assert s.op == "correlate" and s.shapes == ((4, 30, 30), (4, 30, 30))
    assert s.dtypes == (np.dtype(np.complex64),) * 2
    assert s.kwargs == dict(axes=(1, 2), lags=(range(-3, 4), range(0, 9, 2)), method="fft",
                            workers=1)
    assert _cli.parse("correlate f64[9] f64[9] --lags 4").kwargs == {"lags": 4}
    s = _cli.parse("conv2d float32[1,3,8,8] f32[4,3,3,3] --padding same --stride 1,1 "
                   "--padding-mode reflect")
    assert s.kwargs == dict(padding="same", stride=(1, 1), padding_mode="reflect")
    assert _cli.parse("convolve2d i16[5,5] bool[2,2] --fillvalue 2.5").kwargs == {
        "fillvalue": 2.5}
    a, b = _cli.parse("convolve i16[5,5] u8[2,2]").operands()
    assert a.dtype == np.int16 and b.dtype == np.uint8 and a.shape == (5, 5)
    for bad in ["", "convolve", "convolve f32[] ", "convolve f32[2] f32[2] extra",
                "convolve f32[2] f32[2] --axes x", "correlate f32[2] f32[2] --lags 1:2:3:4",
                "conv1d f32[1,1,4] f32[1,1,2] --groups 1,2", "convolve f32[2] 'f32[2]",
                "convolve f32[99999999999] f32[2]"]:
        with pytest.raises(_cli.SpecError):
            _cli.parse(bad)
    lines = ["# head", "convolve f64[8] f64[3]  # tail", "", "fftconvolve f32[9] f32[2]"]
    assert [no for no, _ in _cli.read_spec(lines)] == [2, 4]
    with pytest.raises(_cli.SpecError, match="line 2"):
        _cli.read_spec(["convolve f64[8] f64[3]", "nope f64[3] f64[3]"])
