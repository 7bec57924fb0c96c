"""Every sample runs as it is, and the ones with published numbers match them."""

import json
from pathlib import Path

import pytest

import autodiff_cli

from numeric import close, gradient_by_differences

SAMPLES = sorted((Path(__file__).resolve().parent.parent / "samples").glob("*.adiff"))


def test_there_are_samples():
    assert len(SAMPLES) >= 5


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_sample_runs_and_its_gradient_matches_finite_differences(path, run_cli):
    code, out, err = run_cli("eval", "-f", str(path), "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["warnings"] == []
    text = path.read_text("utf-8")
    numeric = gradient_by_differences(lambda point: autodiff_cli.evaluate(text, point).value, doc["inputs"])
    for name, grad in doc["gradient"].items():
        assert close(grad, numeric[name], rel=1e-5, abs_=1e-6), (name, grad, numeric[name])


def test_seed_as_the_articles_steps():
    trace = autodiff_cli.evaluate((SAMPLES[0].parent / "seed.adiff").read_text("utf-8"))
    assert trace.value == 4
    assert trace.gradient() == {"x": 12, "w": 8, "b": 4, "y": -4}
    named = {n.label: trace.grads[n.id] for n in trace.graph.nodes if n.op not in ("var", "const")}
    assert named == {"p": 4, "a": 4, "d": 4, "L": 1}


def test_tanh_neuron_matches_micrograds_published_gradients():
    trace = autodiff_cli.evaluate((SAMPLES[0].parent / "tanh_neuron.adiff").read_text("utf-8"))
    assert trace.value == pytest.approx(0.7071, abs=1e-4)
    grads = trace.gradient()
    assert grads["x1"] == pytest.approx(-1.5) and grads["w1"] == pytest.approx(1.0)
    assert grads["x2"] == pytest.approx(0.5) and grads["w2"] == pytest.approx(0.0)
