"""Whether an email about a signature is still wanted when it is sent: the
outbox asks each kind of message (see outbox.MessageKind.still_wanted), and
records the reason on a row it skips. The kinds about a signature
(signature_mail, freeze_mail) share the first questions, whether the
signature is still there with the status the email was queued for, and
each adds its own."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .models import SignatureStatus

# The signature (whatever row a kind loads for it) -> why its email should
# not go out, or None.
Check = Callable[[Any], "str | None"]


def signature_still_wanted(signature, status: SignatureStatus, *checks: Check) -> str | None:
    """None if the email about ``signature`` (None when it was removed)
    should still go out, else why not: the signature is gone, or no longer
    has ``status`` (a confirmation link once confirmed), or the first of the
    kind's own ``checks`` that gives a reason."""
    if signature is None:
        return "signature removed"
    if signature.status != status:
        return f"signature {signature.status}"
    for check in checks:
        reason = check(signature)
        if reason is not None:
            return reason
    return None
