"""Errors a user can act on. Each carries a message fit to print as is, and an exit code."""

from __future__ import annotations


class CsmError(Exception):
    """An error whose message is shown to the user as is (no traceback)."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(CsmError):
    """The command was called wrongly (unknown kind, bad option value)."""

    exit_code = 2


class DatabaseError(CsmError):
    """The book's database cannot be opened or used (not SQLite, corrupt, newer, read-only…)."""


class BusyError(DatabaseError):
    """Another csm process kept the book busy for longer than we are willing to wait."""


class ImportRejected(CsmError):
    """An import found bad rows; nothing was written. `problems` lists `FILE:ROW: field: problem`."""

    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems


class ConfigError(CsmError):
    """The scoring configuration file is invalid; the message names the key (and line)."""


class NotFound(CsmError):
    """An account (or other record) named by the user does not exist."""


class ValidationError(CsmError):
    """An edit's value is invalid; `field` names what to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.problem = message
