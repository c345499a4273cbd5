"""The user's keymap: `config_dir()/keymap.toml` maps binding ids to keys.

    # ~/.config/csm/keymap.toml
    "portfolio.filter" = "f"
    "app.alerts" = "a,2"

Every binding in csm has a stable id (shown on the help screen, `?`), so any key can be moved.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from csm_tui.errors import ConfigError
from csm_tui.paths import config_dir


def keymap_path() -> Path:
    """Where the user's keymap lives."""
    return config_dir() / "keymap.toml"


def load_keymap(path: Path | None = None) -> dict[str, str]:
    """Binding id → keys from the keymap file ({} when there is none).

    Raises ConfigError naming the file (and line, for TOML syntax errors) when it is invalid.
    """
    path = path or keymap_path()
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); using the default keys") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{path}: cannot read the keymap ({exc}); using the default keys"
        ) from None
    keymap = data.get("keys", data)  # a [keys] table or top-level entries
    bad = [k for k, v in keymap.items() if not isinstance(v, str) or not v.strip()]
    if bad:
        raise ConfigError(
            f'{path}: {bad[0]}: a key must be text such as "f" or "ctrl+f,f2"; '
            "using the default keys"
        )
    return {binding_id: keys.replace(" ", "") for binding_id, keys in keymap.items()}
