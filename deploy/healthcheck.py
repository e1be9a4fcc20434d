"""Container health check for `lecture-bot run` in webhook mode (Docker HEALTHCHECK).

Healthy means the bot's webhook server answers an HTTP request: any status counts (a GET is
answered 404 or 405, only POSTs carry updates), since an answer proves the event loop is
running, not only that the kernel still accepts connections on the port. In polling mode
(no WEBHOOK_URL) there is no port to ask, and the container is healthy while it runs.

Exit status 0: healthy; 1: unhealthy (what Docker expects). Standard library only.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping

TIMEOUT_SECONDS = 4  # below the Dockerfile's --timeout, so a hang reports a clear line
_ANY_ADDRESS = {"", "0.0.0.0", "::"}


def main(environ: Mapping[str, str] = os.environ) -> int:
    if not environ.get("WEBHOOK_URL"):
        return 0
    host = environ.get("WEBHOOK_LISTEN", "").strip()
    host = "127.0.0.1" if host in _ANY_ADDRESS else host
    if ":" in host:  # an IPv6 address needs brackets in a URL
        host = f"[{host}]"
    port = environ.get("WEBHOOK_PORT", "").strip() or "8443"
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/", timeout=TIMEOUT_SECONDS):
            return 0
    except urllib.error.HTTPError:
        return 0  # the server answered
    except OSError as error:
        print(f"webhook server on {host}:{port} does not answer: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
