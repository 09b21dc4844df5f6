"""The command line answers --version and --help without any service running."""

from __future__ import annotations

from click.testing import CliRunner

from engage.version import USER_AGENT, __version__
from workers.cli import main


def test_version_is_printed() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_user_agent_has_engage_form() -> None:
    assert USER_AGENT == f"engage-relay/{__version__}"
