"""Integration fixtures: one real simulator process per session, reset before every test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.file_servers import FtpServer, SftpServer, sftp_server, skip_or_fail_without_sshd
from tests.support.simulator import RunningSimulator, SimHttp, start_simulator


@pytest.fixture(scope="session")
def simulator_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSimulator]:
    with start_simulator(Path(tmp_path_factory.mktemp("simulator"))) as sim:
        yield sim


@pytest.fixture
def simulator(simulator_process: RunningSimulator) -> Iterator[RunningSimulator]:
    """The session's simulator with empty state, default faults and an empty import folder.

    Offers `.base_url`, `.api_key` ("test-key-1"), `.api_key_2` ("test-key-2"), `.admin`
    (state(), faults(), set_faults(**kw), reset(), seed(dict)) and `.import_dir`.
    """
    _empty(simulator_process.import_dir)
    simulator_process.admin.reset()
    yield simulator_process
    simulator_process.admin.reset()


def _empty(folder: Path) -> None:
    for entry in folder.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()


@pytest.fixture
def sim_http(simulator: RunningSimulator) -> Iterator[SimHttp]:
    """Raw HTTP to the simulator's Engage routes with the first test API key."""
    http = SimHttp(simulator.base_url, simulator.api_key)
    yield http
    http.close()


@pytest.fixture
def sftp() -> Iterator[SftpServer]:
    """A running sshd: user SFTP_USER, password or ``sftp.client_key``; ``sftp.known_hosts``."""
    skip_or_fail_without_sshd()
    with sftp_server() as server:
        yield server


@pytest.fixture
def ftp_into_import_dir(simulator: RunningSimulator, tmp_path: Path) -> Iterator[FtpServer]:
    """An FTP server whose root is the simulator's import folder (a symlink): files uploaded to `/` are
    imported by the simulator as Engage imports files from its FTP folder."""
    workdir = tmp_path / "ftp"
    workdir.mkdir()
    (workdir / "home").symlink_to(simulator.import_dir, target_is_directory=True)
    server = FtpServer(workdir, None)
    for extra in ("integration",):
        path = simulator.import_dir / extra
        if path.exists():
            path.rename(tmp_path / f"moved-{extra}")  # the import folder keeps only files
    server.start()
    try:
        yield server
    finally:
        server.stop()
