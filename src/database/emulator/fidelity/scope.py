"""Scoping: the fidelity layer acts only inside requests served by the project's moto servers.

moto's backends are process-global and shared by ``mock_aws`` and every
``ThreadedMotoServer`` in the process, so the layer cannot own a private copy of
them. Instead each patch is a dispatcher: inside a request that the project's
server is handling (``serving`` marks it, per thread, with a context variable) it
runs the layer's version; anywhere else (an application's own ``mock_aws`` test in
the same process) it runs moto's original, untouched.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any

_SERVING: ContextVar[bool] = ContextVar("vibedigest_moto_fidelity", default=False)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def active() -> bool:
    """True while the current thread handles a request of one of the project's servers."""
    return _SERVING.get()


def serving(app: WsgiApp) -> WsgiApp:
    """Wrap a WSGI app so that the requests it handles run with the layer active."""

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        token = _SERVING.set(True)
        try:
            return app(environ, start_response)  # moto answers eagerly: the body is built here
        finally:
            _SERVING.reset(token)

    return serve


def patch(owner: Any, name: str, gap: str, replacement: Callable[..., Any]) -> None:
    """Make ``owner.name`` call ``replacement(original, *args)`` while active, the original otherwise.

    Idempotent: a second call for the same attribute leaves the first dispatcher.
    """
    original = current = getattr(owner, name)
    while hasattr(current, "fidelity_gap"):  # several gaps may wrap one attribute
        if current.fidelity_gap == gap:
            return
        current = current.fidelity_original

    @functools.wraps(original)
    def dispatch(*args: Any, **kwargs: Any) -> Any:
        if active():
            return replacement(original, *args, **kwargs)
        return original(*args, **kwargs)

    dispatch.fidelity_gap = gap  # type: ignore[attr-defined]
    dispatch.fidelity_original = original  # type: ignore[attr-defined]
    setattr(owner, name, dispatch)
