"""The kinds of record csm imports and exports: table, natural key, columns and validation.

One `Kind` per `csm import --kind` / `csm export KIND`. `convert_record` turns a record whose
keys are already field names (see `mapping.py`) into a row for the table, collecting every
problem as (field, message) so the importer can report all bad rows at once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from csm_tui.storage import parse
from csm_tui.storage.parse import ValueProblem

#: Field types understood by `convert_value`.
TEXT, MONEY, NUMBER, INT, PERCENT, FRACTION, BOOL, DATE, TIMESTAMP, JSON_VALUE, CHOICE = (
    "text",
    "money",
    "number",
    "int",
    "percent",
    "fraction",
    "bool",
    "date",
    "timestamp",
    "json",
    "choice",
)
#: The pseudo-fields naming the account a row belongs to (resolved by the importer).
ACCOUNT_REF, ACCOUNT_NAME = "account_id", "account_name"


@dataclass(frozen=True)
class Field:
    """One column of a kind: how to parse it and what makes it valid."""

    name: str
    type: str = TEXT
    required: bool = False
    low: float | None = None
    high: float | None = None
    choices: dict[str, str] | None = None
    default: object = None  # stored when the cell is empty (NOT NULL columns)


@dataclass(frozen=True)
class Kind:
    """A kind of record: where it lives and how it is identified."""

    name: str
    table: str
    noun: str  # plural, for messages: "usage snapshots"
    key: tuple[str, ...]
    fields: tuple[Field, ...]
    id_prefix: str | None = None  # when the id is missing, derive a stable one from `id_from`
    id_from: tuple[str, ...] = ()
    order_by: str = "rowid"
    check: Callable[[dict], list[tuple[str, str]]] | None = None

    @property
    def has_account(self) -> bool:
        """Rows of this kind belong to an account (referenced by id or exact name)."""
        return self.name != "accounts"

    def field(self, name: str) -> Field | None:
        """The field called `name`, if the kind has one."""
        return next((f for f in self.fields if f.name == name), None)

    @property
    def columns(self) -> list[str]:
        """Table columns written by an import, in export order."""
        return [f.name for f in self.fields]


def _choices(*groups: tuple[str, ...]) -> dict[str, str]:
    """{label: value} where each group is (value, synonym, …)."""
    return {label: group[0] for group in groups for label in group}


STATUS = _choices(
    ("active", "customer", "live", "current", "open"),
    ("churned", "cancelled", "canceled", "lost", "inactive", "former customer"),
)
ROLES = _choices(
    ("champion", "advocate"),
    ("sponsor", "executive sponsor", "exec sponsor", "economic buyer", "decision maker"),
    ("user", "end user", "member", "power user", "influencer", "contact"),
    ("admin", "administrator", "it admin", "system administrator"),
)
SENTIMENT = _choices(
    ("positive", "happy", "promoter"), ("neutral", "passive"), ("negative", "unhappy", "detractor")
)
TICKET_STATUS = _choices(
    ("open", "new"), ("pending", "hold", "on hold"), ("solved", "resolved"), ("closed",)
)
SEVERITY = _choices(
    ("1", "urgent", "critical", "p1", "sev1", "sev 1", "blocker"),
    ("2", "high", "p2", "sev2", "sev 2", "major"),
    ("3", "normal", "medium", "p3", "sev3", "sev 3"),
    ("4", "low", "p4", "sev4", "sev 4", "minor"),
)
RESPONSE_KIND = _choices(("nps",), ("csat",))
EVENT_KIND = _choices(
    ("call", "phone call", "phone"),
    ("meeting", "visit"),
    ("email", "e mail", "mail"),
    ("note",),
    ("qbr", "business review", "ebr"),
    ("system",),
)
CSM_CALL = _choices(
    ("commit", "committed"),
    ("likely", "best case"),
    ("at_risk", "at risk", "risk"),
    ("lost", "omitted"),
)
OUTCOME = _choices(
    ("renewed",), ("churned",), ("downgraded", "contraction"), ("expanded", "expansion", "upsell")
)
BAND = _choices(("green",), ("yellow", "amber"), ("red",), ("insufficient", "insufficient data"))
LEVEL = _choices(("high",), ("medium",), ("low",))
ALERT_STATUS = _choices(("open",), ("snoozed",), ("done", "closed"))
PLAN_STATUS = _choices(("open",), ("saved",), ("lost",))
OBJECTIVE_STATUS = _choices(
    ("on_track", "on track"), ("at_risk", "at risk"), ("off_track", "off track"), ("done",)
)

_ACCOUNT = Field(ACCOUNT_REF, required=True)


def _response_check(row: dict) -> list[tuple[str, str]]:
    score, kind = row.get("score"), row.get("kind") or "nps"
    low, high = (0, 10) if kind == "nps" else (1, 5)
    if score is not None and not low <= score <= high:
        return [
            ("score", f"{kind.upper()} score {parse._fmt(score)} is out of range ({low}–{high})")
        ]
    return []


def _accounts_check(row: dict) -> list[tuple[str, str]]:
    if not row.get("id") and not row.get("name"):
        return [("id", "missing (give the account an id or a name)")]
    return []


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            "accounts",
            "accounts",
            "accounts",
            ("id",),
            (
                Field("id"),
                Field("name"),
                Field("segment"),
                Field("tier"),
                Field("owner"),
                Field("industry"),
                Field("arr", MONEY, low=0, default=0.0),
                Field("plan"),
                Field("stage"),
                Field("start_date", DATE),
                Field("renewal_date", DATE),
                Field("status", CHOICE, choices=STATUS, default="active"),
                Field("seats", INT, low=0),
                Field("onboarding_pct", PERCENT, low=0, high=100),
                Field("activated_on", DATE),
                Field("sponsor_engaged", BOOL),
                Field("open_escalations", INT, low=0, default=0),
                # the scoring engine's current scores: imported as given, recomputed by the
                # rescore that follows an import
                Field("health_score", NUMBER, low=0, high=100),
                Field("health_band", CHOICE, choices=BAND),
                Field("churn_prob", FRACTION, low=0, high=1),
                Field("risk_segment", CHOICE, choices=LEVEL),
            ),
            order_by="id",
            check=_accounts_check,
        ),
        Kind(
            "contacts",
            "contacts",
            "contacts",
            ("id",),
            (
                Field("id"),
                _ACCOUNT,
                Field("name", required=True),
                Field("email"),
                Field("title"),
                Field("role", CHOICE, choices=ROLES, default="user"),
                Field("sentiment", CHOICE, choices=SENTIMENT),
                Field("active", BOOL, default=True),
                Field("left_on", DATE),
            ),
            id_prefix="CT",
            id_from=("account_id", "email", "name"),
            order_by="account_id, id",
        ),
        Kind(
            "usage",
            "usage",
            "usage snapshots",
            ("account_id", "date"),
            (
                _ACCOUNT,
                Field("date", DATE, required=True),
                Field("seats", INT, low=0),
                Field("active_users", INT, low=0),
                Field("dau", NUMBER, low=0),
                Field("mau", NUMBER, low=0),
                Field("logins", INT, low=0),
                Field("features_used", INT, low=0),
                Field("features_total", INT, low=0),
            ),
            order_by="account_id, date",
        ),
        Kind(
            "tickets",
            "tickets",
            "tickets",
            ("id",),
            (
                Field("id", required=True),
                _ACCOUNT,
                Field("subject"),
                Field("opened_at", TIMESTAMP, required=True),
                Field("severity", CHOICE, choices=SEVERITY, default=3),
                Field("status", CHOICE, choices=TICKET_STATUS, default="open"),
                Field("first_response_at", TIMESTAMP),
                Field("resolved_at", TIMESTAMP),
            ),
            order_by="account_id, opened_at, id",
        ),
        Kind(
            "nps",
            "responses",
            "survey responses",
            ("id",),
            (
                Field("id"),
                _ACCOUNT,
                Field("contact_id"),
                Field("date", DATE, required=True),
                Field("kind", CHOICE, choices=RESPONSE_KIND, default="nps"),
                Field("score", NUMBER, required=True, low=0, high=10),
                Field("comment"),
            ),
            id_prefix="NPS",
            id_from=("account_id", "date", "kind", "score", "comment"),
            order_by="account_id, date, id",
            check=_response_check,
        ),
        Kind(
            "timeline",
            "events",
            "timeline events",
            ("id",),
            (
                Field("id"),
                _ACCOUNT,
                Field("at", TIMESTAMP, required=True),
                Field("kind", CHOICE, required=True, choices=EVENT_KIND),
                Field("text", default=""),
                Field("author"),
            ),
            id_prefix="EV",
            id_from=("account_id", "at", "kind", "text"),
            order_by="account_id, at, id",
        ),
        Kind(
            "renewals",
            "renewals",
            "renewals",
            ("id",),
            (
                Field("id"),
                _ACCOUNT,
                Field("due_date", DATE, required=True),
                Field("arr_before", MONEY, low=0, default=0.0),
                Field("arr_after", MONEY, low=0),
                Field("csm_call", CHOICE, choices=CSM_CALL),
                Field("outcome", CHOICE, choices=OUTCOME),
                Field("closed_on", DATE),
            ),
            id_prefix="RN",
            id_from=("account_id", "due_date"),
            order_by="account_id, due_date, id",
        ),
        Kind(
            "health",
            "health",
            "health snapshots",
            ("account_id", "date"),
            (
                _ACCOUNT,
                Field("date", DATE, required=True),
                Field("score", NUMBER, low=0, high=100),
                Field("band", CHOICE, required=True, choices=BAND),
                Field("usage", NUMBER, low=0, high=100),
                Field("engagement", NUMBER, low=0, high=100),
                Field("outcomes", NUMBER, low=0, high=100),
                Field("sentiment", NUMBER, low=0, high=100),
                Field("churn_prob", FRACTION, low=0, high=1),
                Field("explain", JSON_VALUE),
            ),
            order_by="account_id, date",
        ),
        Kind(
            "alerts",
            "alerts",
            "alerts",
            ("id",),
            (
                Field("id", INT, low=1),
                _ACCOUNT,
                Field("rule", required=True),
                Field("severity", CHOICE, required=True, choices=LEVEL),
                Field("status", CHOICE, choices=ALERT_STATUS, default="open"),
                Field("fired_at", TIMESTAMP, required=True),
                Field("reason", required=True),
                Field("detail", JSON_VALUE, default="{}"),
                Field("closed_at", TIMESTAMP),
                Field("close_reason"),
                Field("snoozed_until", DATE),
                Field("snooze_reason"),
                Field("condition_cleared", BOOL, default=False),
            ),
            order_by="id",
        ),
        Kind(
            "save-plans",
            "save_plans",
            "save plans",
            ("id",),
            (
                Field("id"),
                _ACCOUNT,
                Field("alert_id", INT, low=1),
                Field("risk_level", CHOICE, required=True, choices=LEVEL),
                Field("reasons", JSON_VALUE, default="[]"),
                Field("owner"),
                Field("sponsor"),
                Field("target_date", DATE),
                Field("success_criteria", default=""),
                Field("status", CHOICE, choices=PLAN_STATUS, default="open"),
                Field("created_at", TIMESTAMP),
                Field("closed_at", TIMESTAMP),
                Field("lessons"),
            ),
            id_prefix="SP",
            id_from=("account_id", "created_at", "risk_level"),
            order_by="account_id, id",
        ),
        Kind(
            "tasks",
            "tasks",
            "tasks",
            ("id",),
            (
                Field("id"),
                _ACCOUNT,
                Field("title", required=True),
                Field("due_date", DATE),
                Field("done", BOOL, default=False),
                Field("done_at", TIMESTAMP),
                Field("playbook_id"),
                Field("save_plan_id"),
                Field("created_at", TIMESTAMP),
            ),
            id_prefix="TK",
            id_from=("account_id", "title", "due_date"),
            order_by="account_id, due_date, id",
        ),
        Kind(
            "objectives",
            "objectives",
            "objectives",
            ("id",),
            (
                Field("id"),
                _ACCOUNT,
                Field("title", required=True),
                Field("baseline", NUMBER),
                Field("target", NUMBER),
                Field("current", NUMBER),
                Field("unit"),
                Field("due_date", DATE),
                Field("status", CHOICE, choices=OBJECTIVE_STATUS, default="on_track"),
            ),
            id_prefix="OB",
            id_from=("account_id", "title"),
            order_by="account_id, id",
        ),
    )
}

#: Import order for rebuilding a book: accounts first, then what refers to earlier kinds, with
#: every kind the health score reads before the scoring output (health, alerts) and what
#: refers to alerts (save plans, then their tasks).
IMPORT_ORDER = (
    "accounts",
    "contacts",
    "usage",
    "tickets",
    "nps",
    "timeline",
    "renewals",
    "objectives",
    "health",
    "alerts",
    "save-plans",
    "tasks",
)
#: Kinds the health score and alert rules read: importing one triggers a full rescore. Health,
#: alerts, save plans and tasks do not feed the score, so importing them keeps the book's (or
#: the file's) scores and alerts exactly as they are — which also makes rebuilding a book from
#: its exports, in IMPORT_ORDER, give back the same health history and alerts.
SCORED_KINDS = IMPORT_ORDER[: IMPORT_ORDER.index("health")]
#: Columns filled at import time when a file leaves them empty.
NOW_DEFAULTS = {("save-plans", "created_at"), ("tasks", "created_at")}


def kind_named(name: str) -> Kind:
    """The kind called `name` (as typed on the command line), or a UsageError listing them."""
    from csm_tui.errors import UsageError

    wanted = name.strip().lower().replace("_", "-") if name else ""
    kind = KINDS.get(wanted) or next(  # the table's name works too: responses, events
        (k for k in KINDS.values() if k.table.replace("_", "-") == wanted), None
    )
    if kind is None:
        raise UsageError(f"unknown kind {name!r}; use one of: {', '.join(IMPORT_ORDER)}")
    return kind


def convert_value(spec: Field, value: object, date_order: str | None = None) -> object:
    """Parse one cell for `spec`, raising ValueProblem with a message fit for the user."""
    if spec.type == TEXT:
        return parse.parse_text(value)
    if spec.type in (MONEY, NUMBER, INT, PERCENT, FRACTION):
        return _convert_number(spec, value)
    if spec.type == BOOL:
        flag = parse.parse_bool(value)
        return None if flag is None else int(flag)
    if spec.type == DATE:
        day = parse.parse_date(value, date_order)
        return day.isoformat() if day else None
    if spec.type == TIMESTAMP:
        stamp = parse.parse_timestamp(value, date_order)
        return stamp.isoformat(timespec="seconds") if stamp else None
    if spec.type == JSON_VALUE:
        return _convert_json(value)
    if spec.type == CHOICE:
        picked = parse.choice(value, spec.choices or {}, spec.name.replace("_", " "))
        return int(picked) if picked and picked.isdigit() else picked
    raise AssertionError(f"unknown field type {spec.type}")


_NUMBER_PARSERS = {
    MONEY: parse.parse_money,
    NUMBER: parse.parse_number,
    INT: parse.parse_int,
    PERCENT: parse.parse_percent,
    FRACTION: lambda v: parse.parse_percent(v, fraction=True),
}


def _convert_number(spec: Field, value: object) -> float | int | None:
    number = _NUMBER_PARSERS[spec.type](value)
    if number is None:
        return None
    if spec.low is not None and number < spec.low:
        bound = "negative" if spec.low == 0 else f"below {parse._fmt(spec.low)}"
        raise ValueProblem(f"cannot be {bound} (got {parse._fmt(number)})")
    if spec.high is not None and number > spec.high:
        raise ValueProblem(
            f"{parse._fmt(number)} is out of range "
            f"({parse._fmt(spec.low or 0)}–{parse._fmt(spec.high)})"
        )
    return number


def _convert_json(value: object) -> str | None:
    if parse.blank(value):
        return None
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    try:
        return json.dumps(json.loads(str(value)), ensure_ascii=False)
    except json.JSONDecodeError:
        raise ValueProblem(f"{str(value)[:40]!r} is not valid JSON") from None


def convert_record(
    kind: Kind, record: dict[str, object], date_orders: dict[str, str]
) -> tuple[dict[str, object], list[tuple[str, str]]]:
    """Parse and validate one record (keys = field names) → (row, [(field, problem)…]).

    Only fields present in the record end up in the row, so an update leaves other columns
    alone; empty cells of NOT NULL columns take their default.
    """
    row: dict[str, object] = {}
    problems: list[tuple[str, str]] = []
    for spec in kind.fields:
        if spec.name not in record or spec.name == ACCOUNT_REF:
            continue
        try:
            value = convert_value(spec, record[spec.name], date_orders.get(spec.name))
        except ValueProblem as exc:
            problems.append((spec.name, str(exc)))
            continue
        if value is None and spec.required:
            problems.append((spec.name, "missing (this column is required)"))
        row[spec.name] = spec.default if value is None else value
    for spec in kind.fields:
        if spec.required and spec.name not in record and spec.name != ACCOUNT_REF:
            problems.append((spec.name, "missing (this column is required)"))
    if not problems and kind.check:
        problems.extend(kind.check(row))
    return row, problems


def derived_id(kind: Kind, row: dict[str, object]) -> str:
    """A stable id for a row that has none, so re-importing the same file never duplicates."""
    basis = json.dumps([row.get(name) for name in kind.id_from], default=str)
    return f"{kind.id_prefix}-{hashlib.sha1(basis.encode()).hexdigest()[:12]}"
