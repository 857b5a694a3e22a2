"""The bridge's own metrics on its ``/metrics``, in the workers' conventions: base units, ``_total``
counters, bounded labels (platform, a fixed set of notification types, reason codes, event kinds)."""

from __future__ import annotations

from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest

from schemas.contract import KINDS

PLATFORMS: Final = ("vk", "telegram", "max", "ok")
#: Why a request was refused or a notification not published.
REJECTED: Final = (
    "too_large",
    "not_json",
    "unknown_community",
    "bad_secret",
    "bad_payload",
    "not_contract",
    "slow_body",
)

#: Notification types as VK's Callback API names them (its ``callback_type``); any other is "other".
VK_TYPES: Final = frozenset(
    [
        "audio_new",
        "board_post_new",
        "board_post_edit",
        "board_post_restore",
        "board_post_delete",
        "confirmation",
        "group_leave",
        "group_join",
        "group_change_photo",
        "group_change_settings",
        "group_officers_edit",
        "lead_forms_new",
        "market_comment_new",
        "market_comment_delete",
        "market_comment_edit",
        "market_comment_restore",
        "market_order_new",
        "market_order_edit",
        "message_new",
        "message_reply",
        "message_edit",
        "message_allow",
        "message_deny",
        "message_read",
        "message_typing_state",
        "messages_edit",
        "message_reaction_event",
        "photo_new",
        "photo_comment_new",
        "photo_comment_delete",
        "photo_comment_edit",
        "photo_comment_restore",
        "poll_vote_new",
        "user_block",
        "user_unblock",
        "video_new",
        "video_comment_new",
        "video_comment_delete",
        "video_comment_edit",
        "video_comment_restore",
        "wall_post_new",
        "wall_reply_new",
        "wall_reply_edit",
        "wall_reply_delete",
        "wall_reply_restore",
        "wall_repost",
        "like_add",
        "like_remove",
    ]
)


class BridgeMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        r = self.registry
        self.requests = Counter(
            "gospulse_bridge_requests_total",
            "Notifications received, by platform and type",
            ["platform", "type"],
            registry=r,
        )
        self.rejected = Counter(
            "gospulse_bridge_rejected_total",
            "Requests refused or notifications dead-lettered, by platform and reason",
            ["platform", "reason"],
            registry=r,
        )
        self.slow_connections = Counter(
            "gospulse_bridge_slow_connections_total",
            "Connections closed because their request's headers had not all arrived within "
            "--bridge-header-timeout-s",
            registry=r,
        )
        self.ignored = Counter(
            "gospulse_bridge_ignored_total",
            "Notifications acknowledged without an event (a type the contract has no kind for, or not "
            "the community's own)",
            ["platform"],
            registry=r,
        )
        self.events = Counter(
            "gospulse_bridge_events_published_total",
            "Events the broker acknowledged, by kind",
            ["kind"],
            registry=r,
        )
        self.unavailable = Counter(
            "gospulse_bridge_unavailable_total",
            "Requests answered 503 because the broker did not acknowledge (the platform retries)",
            ["platform"],
            registry=r,
        )
        self.publish_seconds = Histogram(
            "gospulse_bridge_publish_seconds",
            "From a flush's start to the broker's acknowledgement of all its records",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=r,
        )
        self.last_request = Gauge(
            "gospulse_bridge_last_request_timestamp_seconds",
            "When the last authenticated notification arrived, by platform",
            ["platform"],
            registry=r,
        )
        self.token_refused = Gauge(
            "gospulse_bridge_token_refused",
            "Groups whose access token the platform refuses now (expired or revoked), by platform",
            ["platform"],
            registry=r,
        )
        self.poll_errors = Counter(
            "gospulse_bridge_poll_errors_total",
            "Poll rounds of a community that failed (the platform's API, the network or the broker)",
            ["platform"],
            registry=r,
        )
        self.configured = Gauge(
            "gospulse_bridge_configured",
            "Communities, channels and chats configured, by platform",
            ["platform"],
            registry=r,
        )
        for platform in PLATFORMS:
            self.unavailable.labels(platform)
            for reason in REJECTED:
                self.rejected.labels(platform, reason)
        for kind in KINDS:
            self.events.labels(kind)

    def vk_type(self, kind: object) -> str:
        return kind if isinstance(kind, str) and kind in VK_TYPES else "other"

    def render(self) -> bytes:
        return generate_latest(self.registry)
