"""The bridge's file of communities, bots and their secrets (TOML), read and checked whole.

A secret comes from exactly one of ``secret`` (in the file), ``secret_file`` (a file holding it, as
a container secret is mounted) or ``secret_env`` (an environment variable); never from the command
line, where ``ps`` shows it. A file with any fault stops the bridge before it listens, with a
message naming the file, the key and what to write instead.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from schemas.validate import valid_public_id


class BridgeConfigError(ValueError):
    """A bridge file that cannot be used; ``str()`` names the file, the key and the fix."""


@dataclass(frozen=True)
class VkCommunity:
    """A VK community whose Callback API points at the bridge."""

    group_id: int
    public_id: str
    confirmation: str
    secret: str = field(repr=False)
    #: A community access token for the poller (views, subscriber count); None: not polled.
    token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class TelegramBot:
    """A Telegram bot, admin of the channels it reports, posting updates to ``/telegram/<name>``."""

    name: str
    secret: str = field(repr=False)
    #: chat id (as Telegram writes it, e.g. -1001234567890) -> public_id
    channels: Mapping[int, str]


@dataclass(frozen=True)
class MaxBot:
    """A Max bot subscribed with ``POST /subscriptions`` to ``/max/<name>``."""

    name: str
    secret: str = field(repr=False)
    #: chat id -> public_id
    chats: Mapping[int, str]


@dataclass(frozen=True)
class OkApp:
    """An OK application and the token the bridge polls a set of groups with (``streams.bridge.ok``)."""

    name: str
    #: The application's public key (``application_key``): not a secret.
    application_key: str
    #: The application's secret key, which signs every request.
    secret: str = field(repr=False)
    #: An access token with GROUP_CONTENT (the groups' administrator's, or a group's own).
    token: str = field(repr=False)
    #: group id (digits, as OK writes it) -> public_id
    groups: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BridgeConfig:
    source: str
    vk: Mapping[int, VkCommunity]
    telegram: Mapping[str, TelegramBot]
    max: Mapping[str, MaxBot]
    #: The deployment's key for ids derived from what identifies a person (``[ids]``): Max's
    #: membership updates name the user, and their event ids are HMACs under it, so nobody without
    #: the key can try user ids against them. None when no platform needs it.
    id_key: bytes | None = field(default=None, repr=False)
    #: OK applications and the groups each polls (``[[ok]]``).
    ok: Mapping[str, OkApp] = field(default_factory=dict)


NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
VK_KEYS = (
    "group_id",
    "public_id",
    "confirmation",
    *("secret", "secret_file", "secret_env"),
    *("token", "token_file", "token_env"),
)


def _fault(source: str, key: str, problem: str) -> BridgeConfigError:
    return BridgeConfigError(f"{source}: {key}: {problem}")


def _secret(
    source: str, where: str, entry: Mapping[str, Any], env: Mapping[str, str], name: str = "secret"
) -> str:
    given = [key for key in (name, f"{name}_file", f"{name}_env") if key in entry]
    fix = f'give one of {name}_env = "VARIABLE", {name}_file = "/run/secrets/NAME" or {name} = "..."'
    if len(given) != 1:
        problem = f"no {name}" if not given else f"more than one of {', '.join(given)}"
        raise _fault(source, where, f"{problem}; {fix}")
    key = given[0]
    value = entry[key]
    if not isinstance(value, str) or not value:
        # never echoed: a secret mistyped as a number or a list is still a secret
        kinds = {bool: "a boolean", int: "a number", float: "a number", list: "a list", dict: "a table"}
        given_as = "an empty string" if value == "" else kinds.get(type(value), "not text")
        raise _fault(source, f"{where}.{key}", f"is {given_as}, not a non-empty string; {fix}")
    if key.endswith("_file"):
        try:
            secret = Path(value).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise _fault(source, f"{where}.{key}", f"cannot read {value}: {exc.strerror}") from None
        if not secret:
            raise _fault(source, f"{where}.{key}", f"{value} is empty; write the {name} into it")
        return secret
    if key.endswith("_env"):
        secret = env.get(value, "")
        if not secret:
            raise _fault(source, f"{where}.{key}", f"the variable {value} is not set; export it")
        return secret
    return value


def _known(source: str, where: str, entry: Mapping[str, Any], keys: tuple[str, ...]) -> None:
    for key in entry:
        if key not in keys:
            raise _fault(source, f"{where}.{key}", f"unknown key; an entry may set {', '.join(keys)}")


def _vk(source: str, entries: Any, env: Mapping[str, str]) -> dict[int, VkCommunity]:
    if not isinstance(entries, list):
        raise _fault(source, "vk", "is not an array of tables; write [[vk]] entries")
    out: dict[int, VkCommunity] = {}
    for i, entry in enumerate(entries):
        where = f"vk[{i}]"
        if not isinstance(entry, dict):
            raise _fault(source, where, "is not a table; write [[vk]] with keys under it")
        _known(source, where, entry, VK_KEYS)
        group_id = entry.get("group_id")
        if type(group_id) is not int or group_id <= 0:
            raise _fault(
                source,
                f"{where}.group_id",
                f"{group_id!r} is not the community's id, a positive number such as 48241",
            )
        if group_id in out:
            raise _fault(source, f"{where}.group_id", f"{group_id} is listed twice; keep one entry")
        public_id = entry.get("public_id", f"vk:-{group_id}")
        if not valid_public_id(public_id) or not str(public_id).startswith("vk:"):
            raise _fault(
                source, f"{where}.public_id", f"{public_id!r} is not a VK public_id such as vk:-{group_id}"
            )
        confirmation = entry.get("confirmation")
        if not isinstance(confirmation, str) or not confirmation:
            fix = "copy the string VK shows in the community's Callback API settings"
            raise _fault(source, f"{where}.confirmation", f"missing; {fix}")
        polled = any(key in entry for key in ("token", "token_file", "token_env"))
        token = _secret(source, where, entry, env, "token") if polled else None
        out[group_id] = VkCommunity(
            group_id, public_id, confirmation, _secret(source, where, entry, env), token
        )
    return out


def _chats(source: str, where: str, value: Any, platform: str) -> dict[int, str]:
    if not isinstance(value, dict) or not value:
        raise _fault(
            source,
            where,
            f'is not a table of chat ids to publics, such as {{ "-1001234567890" = "{platform}:name" }}',
        )
    out = {}
    for chat, public_id in value.items():
        try:
            chat_id = int(chat)
        except ValueError:
            raise _fault(source, f"{where}.{chat}", "is not a chat id (a whole number)") from None
        if not valid_public_id(public_id) or not str(public_id).startswith(f"{platform}:"):
            raise _fault(
                source, f"{where}.{chat}", f"{public_id!r} is not a public_id such as {platform}:mincult52"
            )
        out[chat_id] = public_id
    return out


def _bots(
    source: str, section: str, entries: Any, env: Mapping[str, str], chats_key: str
) -> list[tuple[str, str, dict[int, str]]]:
    if not isinstance(entries, list):
        raise _fault(source, section, f"is not an array of tables; write [[{section}]] entries")
    out = []
    names: set[str] = set()
    for i, entry in enumerate(entries):
        where = f"{section}[{i}]"
        if not isinstance(entry, dict):
            raise _fault(source, where, f"is not a table; write [[{section}]] with keys under it")
        _known(source, where, entry, ("name", chats_key, "secret", "secret_file", "secret_env"))
        name = entry.get("name")
        if not isinstance(name, str) or not NAME_RE.fullmatch(name):
            raise _fault(
                source, f"{where}.name", f"{name!r} is not a name for the URL path (letters, digits, _ and -)"
            )
        if name in names:
            raise _fault(source, f"{where}.name", f"{name!r} is used twice; each bot has its own path")
        names.add(name)
        platform = "tg" if section == "telegram" else "max"
        out.append(
            (
                name,
                _secret(source, where, entry, env),
                _chats(source, f"{where}.{chats_key}", entry.get(chats_key), platform),
            )
        )
    return out


OK_KEYS = (
    "name",
    "application_key",
    "groups",
    *("secret", "secret_file", "secret_env"),
    *("token", "token_file", "token_env"),
)


def _ok(source: str, entries: Any, env: Mapping[str, str]) -> dict[str, OkApp]:
    if not isinstance(entries, list):
        raise _fault(source, "ok", "is not an array of tables; write [[ok]] entries")
    out: dict[str, OkApp] = {}
    polled: set[str] = set()
    for i, entry in enumerate(entries):
        where = f"ok[{i}]"
        if not isinstance(entry, dict):
            raise _fault(source, where, "is not a table; write [[ok]] with keys under it")
        _known(source, where, entry, OK_KEYS)
        name = entry.get("name")
        if not isinstance(name, str) or not NAME_RE.fullmatch(name):
            raise _fault(source, f"{where}.name", f"{name!r} is not a name (letters, digits, _ and -)")
        if name in out:
            raise _fault(source, f"{where}.name", f"{name!r} is used twice; give each [[ok]] its own")
        key = entry.get("application_key")
        if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z0-9]{4,64}", key):
            raise _fault(
                source,
                f"{where}.application_key",
                "missing or not a key; copy the application's public key (e.g. CBAxxxxxxxxxxxxxx) from the "
                "letter OK sent when the application was registered",
            )
        groups = entry.get("groups")
        if not isinstance(groups, dict) or not groups:
            raise _fault(
                source,
                f"{where}.groups",
                'is not a table of group ids to publics, such as { "53038939046008" = "ok:mincult52" }',
            )
        for gid, public_id in groups.items():
            if not (gid.isascii() and gid.isdigit() and len(gid) <= 32):
                raise _fault(
                    source, f"{where}.groups.{gid}", "is not an OK group id (digits, as in ok.ru/group/<id>)"
                )
            if not valid_public_id(public_id) or not str(public_id).startswith("ok:"):
                raise _fault(
                    source, f"{where}.groups.{gid}", f"{public_id!r} is not a public_id such as ok:mincult52"
                )
            if gid in polled:
                raise _fault(
                    source, f"{where}.groups.{gid}", "is polled by another [[ok]] entry too; keep one"
                )
            polled.add(gid)
        out[name] = OkApp(
            name,
            key,
            _secret(source, where, entry, env),
            _secret(source, where, entry, env, "token"),
            dict(groups),
        )
    return out


def parse_config(data: bytes, source: str, env: Mapping[str, str] | None = None) -> BridgeConfig:
    """The bridge file ``source`` (its bytes ``data``), checked whole; secrets resolved from ``env``."""
    env = os.environ if env is None else env
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise _fault(source, "(file)", f"not valid TOML: {exc}") from None
    for key in doc:
        if key not in ("vk", "telegram", "max", "ok", "ids"):
            raise _fault(
                source,
                key,
                "unknown key; the file holds [[vk]], [[telegram]], [[max]] and [[ok]] entries and [ids]",
            )
    if not doc:
        raise _fault(
            source,
            "(file)",
            "no entries; add a [[vk]] community, a [[telegram]] or a [[max]] bot, or [[ok]] groups",
        )
    vk = _vk(source, doc.get("vk", []), env)
    telegram = {
        n: TelegramBot(n, s, c)
        for n, s, c in _bots(source, "telegram", doc.get("telegram", []), env, "channels")
    }
    max_bots = {n: MaxBot(n, s, c) for n, s, c in _bots(source, "max", doc.get("max", []), env, "chats")}
    return BridgeConfig(
        source,
        vk,
        telegram,
        max_bots,
        _id_key(source, doc.get("ids"), env, bool(max_bots)),
        _ok(source, doc.get("ok", []), env),
    )


def _id_key(source: str, ids: Any, env: Mapping[str, str], needed: bool) -> bytes | None:
    if ids is None:
        if needed:
            raise _fault(
                source,
                "ids",
                "missing; Max names subscribers by user id, so their event ids are keyed: add [ids] with "
                'key_env = "VARIABLE" (or key_file) holding a random secret of 32+ characters '
                "(e.g. openssl rand -hex 32), the same for every replica",
            )
        return None
    if not isinstance(ids, dict):
        raise _fault(source, "ids", "is not a table; write [ids] with key_env, key_file or key under it")
    _known(source, "ids", ids, ("key", "key_file", "key_env"))
    key = _secret(source, "ids", ids, env, "key")
    if len(key) < 32:
        raise _fault(
            source, "ids", f"the key has {len(key)} characters; give 32 or more (openssl rand -hex 32)"
        )
    return key.encode()


def read_config(path: Path, env: Mapping[str, str] | None = None) -> BridgeConfig:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BridgeConfigError(f"{path}: (file): cannot read it: {exc.strerror}") from None
    return parse_config(data, str(path), env)
