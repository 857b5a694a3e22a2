"""Contract v1 in one place: every constant the validator, the JSON Schemas and the engine share.

The text of record is the contract (``docs/contract.md``, from the project's shared ``events-v1.md``);
when it changes, this module changes with it.
"""

from __future__ import annotations

import re
from typing import Final

VERSION: Final = 1

PUBLIC_ID_PATTERN: Final = r"^(vk|ok|tg|max):[A-Za-z0-9_.-]{1,64}$"
#: ``fullmatch`` so that a trailing newline never slips past ``$``.
PUBLIC_ID_RE: Final = re.compile(r"(?:vk|ok|tg|max):[A-Za-z0-9_.-]{1,64}")

#: Every id (``event_id``, ``post_id``, ``comment_id``, ``reply_to_comment_id``) is 1 to 128 characters.
ID_MAX_CHARS: Final = 128
EVENT_ID_MAX_CHARS: Final = ID_MAX_CHARS
#: The largest integer any field may hold (2^53 - 1: exact in every JSON reader, v1.1).
MAX_INTEGER: Final = 9_007_199_254_740_991
#: A message value larger than this is bad input as a whole (v1.1).
MAX_VALUE_BYTES: Final = 1 << 20
#: How much of an oversize value its dead letter carries (its source offset locates the whole).
DEAD_LETTER_CUT_BYTES: Final = 64 << 10
#: What the dead-letter topic and the worker's producer must take: a bad value of up to 1 MiB goes
#: there unchanged, with its key and headers (Kafka's default limit, ~1 MB, is too small for that).
DEAD_LETTER_MAX_BYTES: Final = 2 << 20
#: 2000-01-01T00:00:00Z in epoch milliseconds: the earliest allowed ``occurred_at``.
MIN_OCCURRED_AT: Final = 946_684_800_000
#: How far ahead of the processor's clock an event may be before it is rejected.
MAX_CLOCK_SKEW_MS: Final = 5 * 60 * 1000
BATCH_MAX_EVENTS: Final = 1000

POSTS: Final = "posts"
COMMENTS: Final = "comments"
SUBSCRIPTIONS: Final = "subscriptions"

#: kind -> (topic, extra required fields). The field types live in ``schemas.validate``.
KINDS: Final[dict[str, tuple[str, tuple[str, ...]]]] = {
    "post.published": (POSTS, ("post_id",)),
    "post.deleted": (POSTS, ("post_id",)),
    "post.metrics": (POSTS, ("post_id", "views")),
    "post.reposted": (POSTS, ("post_id",)),
    "reaction.added": (POSTS, ("post_id",)),
    "reaction.removed": (POSTS, ("post_id",)),
    "comment.created": (COMMENTS, ("post_id", "comment_id", "author", "reply_to_comment_id")),
    "comment.deleted": (COMMENTS, ("post_id", "comment_id")),
    "subscription.joined": (SUBSCRIPTIONS, ()),
    "subscription.left": (SUBSCRIPTIONS, ()),
    "subscribers.counted": (SUBSCRIPTIONS, ("count",)),
}

#: kind -> the topic family it travels on; a kind on another topic is bad input (v1.1).
TOPIC_OF_KIND: Final = {kind: topic for kind, (topic, _) in KINDS.items()}

AUTHORS: Final = ("citizen", "official")

LEVELS: Final = ("federal", "regional", "municipal", "settlement")
THEMES: Final = (
    "administration",
    "culture",
    "sport",
    "education",
    "health",
    "social",
    "transport",
    "housing",
    "security",
    "youth",
    "other",
)
REGION_PATTERN: Final = r"^[A-Z]{2}-[A-Z0-9]{1,3}$"
REGION_RE: Final = re.compile(r"[A-Z]{2}-[A-Z0-9]{1,3}")
DEFAULT_TZ: Final = "Europe/Moscow"
