"""Remote paths that cannot leave the configured folder.

A remote name must match :data:`REMOTE_NAME_RE` (a plain file name: letters, digits, ``_`` and
``-``, one extension among :data:`REMOTE_EXTENSIONS`; Voyado import names such as
``20261124101500_1_transactions.xml`` match). A sub-folder is zero or more segments of
:data:`SEGMENT_RE` joined by ``/``. ``..``, absolute names, backslashes, NUL, CR/LF (FTP command
injection) and leading dots are rejected by the patterns; the joined path is normalised with
``posixpath`` and its prefix checked again, so a pattern mistake still cannot escape.

The upload goes first to :func:`temp_name_for` (``.{name}.part``, which import watchers ignore),
and is renamed to the final name only after its size was verified. Missing folders between the
configured folder and the file (:meth:`RemoteLocation.folders_below_base`) are created; the
configured folder itself never is (a mistyped ``remote_dir`` fails instead of filling a folder
nobody imports from).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Final

from fallback.uploaders.errors import UnsafeRemotePath

MAX_NAME_CHARS: Final = 200
REMOTE_EXTENSIONS: Final = ("xml", "csv")
REMOTE_NAME_RE: Final = re.compile(
    rf"[A-Za-z0-9][A-Za-z0-9_-]{{0,{MAX_NAME_CHARS}}}\.(?:{'|'.join(REMOTE_EXTENSIONS)})"
)
SEGMENT_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,100}")
TEMP_PREFIX: Final = "."
TEMP_SUFFIX: Final = ".part"
_FORBIDDEN_IN_DIR: Final = ("\\", "\x00", "\r", "\n")


@dataclass(frozen=True, slots=True)
class RemoteLocation:
    """Where one file goes: the configured folder, its sub-folder, its final and its temporary path."""

    folder: str
    final: str
    temp: str
    base: str = "/"

    @property
    def name(self) -> str:
        return posixpath.basename(self.final)

    def folders_below_base(self) -> list[str]:
        """The folders from just below ``base`` down to ``folder``, outermost first (what an upload
        may create; ``base`` itself, the configured ``remote_dir``, is never created)."""
        if self.folder == self.base:
            return []
        prefix = self.base.rstrip("/")
        segments = self.folder[len(prefix) + 1 :].split("/")
        return [posixpath.join(prefix or "/", *segments[: depth + 1]) for depth in range(len(segments))]


def temp_name_for(name: str) -> str:
    return f"{TEMP_PREFIX}{name}{TEMP_SUFFIX}"


def check_base_dir(base_dir: str) -> str:
    """The configured folder, normalised; ValueError unless it is an absolute POSIX path."""
    if any(ch in base_dir for ch in _FORBIDDEN_IN_DIR):
        raise ValueError("remote_dir must not contain backslashes, NUL or line breaks")
    if not base_dir.startswith("/"):
        raise ValueError("remote_dir must be an absolute path such as /integration")
    if ".." in base_dir.split("/"):
        raise ValueError("remote_dir must not contain '..'")
    return posixpath.normpath(base_dir).replace("//", "/")


def resolve_remote(base_dir: str, subdir: str, name: str) -> RemoteLocation:
    """The location of ``name`` in ``base_dir/subdir``; UnsafeRemotePath for anything else."""
    if REMOTE_NAME_RE.fullmatch(name) is None:
        raise UnsafeRemotePath(
            "remote name must be a plain file name ([A-Za-z0-9][A-Za-z0-9_-]*.xml or .csv)",
            remote_path=None,
        )
    segments = [] if subdir == "" else subdir.split("/")
    if any(SEGMENT_RE.fullmatch(segment) is None for segment in segments):
        raise UnsafeRemotePath(
            "remote sub-folder must be relative segments of [A-Za-z0-9][A-Za-z0-9_-]* joined by '/'"
        )
    try:
        base = check_base_dir(base_dir)
    except ValueError as exc:
        raise UnsafeRemotePath(str(exc)) from None
    folder = posixpath.normpath(posixpath.join(base, *segments))
    final = posixpath.join(folder, name)
    temp = posixpath.join(folder, temp_name_for(name))
    prefix = base if base.endswith("/") else base + "/"
    for path in (final, temp):
        if posixpath.normpath(path) != path or not path.startswith(prefix):
            raise UnsafeRemotePath("remote path would leave the configured folder")
    if folder != base and not folder.startswith(prefix):
        raise UnsafeRemotePath("remote path would leave the configured folder")
    return RemoteLocation(folder=folder, final=final, temp=temp, base=base)
