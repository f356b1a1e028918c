"""The Hugging Face hub, asked first whether it can be reached: no minute of retries before an offline error.

Offline, ``huggingface_hub`` retries a download with backoff for about 48 s before it gives up. Before anything is
fetched, :func:`check_reachable` opens one TCP connection to the hub's host (``HF_ENDPOINT``, default
huggingface.co) with a short timeout: when it fails and the file is not in the local cache, the user gets one line
at once. A file already in the cache needs no network (the caller then loads with ``local_files_only``).
"""

from __future__ import annotations

import os
import socket
from functools import cache
from urllib.parse import urlsplit

from ..errors import ScalecheckError

# A TCP connection to the hub takes well under a second where the network works; three seconds also covers a
# slow link, and is what an offline user waits.
TIMEOUT_S = 3.0


def endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def offline_mode() -> bool:
    """The user said so (``HF_HUB_OFFLINE=1``): only the local cache is used."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


@cache
def _reachable(url: str) -> str | None:
    """None when a TCP connection to the endpoint's host opens, else why not."""
    parts = urlsplit(url)
    host, port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
    if host is None:
        return f"HF_ENDPOINT {url!r} names no host"
    try:
        with socket.create_connection((host, port), timeout=TIMEOUT_S):
            return None
    except OSError as exc:
        return f"{host}:{port}: {exc.strerror or type(exc).__name__}"


def reachable() -> str | None:
    """None when the hub can be reached (or a proxy stands in the way and decides), else the reason."""
    if offline_mode():
        return "HF_HUB_OFFLINE is set"
    if any(os.environ.get(k) for k in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return None  # only the proxy knows: let the download try
    return _reachable(endpoint())


def cached(repo_id: str, filename: str, *, revision: str | None = None, repo_type: str | None = None) -> bool:
    """Whether ``filename`` of a hub repository is in the local Hugging Face cache."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover  (transformers installs it)
        return False
    try:
        found = try_to_load_from_cache(repo_id, filename, revision=revision, repo_type=repo_type)
    except Exception:  # noqa: BLE001  a malformed id: let the loader say what is wrong with it
        return False
    return isinstance(found, str)


def check_reachable(what: str, *, is_cached: bool, fix: str) -> bool:
    """Refuse at once, in one line, to fetch ``what`` when the hub cannot be reached and no cached copy exists.

    Returns True when the cached copy must be used without the network (the hub is unreachable).
    """
    why = reachable()
    if why is None:
        return False
    if is_cached:
        return True
    raise ScalecheckError(f"{what} is not in the local Hugging Face cache and the hub ({endpoint()}) cannot be "
                          f"reached ({why}); {fix}")
