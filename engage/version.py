"""The package version and the User-Agent Engage asks every integration to send (`System/version`)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("engage-relay")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

USER_AGENT = f"engage-relay/{__version__}"
