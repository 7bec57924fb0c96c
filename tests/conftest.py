import pytest
from typer.testing import CliRunner


@pytest.fixture
def run_cli():
    """Run `adiff ARGS...` in-process; returns (exit code, stdout, stderr)."""
    from autodiff_cli.cli import app

    def run(*args: str, input: str | None = None):
        try:
            runner = CliRunner(mix_stderr=False)
        except TypeError:  # click >= 8.2 keeps stderr apart by itself
            runner = CliRunner()
        result = runner.invoke(app, list(args), input=input)
        return result.exit_code, result.stdout, result.stderr
    return run
