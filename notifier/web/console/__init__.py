"""The operators' web console: ``/console``, in French and English, behind a sign-in.

Pages: the overview (queues, the schedule ahead, deliveries and failures), an
appointment's story, dead letters, opt-outs, integrators (their callback endpoints),
patients' replies that need a human, every message (filtered, searched, exported),
undeliverable contacts per clinic, and each clinic's usage per day.
See :mod:`.access` for who sees what, :mod:`.passwords` to make an operator's password
hash.
"""

from __future__ import annotations

from fastapi import APIRouter

from notifier.web.console import (
    assets,
    dead_letter_pages,
    integrator_pages,
    message_pages,
    opt_out_export,
    opt_out_pages,
    outcomes_page,
    pages,
    replies_page,
    signin,
    undeliverable_pages,
    usage_pages,
)

router = APIRouter()
for _part in (signin.router, pages.router, dead_letter_pages.router, opt_out_pages.router,
              opt_out_export.router, outcomes_page.router,
              integrator_pages.router, replies_page.router, undeliverable_pages.router,
              message_pages.router, usage_pages.router, assets.router):
    router.include_router(_part)

__all__ = ["router"]
