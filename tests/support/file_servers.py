"""Real file servers for upload tests, on 127.0.0.1 free ports, stoppable and restartable.

- :func:`ftp_server` (``tls=False``) / :func:`ftp_server` (``tls=True``): pyftpdlib in a
  subprocess (``tests.support.ftp_server_main``); user ``engage-upload``, password
  :data:`FTP_PASSWORD`; the server's ``/`` is ``<workdir>/home``. FTPS requires TLS on control
  and data connections; its certificate is signed by a private CA whose file is ``server.ca_file``.
- :func:`sftp_server`: OpenSSH's own sshd (``apt-get install openssh-server``) with its own
  config and ed25519 host key; user :data:`SFTP_USER` (created with useradd if missing, password
  :data:`SFTP_PASSWORD`, or the key ``server.client_key``), chrooted into ``server.root`` with
  ``internal-sftp``. Needs root (sshd checks passwords and chroots); see :func:`sftp_unavailable_reason`.
- :func:`vsftpd_server` (``tls=False`` or ``True``): Debian's vsftpd (``apt-get install vsftpd``) as a
  stock server is set up: the system user :data:`SFTP_USER` with its password, chrooted into
  ``server.root`` (a writable chroot), PAM through a two-line service file of its own; FTPS requires
  TLS for login and data, with the same private CA as pyftpdlib's FTPS. Needs root; see
  :func:`vsftpd_unavailable_reason`.

Every server pre-creates ``/integration/transactionImport`` and ``/integration/contactImport``; pass
``folders=()`` for a server whose folder is empty (the SFTP chroot still has ``/integration``, the only
folder its user may write in, as on a stock OpenSSH chroot set-up).
- :class:`LocalDrop`: a local drop folder (transport ``local``) with the same ``local_path``,
  ``settings`` and ``target`` as the servers, for tests that run one body over every transport.

Handles offer ``start()``, ``stop()`` (also ends open sessions), ``kill()`` (SIGKILL, mid-transfer
crashes), ``running``, ``local_path(remote_path)``, ``settings(remote_dir)`` (FallbackSettings)
and ``target(remote_dir, **extras)`` (UploadTarget with the CA file / known_hosts filled in).
``start()`` after ``stop()`` reuses the same port, folder, keys and certificate.
"""

from __future__ import annotations

import abc
import contextlib
import dataclasses
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, Final

from pydantic import SecretStr

from fallback.config import FallbackSettings
from fallback.uploaders import UploadTarget
from tests.support.processes import Proc, free_port, port_open, wait_until
from tests.support.tls_certs import TlsFiles, make_tls_files

HOST: Final = "127.0.0.1"
IMPORT_FOLDERS: Final = ("integration/transactionImport", "integration/contactImport")
FTP_USER: Final = "engage-upload"
FTP_PASSWORD: Final = "ftp-Secret-4711"
SFTP_USER: Final = "engage-sftp-test"
SFTP_PASSWORD: Final = "sftp-Secret-4711"  # fixed: concurrent test sessions share the system user
SFTP_BASE_DIR: Final = Path("/run/engage-relay-tests")  # root-owned, not world-writable: chroot-safe
SFTP_HOME: Final = "integration"  # the chrooted SFTP user's writable folder
VSFTPD_BINARY: Final = "/usr/sbin/vsftpd"
VSFTPD_PAM_SERVICE: Final = "engage-relay-test-vsftpd"
VSFTPD_PAM_FILE: Final = Path("/etc/pam.d") / VSFTPD_PAM_SERVICE
# pam_unix waits 2 s after a wrong password unless told not to; the tests use short timeouts
VSFTPD_PAM_RULES: Final = "auth required pam_unix.so nodelay\naccount required pam_unix.so\n"
SSHD_CANDIDATES: Final = ("/usr/sbin/sshd", "/usr/bin/sshd")
SERVER_READY_TIMEOUT_S: Final = 10.0
TEST_TIMEOUT_S: Final = 2.0


class FileServer(abc.ABC):
    transport: ClassVar[str]
    username: str
    password: str

    def __init__(self, workdir: Path, root: Path, port: int) -> None:
        self.workdir = workdir
        self.root = root  # what the server shows as "/"
        self.port = port
        self.host = HOST
        self._proc: Proc | None = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.alive()

    def local_path(self, remote_path: str) -> Path:
        return self.root / remote_path.lstrip("/")

    def start(self) -> None:
        if self.running:
            return
        self._proc = self._spawn()
        proc = self._proc
        try:
            wait_until(
                lambda: port_open(self.port) or not proc.alive(),
                SERVER_READY_TIMEOUT_S,
                f"{self.transport} server on {self.port}",
            )
        except TimeoutError:
            self.stop()
            raise
        if not proc.alive():
            raise RuntimeError(f"{self.transport} server exited:\n{proc.log_tail()}")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            self._end_sessions(proc, signal.SIGTERM)
            proc.stop()
        wait_until(lambda: not port_open(self.port), SERVER_READY_TIMEOUT_S, f"port {self.port} closed")

    def kill(self) -> None:
        """SIGKILL the server and its sessions: a crash, mid-transfer if one is running."""
        proc, self._proc = self._proc, None
        if proc is not None:
            self._end_sessions(proc, signal.SIGKILL)
            proc.kill()
            proc.stop()

    def _end_sessions(self, proc: Proc, sig: int) -> None:
        """Hook: servers whose sessions leave the listener's process group end them here."""
        return None

    def settings(self, remote_dir: str = "/integration") -> FallbackSettings:
        return FallbackSettings(
            transport=self.transport,
            host=self.host,
            port=self.port,
            username=self.username,
            password=SecretStr(self.password),
            remote_dir=remote_dir,
        )

    def target(self, remote_dir: str = "/integration", **extras: Any) -> UploadTarget:
        """UploadTarget for this server with short test timeouts; ``extras`` override any field."""
        options: dict[str, Any] = {"connect_timeout_s": TEST_TIMEOUT_S, "io_timeout_s": TEST_TIMEOUT_S}
        options.update(self._target_extras())
        target = UploadTarget.from_settings(self.settings(remote_dir), **options)
        return dataclasses.replace(target, **extras)

    def _target_extras(self) -> dict[str, Any]:
        return {}

    @abc.abstractmethod
    def _spawn(self) -> Proc: ...


class LocalDrop:
    """A local drop folder posing as a file server: remote paths are relative to ``root``."""

    transport = "local"
    password = ""

    def __init__(self, root: Path, folders: tuple[str, ...] = IMPORT_FOLDERS) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        for folder in folders:
            (root / folder).mkdir(parents=True, exist_ok=True)

    def local_path(self, remote_path: str) -> Path:
        return self.root / remote_path.lstrip("/")

    def settings(self, remote_dir: str = "/integration") -> FallbackSettings:
        return FallbackSettings(transport="local", remote_dir=str(self.local_path(remote_dir)))

    def target(self, remote_dir: str = "/integration", **extras: Any) -> UploadTarget:
        return dataclasses.replace(UploadTarget.from_settings(self.settings(remote_dir)), **extras)


class FtpServer(FileServer):
    transport = "ftp"
    username = FTP_USER
    password = FTP_PASSWORD

    def __init__(
        self, workdir: Path, tls: TlsFiles | None, folders: tuple[str, ...] = IMPORT_FOLDERS
    ) -> None:
        super().__init__(workdir, workdir / "home", free_port())
        self.tls = tls
        if tls is not None:
            self.transport = "ftps"  # type: ignore[misc]
        self.root.mkdir(parents=True, exist_ok=True)
        for folder in folders:
            (self.root / folder).mkdir(parents=True, exist_ok=True)

    @property
    def ca_file(self) -> Path:
        assert self.tls is not None
        return self.tls.ca_file

    def _target_extras(self) -> dict[str, Any]:
        return {"ca_file": self.tls.ca_file} if self.tls is not None else {}

    def _spawn(self) -> Proc:
        args = [sys.executable, "-m", "tests.support.ftp_server_main", "--port", str(self.port)]
        args += ["--home", str(self.root), "--user", self.username, "--password-env", "TEST_FTP_PASSWORD"]
        if self.tls is not None:
            args += ["--certfile", str(self.tls.cert_file), "--keyfile", str(self.tls.key_file)]
        repo = Path(__file__).resolve().parents[2]
        env = {"TEST_FTP_PASSWORD": self.password, "PYTHONPATH": str(repo)}
        return Proc(args, self.workdir / f"{self.transport}-server.log", env=env)


@contextlib.contextmanager
def ftp_server(
    workdir: Path, *, tls: bool = False, folders: tuple[str, ...] = IMPORT_FOLDERS
) -> Iterator[FtpServer]:
    """A running FTP (or FTPS) server; stopped on exit."""
    workdir.mkdir(parents=True, exist_ok=True)
    server = FtpServer(workdir, make_tls_files(workdir / "tls") if tls else None, folders)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def sshd_binary() -> str | None:
    return next((path for path in SSHD_CANDIDATES if Path(path).is_file()), None) or shutil.which("sshd")


def sftp_unavailable_reason() -> str | None:
    """Why the sshd-based SFTP server cannot run here, or None."""
    if sshd_binary() is None:
        return "OpenSSH sshd is not installed (apt-get install openssh-server)"
    if os.geteuid() != 0:
        return "sshd needs root to check passwords and chroot"
    return None


def skip_or_fail_without_sshd() -> None:
    """SFTP tests need OpenSSH's sshd (`.ci/run` installs it): skipped locally, a failure under CI."""
    import pytest

    reason = sftp_unavailable_reason()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


def _ensure_sftp_user() -> pwd.struct_passwd:
    try:
        pwd.getpwnam(SFTP_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--home-dir",
                "/",
                "--shell",
                "/usr/sbin/nologin",
                SFTP_USER,
            ],
            check=False,
            capture_output=True,
        )
    subprocess.run(
        ["chpasswd"], input=f"{SFTP_USER}:{SFTP_PASSWORD}\n", text=True, check=True, capture_output=True
    )
    return pwd.getpwnam(SFTP_USER)


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (from /proc), deepest last."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: list[int] = []
    queue = [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


SSHD_CONFIG: Final = """\
Port {port}
ListenAddress 127.0.0.1
HostKey {base}/ssh_host_ed25519_key
PidFile none
UsePAM no
UseDNS no
PermitRootLogin no
AllowUsers {user}
PasswordAuthentication yes
PermitEmptyPasswords no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile {base}/authorized_keys
StrictModes yes
Subsystem sftp internal-sftp
ChrootDirectory {base}/root
ForceCommand internal-sftp
AllowTcpForwarding no
AllowAgentForwarding no
X11Forwarding no
PermitTTY no
MaxAuthTries 3
LoginGraceTime 10
LogLevel VERBOSE
"""


class SftpServer(FileServer):
    transport = "sftp"
    username = SFTP_USER
    password = SFTP_PASSWORD

    def __init__(self, base: Path, folders: tuple[str, ...] = IMPORT_FOLDERS) -> None:
        super().__init__(base, base / "root", free_port())
        self.folders = folders
        self.user = _ensure_sftp_user()
        self.sshd = sshd_binary() or "sshd"
        self.config_path = base / "sshd_config"
        self.host_key = base / "ssh_host_ed25519_key"
        self.client_key = base / "client_ed25519"
        self.known_hosts = base / "known_hosts"
        self._prepare()

    def _prepare(self) -> None:
        base = self.workdir
        base.chmod(0o755)
        self.root.mkdir(mode=0o755)
        for folder in (SFTP_HOME, *self.folders):
            path = self.root / folder
            path.mkdir(parents=True, exist_ok=True)
            os.chown(path, self.user.pw_uid, self.user.pw_gid)
        for key in (self.host_key, self.client_key):
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "engage-relay-test", "-f", str(key)],
                check=True,
                capture_output=True,
            )
        (base / "authorized_keys").write_text(Path(f"{self.client_key}.pub").read_text())
        (base / "authorized_keys").chmod(0o644)
        public = Path(f"{self.host_key}.pub").read_text().split()
        self.known_hosts.write_text(f"[{HOST}]:{self.port} {public[0]} {public[1]}\n")
        self.config_path.write_text(SSHD_CONFIG.format(port=self.port, base=base, user=SFTP_USER))
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation folder
        check = subprocess.run(
            [self.sshd, "-t", "-f", str(self.config_path)], capture_output=True, text=True, check=False
        )
        if check.returncode != 0:
            raise RuntimeError(f"sshd rejects its test config: {check.stderr}")

    @property
    def host_key_fingerprint(self) -> str:
        out = subprocess.run(
            ["ssh-keygen", "-l", "-E", "sha256", "-f", f"{self.host_key}.pub"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return out.split()[1]

    def _target_extras(self) -> dict[str, Any]:
        return {"known_hosts_path": self.known_hosts}

    def _spawn(self) -> Proc:
        return Proc([self.sshd, "-D", "-e", "-f", str(self.config_path)], self.workdir / "sshd.log")

    def _end_sessions(self, proc: Proc, sig: int) -> None:
        # sshd puts every connection in its own session: signal them, not only the listener
        for pid in reversed(_descendants(proc.pid)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)


@contextlib.contextmanager
def sftp_server(folders: tuple[str, ...] = IMPORT_FOLDERS) -> Iterator[SftpServer]:
    """A running sshd SFTP server in a fresh folder under /run/engage-relay-tests; removed on exit."""
    SFTP_BASE_DIR.mkdir(mode=0o755, parents=True, exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix="sftp-", dir=SFTP_BASE_DIR))
    try:
        server = SftpServer(base, folders)
        server.start()
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)


def vsftpd_unavailable_reason() -> str | None:
    """Why Debian's vsftpd cannot run here, or None."""
    if not Path(VSFTPD_BINARY).is_file():
        return "vsftpd is not installed (apt-get install vsftpd)"
    if os.geteuid() != 0:
        return "vsftpd needs root to check passwords and chroot"
    return None


def skip_or_fail_without_vsftpd() -> None:
    """vsftpd tests: skipped locally without vsftpd, a failure under CI (`.ci/run` installs it)."""
    import pytest

    reason = vsftpd_unavailable_reason()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


VSFTPD_CONFIG: Final = """\
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port={port}
background=NO
anonymous_enable=NO
local_enable=YES
write_enable=YES
local_umask=022
chroot_local_user=YES
allow_writeable_chroot=YES
local_root={root}
pam_service_name={pam}
userlist_enable=NO
secure_chroot_dir=/var/run/vsftpd/empty
seccomp_sandbox=NO
isolate=NO
isolate_network=NO
pasv_enable=YES
connect_from_port_20=NO
xferlog_enable=YES
vsftpd_log_file={base}/vsftpd.log
log_ftp_protocol=YES
"""
VSFTPD_TLS_CONFIG: Final = """\
ssl_enable=YES
rsa_cert_file={cert}
rsa_private_key_file={key}
force_local_logins_ssl=YES
force_local_data_ssl=YES
ssl_tlsv1=NO
ssl_sslv2=NO
ssl_sslv3=NO
ssl_ciphers=HIGH
require_ssl_reuse=YES
"""


class VsftpdServer(FileServer):
    """Debian's vsftpd, configured as an operator would for one chrooted upload user."""

    transport = "ftp"
    username = SFTP_USER
    password = SFTP_PASSWORD

    def __init__(self, base: Path, tls: TlsFiles | None, folders: tuple[str, ...] = IMPORT_FOLDERS) -> None:
        super().__init__(base, base / "root", free_port())
        self.tls = tls
        if tls is not None:
            self.transport = "ftps"  # type: ignore[misc]
        self.user = _ensure_sftp_user()
        base.chmod(0o755)
        self.root.mkdir(mode=0o755)
        os.chown(self.root, self.user.pw_uid, self.user.pw_gid)
        for folder in folders:
            path = self.root
            for part in folder.split("/"):
                path = path / part
                path.mkdir(exist_ok=True)
                os.chown(path, self.user.pw_uid, self.user.pw_gid)
        if not VSFTPD_PAM_FILE.is_file() or VSFTPD_PAM_FILE.read_text() != VSFTPD_PAM_RULES:
            VSFTPD_PAM_FILE.write_text(VSFTPD_PAM_RULES)  # password check only: the user has no shell
        config = VSFTPD_CONFIG.format(port=self.port, root=self.root, pam=VSFTPD_PAM_SERVICE, base=base)
        if tls is not None:
            config += VSFTPD_TLS_CONFIG.format(cert=tls.cert_file, key=tls.key_file)
        self.config_path = base / "vsftpd.conf"
        self.config_path.write_text(config)

    @property
    def ca_file(self) -> Path:
        assert self.tls is not None
        return self.tls.ca_file

    def _target_extras(self) -> dict[str, Any]:
        return {"ca_file": self.tls.ca_file} if self.tls is not None else {}

    def _spawn(self) -> Proc:
        return Proc([VSFTPD_BINARY, str(self.config_path)], self.workdir / "vsftpd.out")

    def _end_sessions(self, proc: Proc, sig: int) -> None:
        for pid in reversed(_descendants(proc.pid)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)


@contextlib.contextmanager
def vsftpd_server(*, tls: bool = False, folders: tuple[str, ...] = IMPORT_FOLDERS) -> Iterator[VsftpdServer]:
    """A running vsftpd in a fresh folder under /run/engage-relay-tests (its user must reach the chroot);
    stopped and removed on exit."""
    SFTP_BASE_DIR.mkdir(mode=0o755, parents=True, exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix="vsftpd-", dir=SFTP_BASE_DIR))
    try:
        server = VsftpdServer(base, make_tls_files(base / "tls") if tls else None, folders)
        server.start()
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)
