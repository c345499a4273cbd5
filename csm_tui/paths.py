"""Where csm keeps the user's book, its demo book, its model and its configuration.

Customer data is private: the data directory is created 0700 and every file we create in it
0600, whatever the user's umask (SQLite gives -wal/-shm the database file's own mode).
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "csm"


def data_dir() -> Path:
    """The directory that holds the user's databases and models."""
    override = os.environ.get("CSM_DATA_DIR")
    if override:
        return Path(override)
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    """The directory that holds `scoring.toml` and the keymap."""
    override = os.environ.get("CSM_CONFIG_DIR")
    if override:
        return Path(override)
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_NAME, appauthor=False))


def default_db_path() -> Path:
    """`CSM_DB` if set, else the user's book in the data directory."""
    env = os.environ.get("CSM_DB")
    return Path(env) if env else data_dir() / "csm.db"


def demo_db_path() -> Path:
    """The demo book lives in its own file, never mixed with the user's data."""
    return data_dir() / "demo.db"


def scoring_config_path() -> Path:
    """The user's scoring configuration (weights, transforms, bands, alert thresholds)."""
    return config_dir() / "scoring.toml"


def model_path_for(db_path: Path) -> Path:
    """The churn model trained on a book is stored beside that book's database."""
    return db_path.with_name(db_path.stem + ".model.pkl")


def ensure_private_dir(path: Path) -> None:
    """Create `path` (and parents) if needed; a directory we create is 0700."""
    if not path.exists():
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, 0o700)


def create_private_file(path: Path) -> None:
    """Create an empty file with mode 0600 before anything else opens it (no umask race)."""
    ensure_private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def make_private(path: Path) -> None:
    """Tighten an existing file to 0600 (used after writing backups, models, exports)."""
    try:
        os.chmod(path, 0o600)
    except OSError:
        pass
