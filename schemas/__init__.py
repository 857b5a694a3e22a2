"""Contract v1: what producers may send and how the processor tells good input from bad."""

from schemas.validate import (
    Rejection,
    check_event,
    check_message,
    decode_message,
    explain_event,
    explain_public,
)

__all__ = [
    "Rejection",
    "check_event",
    "check_message",
    "decode_message",
    "explain_event",
    "explain_public",
]
