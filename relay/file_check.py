"""Whether a tenant's file server takes files, in plain words: the file half of "Test connection".

The check connects with the tenant's own uploader (fallback/uploaders), uploads one small probe file
(`engage-relay-connection-test-<time>.csv`) into the tenant's remote folder itself, never into an import
sub-folder, and removes it again. No import file is touched. The verdict never holds a password.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from fallback.config import FallbackSettings
from fallback.uploaders import UploadError, UploadRejected, UploadUnavailable, uploader_for

PROBE_PREFIX = "engage-relay-connection-test"
PROBE_TEXT = "engage-relay connection test: safe to delete\n"


@dataclass(frozen=True)
class FileCheck:
    ok: bool
    verdict: str  # no_file_server, file_server_ok, file_server_unreachable, file_server_refused
    message: str


def check_file_server(fallback: FallbackSettings) -> FileCheck:  # noqa: PLR0911 - one return per kind
    where = f"the {fallback.transport.upper()} server {fallback.host}"
    if fallback.transport == "none":
        return FileCheck(
            True,
            "no_file_server",
            "no file server is configured: during a long outage events wait and drain through the API",
        )
    if fallback.transport == "local":
        return _local_folder(fallback)
    name = f"{PROBE_PREFIX}-{int(time.time() * 1000)}.csv"
    with tempfile.TemporaryDirectory() as folder:
        probe = Path(folder) / name
        probe.write_text(PROBE_TEXT, encoding="utf-8")
        try:
            with uploader_for(fallback) as uploader:
                receipt = uploader.upload(probe, name, "", remove_local=True)
                uploader.remove(receipt.remote_path)
        except UploadUnavailable as exc:
            return FileCheck(
                False, "file_server_unreachable", f"the file server cannot be reached: {exc.message}"
            )
        except UploadRejected as exc:
            return FileCheck(
                False, "file_server_refused", f"the file server refused a test file: {exc.message}"
            )
        except UploadError as exc:
            return FileCheck(
                False, "file_server_refused", f"the file server failed a test upload: {exc.message}"
            )
        except (OSError, ValueError) as exc:
            return FileCheck(False, "file_server_refused", f"the file settings do not work: {exc}")
    return FileCheck(
        True,
        "file_server_ok",
        f"{where} takes files in {fallback.remote_dir} (a test file was written and removed)",
    )


def _local_folder(fallback: FallbackSettings) -> FileCheck:
    """A local drop folder is checked without writing into it: it exists and this process may write."""
    folder = Path(fallback.remote_dir)
    if not folder.is_dir():
        return FileCheck(False, "file_server_refused", f"the drop folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        return FileCheck(False, "file_server_refused", f"the drop folder {folder} is not writable here")
    return FileCheck(True, "file_server_ok", f"the drop folder {folder} exists and is writable here")
