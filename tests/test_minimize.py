"""adiff minimize: every method, every stop reason, bounds, the missing
extra, Ctrl-C and the trace file; results checked against SciPy's own run
and against the samples' losses computed here by hand."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time

import pytest

from autodiff_cli import optimize
from autodiff_cli.parser import parse

from support import ADIFF, ROOT, cli, interruptible

ROSENBROCK = "(1-x)^2 + 100*(y-x^2)^2"
TWO_LAYER = str(ROOT / "samples" / "two_layer.adiff")
WEIGHTS = ["w11", "w12", "w21", "w22", "b1", "b2", "v1", "v2", "c"]


def two_layer_loss(p: dict) -> float:
    """samples/two_layer.adiff, written out again in Python."""
    x1, x2, t = p.get("x1", 1.0), p.get("x2", -2.0), p.get("t", 0.5)
    h1 = math.tanh(p["w11"] * x1 + p["w12"] * x2 + p["b1"])
    h2 = math.tanh(p["w21"] * x1 + p["w22"] * x2 + p["b2"])
    y = p["v1"] * h1 + p["v2"] * h2 + p["c"]
    return (y - t) ** 2


TWO_LAYER_START = {"w11": 0.1, "w12": -0.3, "w21": 0.4, "w22": 0.2, "b1": 0.0, "b2": 0.1,
                   "v1": 0.7, "v2": -0.5, "c": 0.05}


def minimize_json(*args: str, env=None):
    outcome = cli("minimize", *args, "--json", env=env)
    assert "Traceback" not in outcome.stderr
    return outcome, json.loads(outcome.stdout)


def test_lbfgs_reaches_the_rosenbrock_minimum_as_scipy_does():
    from scipy.optimize import minimize as scipy_minimize

    outcome, doc = minimize_json(ROSENBROCK, "--x", "-1.2", "--y", "1", "--method", "lbfgs")
    assert outcome.exit_code == 0
    assert doc["converged"] is True and doc["reason"] == "converged" and doc["method"] == "lbfgs"
    assert abs(doc["inputs"]["x"] - 1) < 1e-6 and abs(doc["inputs"]["y"] - 1) < 1e-6
    assert doc["start"] == {"x": -1.2, "y": 1.0}

    def f(v):
        x, y = v
        return (1 - x) ** 2 + 100 * (y - x * x) ** 2, [-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)]

    theirs = scipy_minimize(f, [-1.2, 1.0], jac=True, method="L-BFGS-B",
                            options={"gtol": 1e-8 / math.sqrt(2), "ftol": 1e-15})
    # the same algorithm on gradients equal to rounding: the same path
    assert abs(doc["steps"] - theirs.nit) <= 2
    assert abs(doc["evaluations"] - theirs.nfev) <= 3


def test_lbfgs_is_the_default_when_scipy_is_installed():
    outcome = cli("minimize", ROSENBROCK, "--x", "-1.2", "--y", "1")
    assert outcome.exit_code == 0
    assert "lbfgs: SciPy's L-BFGS-B" in outcome.stdout
    assert "converged" in outcome.stdout


@pytest.mark.parametrize("method", ["gd", "momentum", "adam"])
def test_first_order_methods_bring_the_two_layer_loss_down(method):
    outcome, doc = minimize_json("-f", TWO_LAYER, "--wrt", ",".join(WEIGHTS), "--method", method)
    assert outcome.exit_code == 0, outcome.stderr
    start = two_layer_loss(TWO_LAYER_START)
    assert doc["start_value"] == pytest.approx(start, rel=1e-12)
    assert doc["start"] == TWO_LAYER_START
    # the final point's loss, computed here, is below 1e-6 of the start's
    assert two_layer_loss(doc["inputs"]) < 1e-6 * start
    assert doc["value"] == pytest.approx(two_layer_loss(doc["inputs"]), rel=1e-6, abs=1e-20)
    assert doc["fixed"] == {"x1": 1.0, "x2": -2.0, "t": 0.5}
    assert doc["steps"] <= 1000 and doc["evaluations"] == doc["steps"] + 1


def test_every_input_changes_by_default():
    _, doc = minimize_json("-f", TWO_LAYER, "--method", "gd")
    assert set(doc["inputs"]) == set(TWO_LAYER_START) | {"x1", "x2", "t"}
    assert doc["fixed"] == {}


def test_gradient_descent_takes_the_documented_steps():
    """x - lr * gradient, checked by hand on x^2 (gradient 2x)."""
    outcome, doc = minimize_json("x^2", "--x", "1", "--method", "gd", "--lr", "0.25", "--steps", "3")
    # 1 -> 0.5 -> 0.25 -> 0.125
    assert doc["inputs"]["x"] == 0.125 and doc["steps"] == 3
    assert doc["reason"] == "step limit" and outcome.exit_code == 1


def test_momentum_and_adam_take_the_documented_steps():
    _, doc = minimize_json("x^2", "--x", "1", "--method", "momentum", "--lr", "0.1", "--steps", "2")
    # v1 = 2; x1 = 1 - 0.2 = 0.8; v2 = 0.9*2 + 1.6 = 3.4; x2 = 0.8 - 0.34
    assert doc["inputs"]["x"] == pytest.approx(0.46, abs=1e-15)
    _, doc = minimize_json("x^2", "--x", "1", "--method", "adam", "--lr", "0.1", "--steps", "1")
    # the first Adam step is lr * sign(gradient) (up to eps)
    assert doc["inputs"]["x"] == pytest.approx(0.9, abs=1e-8)


@pytest.mark.parametrize("method", ["lbfgs", "gd", "adam"])
def test_a_bounded_problem_stops_on_its_bound(method):
    outcome, doc = minimize_json("(w-2)^2 + (b+1)^2", "--w", "0", "--b", "0", "--bound", "w=0:1",
                                 "--bound", "b=-0.5:", "--method", method, *(["--lr", "0.1"] if method == "adam" else []))
    assert outcome.exit_code == 0
    assert doc["inputs"]["w"] == 1.0 and doc["inputs"]["b"] == -0.5
    assert doc["gradient"]["w"] == pytest.approx(-2.0) and doc["gradient"]["b"] == pytest.approx(1.0)
    assert doc["reason"] == "converged" and doc["grad_norm"] == 0 and doc["at_bound"] == ["w", "b"]
    assert "on a bound: w, b" in cli("minimize", "(w-2)^2 + (b+1)^2", "--w", "0", "--b", "0", "--bound", "w=0:1",
                                     "--bound", "b=-0.5:", "--method", method).stdout


def test_a_start_outside_its_bound_is_moved_onto_it():
    outcome, doc = minimize_json("(w-2)^2", "--w", "5", "--bound", "w=0:1", "--method", "gd")
    assert doc["start"]["w"] == 1.0 and doc["inputs"]["w"] == 1.0
    assert "outside its bound" in outcome.stderr


def test_step_limit():
    outcome, doc = minimize_json(ROSENBROCK, "--x", "-1.2", "--y", "1", "--method", "gd", "--lr", "0.001",
                                 "--steps", "100")
    assert outcome.exit_code == 1 and doc["reason"] == "step limit" and doc["steps"] == 100
    assert doc["converged"] is False and doc["value"] < doc["start_value"]
    assert "stopped without converging: step limit" in outcome.stderr


def test_lbfgs_step_limit():
    outcome, doc = minimize_json(ROSENBROCK, "--x", "-1.2", "--y", "1", "--steps", "5")
    assert outcome.exit_code == 1 and doc["reason"] == "step limit" and doc["steps"] == 5


def test_no_progress():
    # on |x| gradient descent hops over the kink back and forth for ever
    outcome, doc = minimize_json("abs(x)", "--x", "0.05", "--method", "gd", "--lr", "0.1")
    assert outcome.exit_code == 1 and doc["reason"] == "no progress"
    assert doc["steps"] == optimize.PATIENCE + 1


def test_lbfgs_at_a_kink_converges_by_scipys_own_test():
    # |x| + |y| has no gradient at its minimum: L-BFGS-B's own test (the
    # loss no longer going down relative to itself) ends it there
    outcome, doc = minimize_json("abs(x)+abs(y)", "--x", "0.3", "--y", "0.7", "--method", "lbfgs")
    assert outcome.exit_code == 0 and doc["reason"] == "converged" and doc["grad_norm"] > 1
    assert abs(doc["inputs"]["x"]) < 1e-6 and abs(doc["inputs"]["y"]) < 1e-6
    assert doc["detail"].startswith("CONVERGENCE")   # SciPy's own words


# a straight line through four points that it misses: the least-squares
# minimum is not 0, at a = 1.94, b = 0.15 (the normal equations, by hand:
# a = (4·Σxy − Σx·Σy) / (4·Σx² − (Σx)²) = (4·56.5 − 10·20) / (4·30 − 100))
LINE = "(a*1+b-2.1)^2 + (a*2+b-3.9)^2 + (a*3+b-6.2)^2 + (a*4+b-7.8)^2"


def test_lbfgs_converges_at_a_minimum_that_is_not_zero():
    # SciPy says CONVERGENCE; the gradient's rounding there is above the
    # absolute --tol, which alone called it "no progress" (issue 20)
    outcome, doc = minimize_json(LINE, "--a", "0", "--b", "0")
    assert outcome.exit_code == 0, outcome.stderr
    assert doc["reason"] == "converged" and doc["converged"] is True
    assert doc["inputs"]["a"] == pytest.approx(1.94, abs=1e-7)
    assert doc["inputs"]["b"] == pytest.approx(0.15, abs=1e-7)
    assert doc["value"] == pytest.approx(0.082, rel=1e-9)   # Σ residual², by hand
    text = cli("minimize", LINE, "--a", "0", "--b", "0").stdout
    assert "stopped        converged (SciPy: CONVERGENCE" in text


def test_a_diverging_run_says_so_with_the_best_point_and_a_hint():
    # gradient descent at rate 0.1 on the line: the loss grows by about 10x a
    # step (it reached 2.9e154 and was called "no progress")
    outcome, doc = minimize_json(LINE, "--a", "0", "--b", "0", "--method", "gd", "--lr", "0.1")
    assert outcome.exit_code == 1 and doc["reason"] == "diverged" and doc["converged"] is False
    assert isinstance(doc["failed_step"], int) and doc["failed_step"] >= 1
    # the best point seen is the start: every step made it worse
    assert doc["inputs"] == {"a": 0.0, "b": 0.0} and doc["value"] == doc["start_value"] == pytest.approx(118.9)
    assert f"diverged at step {doc['failed_step']}" in outcome.stderr
    text = cli("minimize", LINE, "--a", "0", "--b", "0", "--method", "gd", "--lr", "0.1").stdout
    assert "a smaller --lr may help (this run's was 0.1)" in text
    # momentum too
    outcome, doc = minimize_json(LINE, "--a", "0", "--b", "0", "--method", "momentum", "--lr", "0.1")
    assert doc["reason"] == "diverged" and doc["value"] <= doc["start_value"]


def test_a_domain_error_is_non_finite_not_diverged():
    # x - log(x) from 5 at rate 10 steps to x = -3, where log is NaN: the
    # loss had not grown, so it is not a divergence
    outcome, doc = minimize_json("x - log(x)", "--x", "5", "--method", "gd", "--lr", "10")
    assert outcome.exit_code == 1 and doc["reason"] == "non-finite loss" and doc["failed_step"] == 1


@pytest.mark.parametrize("start", [("-1.2", "1"), ("2", "-3"), ("0", "0")])
def test_gradient_descents_default_rate_does_not_diverge(tmp_path, start):
    # Rosenbrock from the README's start: the default rate 0.1 alone overflows
    # in 5 steps; without --lr gd halves it where a step would raise the loss
    trace = tmp_path / "run.jsonl"
    outcome, doc = minimize_json(ROSENBROCK, "--x", start[0], "--y", start[1], "--method", "gd",
                                 "--trace", str(trace))
    assert doc["reason"] not in ("diverged", "non-finite loss"), doc
    losses = [json.loads(line)["loss"] for line in trace.read_text().splitlines()]
    assert all(b <= a for a, b in zip(losses, losses[1:]))
    assert doc["value"] == pytest.approx((1 - doc["inputs"]["x"]) ** 2
                                         + 100 * (doc["inputs"]["y"] - doc["inputs"]["x"] ** 2) ** 2)
    assert doc["value"] < 0.2 * doc["start_value"]


def test_lbfgs_stops_on_a_non_finite_trial_point_and_a_bound_avoids_it():
    # L-BFGS-B's first trial point of x - log(x) from 5 is x <= 0
    outcome, doc = minimize_json("x - log(x)", "--x", "5", "--method", "lbfgs")
    assert outcome.exit_code == 1 and doc["reason"] == "non-finite loss" and doc["failed_step"] == 1
    assert doc["inputs"]["x"] > 0 and doc["value"] == pytest.approx(doc["inputs"]["x"] - math.log(doc["inputs"]["x"]))
    outcome, doc = minimize_json("x - log(x)", "--x", "5", "--method", "lbfgs", "--bound", "x=1e-9:")
    assert outcome.exit_code == 0 and doc["inputs"]["x"] == pytest.approx(1, abs=1e-8)


def test_no_progress_when_the_point_stops_moving():
    # a step too small to change x in floating point
    outcome, doc = minimize_json("x", "--x", "1e20", "--method", "gd", "--lr", "1e-10")
    assert outcome.exit_code == 1 and doc["reason"] == "no progress" and doc["steps"] == 1


def test_divergence_names_the_step():
    outcome, doc = minimize_json(ROSENBROCK, "--x", "-1.2", "--y", "1", "--method", "gd", "--lr", "0.1",
                                 "--trace", os.devnull)
    assert outcome.exit_code == 1 and doc["reason"] == "diverged"
    step = doc["failed_step"]
    assert isinstance(step, int) and step >= 1
    # the result is the best finite point seen, not the overflowed one
    assert math.isfinite(doc["value"]) and doc["value"] <= doc["start_value"]
    assert f"diverged at step {step}" in outcome.stderr


def test_non_finite_loss_at_the_start():
    for method in ("gd", "lbfgs"):
        outcome, doc = minimize_json("log(x)", "--x", "-1", "--method", method)
        assert outcome.exit_code == 1 and doc["reason"] == "non-finite loss" and doc["failed_step"] == 0
        assert doc["value"] == "NaN"


def test_the_trace_file_has_one_line_a_step(tmp_path):
    trace = tmp_path / "run.jsonl"
    outcome, doc = minimize_json("x^2 + 3*y^2", "--x", "1", "--y", "1", "--method", "gd", "--lr", "0.1",
                                 "--steps", "20", "--trace", str(trace))
    lines = [json.loads(line) for line in trace.read_text().splitlines()]
    assert [line["step"] for line in lines] == list(range(doc["steps"] + 1))   # step 0 is the start
    for line in lines:
        x, y = line["inputs"]["x"], line["inputs"]["y"]
        assert line["loss"] == pytest.approx(x * x + 3 * y * y, rel=1e-14)
        assert line["grad_norm"] == pytest.approx(math.hypot(2 * x, 6 * y), rel=1e-14)
    assert lines[-1]["inputs"] == doc["inputs"]
    assert lines[1]["step_size"] == pytest.approx(math.hypot(0.2, 0.6))


def test_lbfgs_writes_a_trace_too(tmp_path):
    trace = tmp_path / "run.jsonl"
    _, doc = minimize_json(ROSENBROCK, "--x", "-1.2", "--y", "1", "--trace", str(trace))
    lines = trace.read_text().splitlines()
    assert len(lines) == doc["steps"] + 1
    assert json.loads(lines[-1])["inputs"] == doc["inputs"]


def test_the_table_says_what_ran_and_why_it_stopped():
    outcome = cli("minimize", "-f", TWO_LAYER, "--wrt", "w11,c", "--method", "adam")
    out = outcome.stdout
    for word in ("input", "start", "final", "w11", "c", "loss", "gradient norm", "steps",
                 "evaluations", "adam", "stopped", "converged", "fixed"):
        assert word in out


def test_without_scipy_the_default_is_gradient_descent_and_lbfgs_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy", None)
    monkeypatch.setitem(sys.modules, "scipy.optimize", None)
    outcome = cli("minimize", "x^2", "--x", "1")
    assert outcome.exit_code == 0
    assert "gd: gradient descent" in outcome.stdout and 'adiff[optimize]' in outcome.stdout
    outcome = cli("minimize", "x^2", "--x", "1", "--method", "lbfgs")
    assert outcome.exit_code == 1
    assert outcome.stderr.startswith("adiff: error: --method lbfgs needs SciPy")
    assert 'pip install "adiff[optimize]"' in outcome.stderr


@pytest.mark.parametrize("args, message", [
    (["--bound", "w=1:0"], "LOW must be at most HIGH"),
    (["--bound", "w"], "NAME=LOW:HIGH"),
    (["--bound", "q=0:1"], "not one of the inputs"),
    (["--bound", "w=a:1"], "is not a number"),
    (["--wrt", "q"], "no input q"),
    (["--method", "newton"], "choose gd, momentum, adam or lbfgs"),
    (["--lr", "-1", "--method", "gd"], "positive learning rate"),
    (["--lr", "0.1", "--method", "lbfgs"], "lbfgs chooses its own steps"),
    (["--steps", "-1"], "--steps -1"),
])
def test_bad_input_is_exit_2(args, message):
    outcome = cli("minimize", "(w-2)^2", "--w", "0", *args)
    assert outcome.exit_code == 2, outcome
    assert outcome.stderr.startswith("adiff: error: ") and message in outcome.stderr


def test_bad_input_with_json_is_an_error_document():
    outcome = cli("minimize", "(w-2)^2", "--w", "0", "--bound", "w=1:0", "--json")
    assert outcome.exit_code == 2 and json.loads(outcome.stdout)["error"]["kind"] == "usage"


@pytest.mark.parametrize("method", ["gd", "lbfgs"])
def test_an_interrupted_run_returns_the_best_point(monkeypatch, method):
    graph = parse(ROSENBROCK, {})
    real = optimize.Objective.evaluate
    calls = {"n": 0}

    def evaluate(self, x):
        calls["n"] += 1
        if calls["n"] == 12:
            raise KeyboardInterrupt
        return real(self, x)

    monkeypatch.setattr(optimize.Objective, "evaluate", evaluate)
    result = optimize.minimize(graph, {"x": -1.2, "y": 1}, ["x", "y"], method=method,
                               lr=None if method == "lbfgs" else 0.001)
    assert result.reason == "interrupted" and result.exit_code == 130
    x, y = result.inputs["x"], result.inputs["y"]
    assert result.value == pytest.approx((1 - x) ** 2 + 100 * (y - x * x) ** 2, rel=1e-14)
    assert result.value < 24.2


def test_ctrl_c_prints_the_best_point_and_exits_130(tmp_path):
    trace = tmp_path / "run.jsonl"
    env = {**os.environ, "NO_COLOR": "1"}
    process = interruptible([*ADIFF, "minimize", "x^2", "--x", "1", "--method", "gd", "--lr", "1e-9",
                                "--steps", "1000000000", "--trace", str(trace), "--json"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not trace.exists() or trace.stat().st_size < 2000):
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    doc = json.loads(out)
    assert doc["reason"] == "interrupted" and doc["converged"] is False
    assert 0 < doc["inputs"]["x"] < 1 and doc["value"] == pytest.approx(doc["inputs"]["x"] ** 2)
    assert b"adiff: interrupted" in err and b"Traceback" not in err


def test_the_live_display_shows_only_on_a_terminal():
    """Piped (as here), standard error carries nothing but the stop message."""
    outcome = cli("minimize", ROSENBROCK, "--x", "-1.2", "--y", "1", "--method", "gd", "--lr", "0.001",
                  "--steps", "50")
    assert outcome.stderr == "adiff: stopped without converging: step limit\n"


def test_the_live_display_on_a_terminal():
    import pty
    leader, follower = pty.openpty()
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120"}
    process = subprocess.Popen([*ADIFF, "minimize", ROSENBROCK, "--x", "-1.2", "--y", "1", "--method", "gd",
                                "--lr", "0.001", "--steps", "3000"],
                               stdout=subprocess.PIPE, stderr=follower, env=env)
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    out, _ = process.communicate(timeout=60)
    os.close(leader)
    assert process.returncode == 1
    text = seen.decode("utf-8", "replace")
    assert "step" in text and "loss" in text and "|grad|" in text
    assert "input" in out.decode()   # the table itself goes to standard output


def test_sparkline_follows_the_loss():
    from autodiff_cli.commands.minimize import sparkline
    assert sparkline([1000, 100, 10, 1]) == "█▆▃▁"
    assert sparkline([]) == ""
    assert sparkline([1, 0, -1]) == "█▄▁"   # linear where a loss is not positive


def test_a_trace_file_that_cannot_be_written_is_a_clear_error(tmp_path):
    outcome = cli("minimize", "x^2", "--x", "1", "--trace", str(tmp_path / "missing" / "run.jsonl"))
    assert outcome.exit_code == 1 and outcome.stderr.startswith("adiff: error: cannot write")


from hypothesis import given, settings, strategies as st  # noqa: E402

_coefficient = st.floats(0.5, 2.0)
_centre = st.floats(-3.0, 3.0)


@settings(max_examples=15, deadline=None)
@given(a=_coefficient, b=_coefficient, c=_centre, d=_centre, method=st.sampled_from(["gd", "adam", "lbfgs"]))
def test_every_method_finds_the_centre_of_a_quadratic_bowl(a, b, c, d, method):
    graph = parse(f"{a!r}*(x - {c!r})^2 + {b!r}*(y - {d!r})^2", {})
    lr = {"gd": 0.2, "adam": 0.05}.get(method)
    result = optimize.minimize(graph, {"x": 0.0, "y": 0.0}, ["x", "y"], method=method, lr=lr, steps=5000)
    # Adam with a fixed rate hovers around the minimum: it may end on "no
    # progress" a little above the tolerance, near the centre
    assert result.converged or (method == "adam" and result.reason == "no progress"), result
    near = 1e-3 if method == "adam" else 1e-6
    assert result.inputs["x"] == pytest.approx(c, abs=near) and result.inputs["y"] == pytest.approx(d, abs=near)
