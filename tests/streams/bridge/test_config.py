"""The bridge's file: secrets from the environment, a file or the file itself; every fault named."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.bridge.config import BridgeConfigError, parse_config, read_config

REPO = Path(__file__).resolve().parents[3]

#: An [[ok]] entry but for its groups.
OK_ENTRY = "[[ok]]\nname = 'o'\napplication_key = 'CBA1'\nsecret = 's'\ntoken = 't'\n"


def test_the_shipped_file_reads_with_its_secret_in_the_environment() -> None:
    config = read_config(REPO / "deploy/bridge/bridge.toml", env={"GOSPULSE_VK_SECRET_48241": "s3cret"})
    community = config.vk[48241]
    assert (community.public_id, community.confirmation, community.secret) == (
        "vk:-48241",
        "a1b2c3d4",
        "s3cret",
    )
    assert "s3cret" not in repr(community)  # a secret never lands in a log line by accident


def test_secrets_from_a_file_or_inline_and_telegram_and_max_bots(tmp_path: Path) -> None:
    secret = tmp_path / "vk-1"
    secret.write_text("from-file\n")
    text = f"""
[[vk]]
group_id = 1
secret_file = "{secret}"
confirmation = "c"

[[vk]]
group_id = 2
secret = "inline"
confirmation = "c"

[[telegram]]
name = "mincult"
secret = "t"
channels = {{ "-1001234567890" = "tg:mincult52" }}

[[max]]
name = "mincult"
secret = "m"
chats = {{ "-68123" = "max:mincult" }}

[ids]
key_env = "GOSPULSE_ID_KEY"
"""
    config = parse_config(text.encode(), "b.toml", env={"GOSPULSE_ID_KEY": "k" * 32})
    assert config.vk[1].secret == "from-file" and config.vk[1].public_id == "vk:-1"
    assert config.vk[2].secret == "inline"
    assert config.telegram["mincult"].channels == {-1001234567890: "tg:mincult52"}
    assert config.max["mincult"].chats == {-68123: "max:mincult"}
    assert config.id_key == b"k" * 32 and b"k" * 32 not in repr(config).encode()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "b.toml: (file): no entries; add a [[vk]] community"),
        ("[[vk]]\ngroup_id = 1\nconfirmation = 'c'\n", "b.toml: vk[0]: no secret; give one of secret_env"),
        (
            "[[vk]]\ngroup_id = 1\nconfirmation = 'c'\nsecret_env = 'MISSING'\n",
            "b.toml: vk[0].secret_env: the variable MISSING is not set; export it",
        ),
        (
            "[[vk]]\ngroup_id = 1\nconfirmation = 'c'\nsecret = 'a'\nsecret_env = 'B'\n",
            "b.toml: vk[0]: more than one of secret, secret_env",
        ),
        ("[[vk]]\ngroup_id = -5\nconfirmation = 'c'\nsecret = 'a'\n", "b.toml: vk[0].group_id: -5 is not"),
        (
            "[[vk]]\ngroup_id = 5\nsecret = 'a'\n",
            "b.toml: vk[0].confirmation: missing; copy the string VK shows",
        ),
        ("[[vk]]\ngroup_id = 5\nconfirmation = 'c'\nsecret = 'a'\npublic_id = 'tg:x'\n", "vk[0].public_id"),
        ("[[vk]]\ngroup_id = 5\nconfirmation = 'c'\nsecret = 'a'\ntokn = 'x'\n", "vk[0].tokn: unknown key"),
        (
            "[[vk]]\ngroup_id = 5\nconfirmation = 'c'\nsecret = 'a'\ntoken_env = 'NO_SUCH'\n",
            "b.toml: vk[0].token_env: the variable NO_SUCH is not set; export it",
        ),
        ("[vk]\n", "b.toml: vk: is not an array of tables"),
        ("[[telegram]]\nname = 'a b'\nsecret = 's'\n", "telegram[0].name: 'a b' is not a name"),
        ("okay = 1\n", "b.toml: okay: unknown key"),
        ("ok = 1\n", "b.toml: ok: is not an array of tables; write [[ok]] entries"),
        (
            OK_ENTRY + "groups = { 'g1' = 'ok:a' }\n",
            "ok[0].groups.g1: is not an OK group id",
        ),
        (
            "[[ok]]\nname = 'o'\napplication_key = 'CBA1'\nsecret = 's'\ngroups = { '1' = 'ok:a' }\n",
            "ok[0]: no token; give one of token_env",
        ),
        (
            OK_ENTRY + "groups = { '1' = 'vk:-1' }\n",
            "ok[0].groups.1: 'vk:-1' is not a public_id such as ok:mincult52",
        ),
        (
            "[[max]]\nname = 'm'\nsecret = 's'\nchats = { '-1' = 'max:m' }\n",
            "b.toml: ids: missing; Max names",
        ),
        (
            "[[max]]\nname = 'm'\nsecret = 's'\nchats = { '-1' = 'max:m' }\n[ids]\nkey = 'short'\n",
            "b.toml: ids: the key has 5 characters; give 32 or more",
        ),
    ],
)
def test_a_fault_names_the_file_the_key_and_the_fix(text: str, message: str) -> None:
    with pytest.raises(BridgeConfigError) as raised:
        parse_config(text.encode(), "b.toml", env={})
    assert str(raised.value).startswith(message) or message in str(raised.value), str(raised.value)


def test_the_pollers_token_comes_from_the_environment_or_a_file(tmp_path: Path) -> None:
    """The documented ``token_env`` (and ``token_file``) for the VK poller: read, never shown."""
    token = tmp_path / "vk-token"
    token.write_text("from-file\n")
    text = f"""
[[vk]]
group_id = 1
confirmation = "c"
secret = "s"
token_env = "GOSPULSE_VK_TOKEN"

[[vk]]
group_id = 2
confirmation = "c"
secret = "s"
token_file = "{token}"
"""
    config = parse_config(text.encode(), "b.toml", env={"GOSPULSE_VK_TOKEN": "from-env"})
    assert (config.vk[1].token, config.vk[2].token) == ("from-env", "from-file")
    assert "from-env" not in repr(config.vk[1])


@pytest.mark.parametrize("given", ["12345678", "['abc', 'def']", "''"])
def test_a_secret_of_the_wrong_type_is_refused_without_being_echoed(given: str) -> None:
    text = f"[[vk]]\ngroup_id = 1\nconfirmation = 'c'\nsecret = {given}\n"
    with pytest.raises(BridgeConfigError) as raised:
        parse_config(text.encode(), "b.toml", env={})
    message = str(raised.value)
    assert message.startswith("b.toml: vk[0].secret: is ") and "not a non-empty string" in message
    assert "12345678" not in message and "abc" not in message
