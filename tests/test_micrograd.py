"""micrograd's engine tests (test_engine.py), written as adiff programs.

The expected numbers are micrograd's, computed there by PyTorch.
"""

import pytest

import autodiff_cli

SANITY = "z = 2*x + 2 + x; q = relu(z) + z*x; h = relu(z*z); y = h + q + q*x"

MORE_OPS = """c = a + b; d = a*b + b^3; c = c + c + 1; c = c + 1 + c + (-a)
d = d + d*2 + relu(b + a); d = d + 3*d + relu(b - a); e = c - d; f = e^2
g = f/2.0; g = g + 10.0/f"""


def test_sanity_check():
    trace = autodiff_cli.evaluate(SANITY, x=-4)
    assert trace.value == -20
    assert trace.gradient() == {"x": 46}


def test_more_ops():
    trace = autodiff_cli.evaluate(MORE_OPS, a=-4, b=2)
    assert trace.value == pytest.approx(24.70408163265306, rel=1e-12)
    assert trace.gradient()["a"] == pytest.approx(138.83381924198252, rel=1e-12)
    assert trace.gradient()["b"] == pytest.approx(645.5772594752186, rel=1e-12)


def test_more_ops_on_the_command_line(run_cli):
    import json
    code, out, _ = run_cli("eval", MORE_OPS.replace("\n", "; "), "--a", "-4", "--b", "2", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["value"] == pytest.approx(24.70408163265306, rel=1e-12)
    assert doc["gradient"]["a"] == pytest.approx(138.83381924198252, rel=1e-12)
