"""Reading a profiles file (the I/O edge of ``streams.core.profiles``), and watching it for changes."""

from __future__ import annotations

from pathlib import Path

from streams.core.profiles import Profiles, ProfilesError, parse_profiles


def read_profiles(path: Path) -> Profiles:
    """The checked profiles of ``path``; ``ProfilesError`` names the file, the key and the fix."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ProfilesError(
            f"{path}: cannot be read ({exc.strerror}); give an existing profiles file"
        ) from None
    return parse_profiles(data, str(path))
