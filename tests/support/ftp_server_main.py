"""A pyftpdlib FTP or FTPS server for tests: ``python -m tests.support.ftp_server_main ...``.

One user with full rights in ``--home``; explicit TLS (``AUTH TLS``, required on control and
data connections) when ``--certfile``/``--keyfile`` are given. Logs go to stderr.
"""

from __future__ import annotations

import argparse
import logging
import os

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler, TLS_FTPHandler
from pyftpdlib.servers import FTPServer

FULL_RIGHTS = "elradfmwMT"
AUTH_FAILED_DELAY_S = 0.5  # pyftpdlib waits 3 s before answering a failed login; tests use short timeouts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--home", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password-env", required=True, help="environment variable holding the password")
    parser.add_argument("--certfile")
    parser.add_argument("--keyfile")
    args = parser.parse_args()

    logging.basicConfig(level=logging.INFO)
    authorizer = DummyAuthorizer()
    authorizer.add_user(args.user, os.environ[args.password_env], args.home, perm=FULL_RIGHTS)
    handler: type[FTPHandler]
    if args.certfile:
        handler = type("TestTlsHandler", (TLS_FTPHandler,), {})
        handler.certfile = args.certfile
        handler.keyfile = args.keyfile
        handler.tls_control_required = True
        handler.tls_data_required = True
    else:
        handler = type("TestFtpHandler", (FTPHandler,), {})
    handler.authorizer = authorizer
    handler.banner = "engage-relay test ftp server"
    handler.auth_failed_timeout = AUTH_FAILED_DELAY_S
    server = FTPServer(("127.0.0.1", args.port), handler)
    server.serve_forever()


if __name__ == "__main__":
    main()
