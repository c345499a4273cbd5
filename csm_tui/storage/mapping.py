"""Mapping a file's column headers onto csm's fields, for the exports CSMs really have.

Headers are normalised (case, spaces, underscores, camelCase, a trailing "(USD)" or Salesforce
"__c") and looked up among each field's synonyms: HubSpot company exports ("Record ID",
"Company name", "Company owner", "Lifecycle Stage"), Salesforce account reports ("Account ID",
"Account Name", "Account Owner"), Zendesk ticket exports ("Id", "Organization", "Created at",
"Priority"), product-analytics usage exports and survey exports. `--map SRC=DEST` overrides.

Semantics matter more than spelling: a CRM's "Annual Revenue" is the customer company's own
revenue, not what it pays us, so it stays a custom attribute; ARR comes from "ARR", "Annual
recurring revenue", "Contract value"…. Unknown account columns are kept as custom attributes
(`accounts.custom`), never dropped; unknown columns of other kinds are listed as ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from csm_tui.errors import UsageError
from csm_tui.storage.kinds import ACCOUNT_NAME, ACCOUNT_REF, KINDS, Kind

#: Prefix that forces a column into the custom attributes (used by csm's own export on clashes).
CUSTOM_PREFIX = "custom."
#: Account pseudo-fields the importer turns into other records or into `status`.
MAU_TODAY, RENEWAL_HISTORY, CHURNED = "mau_today", "renewal_history", "churned"

_ACCOUNT_REF_SYNONYMS = (
    "account id",
    "account",
    "customer id",
    "company id",
    "organization id",
    "org id",
    "account number",
    "record id",
    "accountid",
    "customerid",
)
_ACCOUNT_NAME_SYNONYMS = (
    "account name",
    "organization",
    "organization name",
    "company",
    "company name",
    "customer",
    "customer name",
    "org",
    "organisation",
)

#: kind → field → synonyms (normalised), best first. A field's own name always matches first.
SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "accounts": {
        "id": (
            "account id",
            "record id",
            "company id",
            "customer id",
            "customerid",
            "accountid",
            "account number",
            "external id",
            "acct id",
            "account external id",
        ),
        "name": (
            "account name",
            "company name",
            "customer name",
            "company",
            "customer",
            "organization",
            "organization name",
            "account",
            "organisation",
        ),
        "owner": (
            "account owner",
            "company owner",
            "csm",
            "customer success manager",
            "csm owner",
            "hubspot owner",
            "owner name",
            "account owner name",
            "success manager",
            "assigned csm",
        ),
        "segment": ("customer segment", "market segment", "account segment"),
        "tier": ("coverage tier", "service tier", "support tier", "account tier", "csm tier"),
        "industry": ("industry vertical", "vertical"),
        "arr": (
            "annual recurring revenue",
            "arr usd",
            "contract value",
            "annual contract value",
            "acv",
            "recurring revenue",
            "current arr",
            "subscription value",
            "arr amount",
            "annual recurring revenue arr",
        ),
        "plan": ("subscription plan", "product plan", "pricing plan", "edition", "package"),
        "stage": (
            "lifecycle stage",
            "lifecycle",
            "customer stage",
            "journey stage",
            "lifecycle stage name",
        ),
        "start_date": (
            "customer since",
            "contract start date",
            "contract start",
            "become a customer date",
            "became a customer date",
            "subscription start",
        ),
        "renewal_date": (
            "contract expiration",
            "contract end date",
            "contract end",
            "contract expiration date",
            "expiration date",
            "next renewal date",
            "renewal",
            "subscription end date",
            "renewal due date",
        ),
        "status": ("account status", "customer status"),
        "seats": ("licensed seats", "licenses", "seat count", "number of seats", "licences"),
        "onboarding_pct": (
            "onboarding",
            "onboarding percent",
            "onboarding completion",
            "onboarding progress",
            "onboarding complete",
        ),
        "activated_on": (
            "activation date",
            "first value date",
            "go live date",
            "time to value date",
        ),
        "sponsor_engaged": ("executive sponsor engaged", "sponsor engagement"),
        "open_escalations": ("escalations", "open escalation count"),
        "health_score": ("health", "customer health score", "health score value"),
        "health_band": ("band", "health status", "health color"),
        "churn_prob": ("churn probability", "churn risk"),
        "risk_segment": ("risk", "risk level"),
        MAU_TODAY: ("usage metrics monthly active users", "monthly active users", "mau"),
        RENEWAL_HISTORY: ("renewal history",),
        CHURNED: ("churn", "churned", "has churned"),
    },
    "contacts": {
        "id": ("contact id", "record id"),
        "name": ("contact name", "full name", "contact"),
        "email": ("email address", "e mail", "work email"),
        "title": ("job title", "position"),
        "role": ("contact role", "stakeholder role", "persona"),
        "sentiment": ("contact sentiment",),
        "active": ("is active", "still active"),
        "left_on": ("left date", "departure date", "left company on"),
    },
    "usage": {
        "date": (
            "day",
            "snapshot date",
            "event date",
            "period",
            "week",
            "month",
            "as of",
            "report date",
        ),
        "seats": ("licensed seats", "licenses", "seat count"),
        "active_users": (
            "active users",
            "users active",
            "active user count",
            "monthly active users",
        ),
        "dau": ("daily active users", "avg dau", "average dau"),
        "mau": ("monthly active users mau", "avg mau"),
        "logins": ("sessions", "login count", "number of logins", "total sessions"),
        "features_used": ("core features used", "features adopted", "feature count"),
        "features_total": ("core features total", "features available", "total features"),
    },
    "tickets": {
        "id": ("ticket id", "ticket", "ticket number", "case number", "case id"),
        "subject": ("title", "summary", "ticket subject"),
        "opened_at": (
            "created at",
            "created",
            "opened",
            "date opened",
            "created date",
            "opened date",
            "submitted at",
        ),
        "severity": ("priority", "sev", "ticket priority"),
        "status": ("ticket status", "state"),
        "first_response_at": (
            "first response",
            "first replied at",
            "first reply at",
            "first response time",
        ),
        "resolved_at": ("solved at", "resolved", "closed at", "date closed", "solved"),
    },
    "nps": {
        "id": ("response id", "survey response id", "submission id"),
        "contact_id": ("contact", "respondent id"),
        "date": (
            "submitted at",
            "response date",
            "created at",
            "submitted",
            "survey date",
            "responded at",
            "timestamp",
        ),
        "kind": ("survey", "survey type", "type"),
        "score": (
            "nps",
            "nps score",
            "rating",
            "likelihood to recommend",
            "recommend score",
            "csat",
            "csat score",
        ),
        "comment": (
            "comments",
            "feedback",
            "reason",
            "why",
            "verbatim",
            "open text",
            "what is the reason for your score",
        ),
    },
    "timeline": {
        "id": ("event id", "activity id"),
        "at": ("date", "timestamp", "when", "occurred at", "activity date", "created at"),
        "kind": ("type", "activity type", "event type"),
        "text": ("note", "notes", "description", "body", "summary", "details"),
        "author": ("owner", "by", "user", "created by", "logged by"),
    },
    "renewals": {
        "id": ("renewal id", "opportunity id"),
        "due_date": ("due", "renewal date", "close date", "contract end date", "expiration date"),
        "arr_before": ("arr", "current arr", "arr before renewal", "amount"),
        "arr_after": ("new arr", "renewed arr", "arr after renewal"),
        "csm_call": ("call", "forecast", "forecast category", "csm forecast"),
        "outcome": ("result", "renewal outcome", "renewal status"),
        "closed_on": ("closed", "closed date", "date closed"),
    },
    "health": {
        "date": ("snapshot date", "as of"),
        "score": ("health score", "health"),
        "band": ("health band", "color"),
        "churn_prob": ("churn probability",),
    },
    "alerts": {"id": ("alert id",), "fired_at": ("fired", "raised at", "created at")},
    "save-plans": {"id": ("save plan id", "plan id")},
    "tasks": {"id": ("task id",), "title": ("task", "name", "subject"), "due_date": ("due",)},
    "objectives": {"id": ("objective id",), "title": ("objective", "name")},
}

#: Survey tools name columns after the question: match these by how the header starts.
PREFIXES: dict[str, dict[str, tuple[str, ...]]] = {
    "nps": {
        "score": ("how likely", "on a scale", "likelihood to recommend"),
        "comment": (
            "what is the reason",
            "why did you",
            "what could we",
            "what is the primary reason",
            "tell us why",
        ),
    },
}
_PREFIX_RANK = 100  # behind every exact synonym


@dataclass
class ColumnMap:
    """How a file's columns map: header → field, plus the custom and ignored columns."""

    fields: dict[str, str] = field(default_factory=dict)  # header → field name
    custom: dict[str, str] = field(default_factory=dict)  # header → custom attribute key
    ignored: list[str] = field(default_factory=list)

    def header_for(self, field_name: str) -> str | None:
        """The header mapped onto `field_name`, if any."""
        return next((h for h, f in self.fields.items() if f == field_name), None)


def normalise_header(header: str) -> str:
    """ "Company_Name", "companyName", "Company name " → "company name"; drops "(USD)", "__c"."""
    text = re.sub(r"__c$", "", header.strip())
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text)  # camelCase → camel Case
    text = re.sub(r"[^0-9a-zA-Z]+", " ", text.lower())
    return text.strip()


def _without_unit(header: str) -> str:
    return normalise_header(re.sub(r"\s*[(\[][^)\]]*[)\]]\s*$", "", header))


def field_synonyms(kind: Kind) -> dict[str, tuple[str, ...]]:
    """Every mappable field of `kind` with its synonyms, the field's own name first."""
    table = {f.name: (normalise_header(f.name),) for f in kind.fields}
    for name, words in SYNONYMS.get(kind.name, {}).items():
        table[name] = table.get(name, (normalise_header(name),)) + words
    if kind.has_account:
        table[ACCOUNT_REF] = (normalise_header(ACCOUNT_REF),) + _ACCOUNT_REF_SYNONYMS
        table[ACCOUNT_NAME] = (normalise_header(ACCOUNT_NAME),) + _ACCOUNT_NAME_SYNONYMS
    return table


def _best_match(
    header: str,
    table: dict[str, tuple[str, ...]],
    prefixes: dict[str, tuple[str, ...]] | None = None,
) -> tuple[str, int] | None:
    best: tuple[str, int] | None = None
    for form in dict.fromkeys((normalise_header(header), _without_unit(header))):
        for name, words in table.items():
            if form in words:
                rank = words.index(form)
                if best is None or rank < best[1]:
                    best = (name, rank)
    if best is None:
        form = normalise_header(header)
        for name, starts in (prefixes or {}).items():
            if any(form.startswith(start) for start in starts):
                return name, _PREFIX_RANK
    return best


def map_headers(
    kind: Kind, headers: list[str], overrides: dict[str, str] | None = None
) -> ColumnMap:
    """Map `headers` onto `kind`'s fields; `overrides` ({SRC: DEST}) come from `--map`."""
    overrides = _checked_overrides(kind, headers, overrides or {})
    table = field_synonyms(kind)
    claims: dict[str, tuple[int, int, str]] = {}  # field → (rank, position, header)
    result = ColumnMap()
    for position, header in enumerate(headers):
        if header in overrides:
            continue
        if header.startswith(CUSTOM_PREFIX):
            continue
        match = _best_match(header, table, PREFIXES.get(kind.name))
        if match and (match[0] not in claims or (match[1], position) < claims[match[0]][:2]):
            claims[match[0]] = (match[1], position, header)
    chosen = {header: name for name, (_, _, header) in claims.items()}
    for header in headers:
        dest = overrides.get(header) or chosen.get(header)
        if dest and dest != "custom":
            result.fields[header] = dest
        elif kind.name == "accounts":
            result.custom[header] = header.removeprefix(CUSTOM_PREFIX)
        else:
            result.ignored.append(header)
    _drop_overridden_duplicates(result, overrides)
    return result


def _drop_overridden_duplicates(result: ColumnMap, overrides: dict[str, str]) -> None:
    """A `--map` onto a field wins over an automatic match of another column to it."""
    forced = {dest for dest in overrides.values() if dest != "custom"}
    for header, name in list(result.fields.items()):
        if name in forced and header not in overrides:
            del result.fields[header]
            result.ignored.append(header)


def _checked_overrides(kind: Kind, headers: list[str], overrides: dict[str, str]) -> dict[str, str]:
    table = field_synonyms(kind)
    checked = {}
    for source, dest in overrides.items():
        if source not in headers:
            raise UsageError(
                f"--map {source}={dest}: the file has no column {source!r} "
                f"(its columns: {', '.join(headers)})"
            )
        name = dest.strip().lower().replace(" ", "_")
        if name not in table and name != "custom":
            fields = ", ".join(sorted(n for n in table if not n.startswith(("mau_", "renewal_h"))))
            raise UsageError(
                f"--map {source}={dest}: {kind.name} have no field {dest!r} "
                f"(fields: {fields}, or 'custom' to keep it as a custom attribute)"
            )
        checked[source] = name
    return checked


def parse_map_options(options: list[str] | None) -> dict[str, str]:
    """`["Company=name", …]` → {"Company": "name"}; a missing '=' is a usage error."""
    result = {}
    for option in options or []:
        source, sep, dest = option.partition("=")
        if not sep or not source.strip() or not dest.strip():
            raise UsageError(
                f"--map {option!r}: write it as SOURCE_COLUMN=FIELD, e.g. --map 'Client Name=name'"
            )
        result[source.strip()] = dest.strip()
    return result


def custom_column_name(key: str) -> str:
    """The export header for custom attribute `key`: plain, unless it would map onto a field."""
    if _best_match(key, field_synonyms(KINDS["accounts"])) is not None:
        return CUSTOM_PREFIX + key
    return key
