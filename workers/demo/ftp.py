"""The demo's local FTP drop: `python -m workers.demo.ftp`, a pyftpdlib server on 127.0.0.1.

One user, read-write, rooted in the simulator's import folder, so a fallback file uploaded here is
imported by the simulator: each demo tenant uploads under its own Engage's folder (`tenants/<key id>/`),
into the sub-folders the uploader makes (`transactionImport`, ...: the permissions allow MKD). The login
comes from the environment (`DEMO_FTP_USER`, `DEMO_FTP_PASSWORD`), never from the command line, so it
shows neither in `ps` nor in the demo's pids file.
"""

from __future__ import annotations

import os
import sys

USER_ENV = "DEMO_FTP_USER"
PASSWORD_ENV = "DEMO_FTP_PASSWORD"  # noqa: S105 - the variable's name, not a secret
PORT_ENV = "DEMO_FTP_PORT"
ROOT_ENV = "DEMO_FTP_ROOT"
WRITE_PERMISSIONS = "elradfmw"  # list, change dir, retrieve, append, delete, rename, mkdir, store


def main() -> None:
    try:
        from pyftpdlib.authorizers import DummyAuthorizer
        from pyftpdlib.handlers import FTPHandler
        from pyftpdlib.servers import FTPServer
    except ImportError:
        sys.exit("pyftpdlib is not installed: pip install -e '.[demo]' (make install does it)")
    missing = [name for name in (USER_ENV, PASSWORD_ENV, PORT_ENV, ROOT_ENV) if not os.environ.get(name)]
    if missing:
        sys.exit(f"set {', '.join(missing)}")
    authorizer = DummyAuthorizer()
    authorizer.add_user(
        os.environ[USER_ENV], os.environ[PASSWORD_ENV], os.environ[ROOT_ENV], perm=WRITE_PERMISSIONS
    )
    handler = FTPHandler
    handler.authorizer = authorizer
    handler.banner = "engage-relay demo FTP drop"
    server = FTPServer(("127.0.0.1", int(os.environ[PORT_ENV])), handler)
    server.serve_forever(handle_exit=True)


if __name__ == "__main__":
    main()
