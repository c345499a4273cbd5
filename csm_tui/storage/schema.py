"""The book's schema and its ordered migrations (`PRAGMA user_version`).

Opening an older file migrates it in one transaction; a file from a newer csm is refused.
Columns prefixed `health_`/`churn_`/`risk_` on `accounts` are the current scores, denormalised
so the portfolio table reads one indexed table a window at a time. Since v8 the scores that move
every day (the health score, its 7- and 30-day changes, when it was scored) live in the narrow
`account_health` table instead; the view `scored_accounts` shows an account with all of them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from csm_tui import __version__
from csm_tui.errors import DatabaseError

V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);

CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    segment TEXT,                      -- SMB / Mid-Market / Enterprise
    tier TEXT,                         -- coverage tier: Strategic / Core / Scale
    owner TEXT,
    industry TEXT,
    arr REAL NOT NULL DEFAULT 0 CHECK (arr >= 0),
    plan TEXT,
    stage TEXT,                        -- onboarding / adoption / growth / renewal / churned
    start_date TEXT,
    renewal_date TEXT,
    status TEXT NOT NULL DEFAULT 'active',   -- active / churned
    seats INTEGER CHECK (seats IS NULL OR seats >= 0),   -- licensed seats
    onboarding_pct REAL CHECK (onboarding_pct IS NULL OR onboarding_pct BETWEEN 0 AND 100),
    activated_on TEXT,                 -- first value reached (time to value)
    sponsor_engaged INTEGER,           -- 1 / 0 / NULL unknown
    open_escalations INTEGER NOT NULL DEFAULT 0,
    custom TEXT NOT NULL DEFAULT '{}', -- custom attributes (JSON object)
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S','now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S','now')),
    -- current scores (written by the scoring engine)
    health_score REAL,
    health_band TEXT,                  -- green / yellow / red / insufficient
    health_delta_7 REAL,
    health_delta_30 REAL,
    churn_prob REAL,
    risk_segment TEXT,                 -- high / medium / low
    risk_top10 INTEGER NOT NULL DEFAULT 0,
    expansion_candidate INTEGER NOT NULL DEFAULT 0,
    last_touch_at TEXT,
    scored_at TEXT
);
CREATE INDEX accounts_name ON accounts(name COLLATE NOCASE);
CREATE INDEX accounts_renewal ON accounts(renewal_date);
CREATE INDEX accounts_band ON accounts(health_band, health_score);
CREATE INDEX accounts_score ON accounts(health_score);
CREATE INDEX accounts_owner ON accounts(owner);
CREATE INDEX accounts_arr ON accounts(arr);
CREATE INDEX accounts_tier ON accounts(tier);
CREATE INDEX accounts_segment ON accounts(segment);
CREATE INDEX accounts_churn ON accounts(churn_prob);
CREATE INDEX accounts_touch ON accounts(last_touch_at);
CREATE INDEX accounts_status ON accounts(status);

-- substring ("fuzzy") search over names and ids without scanning the table
CREATE VIRTUAL TABLE accounts_fts USING fts5(
    name, id UNINDEXED, content='accounts', content_rowid='rowid', tokenize='trigram'
);
CREATE TRIGGER accounts_fts_ai AFTER INSERT ON accounts BEGIN
    INSERT INTO accounts_fts(rowid, name, id) VALUES (new.rowid, new.name, new.id);
END;
CREATE TRIGGER accounts_fts_ad AFTER DELETE ON accounts BEGIN
    INSERT INTO accounts_fts(accounts_fts, rowid, name, id) VALUES ('delete', old.rowid, old.name, old.id);
END;
CREATE TRIGGER accounts_fts_au AFTER UPDATE OF name ON accounts BEGIN
    INSERT INTO accounts_fts(accounts_fts, rowid, name, id) VALUES ('delete', old.rowid, old.name, old.id);
    INSERT INTO accounts_fts(rowid, name, id) VALUES (new.rowid, new.name, new.id);
END;

CREATE TABLE contacts (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    email TEXT,
    title TEXT,
    role TEXT NOT NULL DEFAULT 'user',      -- champion / sponsor / user / admin
    sentiment TEXT,                         -- positive / neutral / negative
    active INTEGER NOT NULL DEFAULT 1,
    left_on TEXT
);
CREATE INDEX contacts_account ON contacts(account_id, role);

CREATE TABLE usage (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    date TEXT NOT NULL,
    seats INTEGER,
    active_users INTEGER,
    dau REAL,
    mau REAL,
    logins INTEGER,
    features_used INTEGER,
    features_total INTEGER,
    PRIMARY KEY (account_id, date)
) WITHOUT ROWID;
CREATE INDEX usage_date ON usage(date);

CREATE TABLE tickets (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    subject TEXT,
    opened_at TEXT NOT NULL,
    severity INTEGER NOT NULL DEFAULT 3 CHECK (severity BETWEEN 1 AND 4),
    status TEXT NOT NULL DEFAULT 'open',    -- open / pending / solved / closed
    first_response_at TEXT,
    resolved_at TEXT
);
CREATE INDEX tickets_account ON tickets(account_id, opened_at);

CREATE TABLE responses (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    contact_id TEXT REFERENCES contacts(id) ON DELETE SET NULL,
    date TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'nps' CHECK (kind IN ('nps', 'csat')),
    score REAL NOT NULL,
    comment TEXT,
    CHECK ((kind = 'nps' AND score BETWEEN 0 AND 10) OR (kind = 'csat' AND score BETWEEN 1 AND 5))
);
CREATE INDEX responses_account ON responses(account_id, kind, date);
CREATE INDEX responses_date ON responses(date);

CREATE TABLE events (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('call', 'meeting', 'email', 'note', 'qbr', 'system')),
    text TEXT NOT NULL DEFAULT '',
    author TEXT
);
CREATE INDEX events_account ON events(account_id, at);

CREATE TABLE renewals (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    due_date TEXT NOT NULL,
    arr_before REAL NOT NULL DEFAULT 0 CHECK (arr_before >= 0),
    arr_after REAL CHECK (arr_after IS NULL OR arr_after >= 0),
    csm_call TEXT CHECK (csm_call IS NULL OR csm_call IN ('commit', 'likely', 'at_risk', 'lost')),
    outcome TEXT CHECK (outcome IS NULL OR outcome IN ('renewed', 'churned', 'downgraded', 'expanded')),
    closed_on TEXT
);
CREATE INDEX renewals_account ON renewals(account_id, due_date);
CREATE INDEX renewals_due ON renewals(due_date);

CREATE TABLE health (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    date TEXT NOT NULL,
    score REAL,
    band TEXT NOT NULL,
    usage REAL,
    engagement REAL,
    outcomes REAL,
    sentiment REAL,
    churn_prob REAL,
    explain TEXT,                           -- JSON: per-measure raw, value, weight, points
    PRIMARY KEY (account_id, date)
) WITHOUT ROWID;
CREATE INDEX health_date ON health(date);

CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    rule TEXT NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN ('high', 'medium', 'low')),
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'snoozed', 'done')),
    fired_at TEXT NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}',      -- JSON: the values that triggered it
    closed_at TEXT,
    close_reason TEXT,
    snoozed_until TEXT,
    snooze_reason TEXT,
    condition_cleared INTEGER NOT NULL DEFAULT 0  -- a done alert may re-fire once this is 1
);
CREATE UNIQUE INDEX alerts_one_live ON alerts(account_id, rule) WHERE status != 'done';
CREATE INDEX alerts_status ON alerts(status, severity);
CREATE INDEX alerts_account ON alerts(account_id, rule, fired_at);

CREATE TABLE playbooks (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    reason TEXT                              -- the save-plan reason it answers, if any
);
CREATE TABLE playbook_steps (
    playbook_id TEXT NOT NULL REFERENCES playbooks(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    title TEXT NOT NULL,
    offset_days INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (playbook_id, position)
);

CREATE TABLE save_plans (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    alert_id INTEGER REFERENCES alerts(id) ON DELETE SET NULL,
    risk_level TEXT NOT NULL CHECK (risk_level IN ('high', 'medium', 'low')),
    reasons TEXT NOT NULL DEFAULT '[]',     -- JSON list
    owner TEXT,
    sponsor TEXT,
    target_date TEXT,
    success_criteria TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'saved', 'lost')),
    created_at TEXT NOT NULL,
    closed_at TEXT,
    lessons TEXT
);
CREATE INDEX save_plans_account ON save_plans(account_id, status);

CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    due_date TEXT,
    done INTEGER NOT NULL DEFAULT 0,
    done_at TEXT,
    playbook_id TEXT REFERENCES playbooks(id) ON DELETE SET NULL,
    save_plan_id TEXT REFERENCES save_plans(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL
);
CREATE INDEX tasks_account ON tasks(account_id, done, due_date);
CREATE INDEX tasks_due ON tasks(done, due_date);

CREATE TABLE objectives (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    baseline REAL,
    target REAL,
    current REAL,
    unit TEXT,
    due_date TEXT,
    status TEXT NOT NULL DEFAULT 'on_track' CHECK (status IN ('on_track', 'at_risk', 'off_track', 'done'))
);
CREATE INDEX objectives_account ON objectives(account_id);
"""

V2 = """
-- the portfolio's default order (worst band first, soonest renewal), read a window at a time
-- and its per-band counts answered from the index alone
CREATE INDEX accounts_priority ON accounts(status, health_band, renewal_date);
"""


def _facts_triggers() -> str:
    """Triggers that drop an account's cached scoring facts whenever anything they are computed
    from changes, whoever writes (csm, an import, or another tool on the same file)."""
    out = []
    for table in ("usage", "tickets", "events", "responses", "contacts", "objectives", "renewals"):
        out.append(f"""
CREATE TRIGGER {table}_facts_ai AFTER INSERT ON {table} BEGIN
    DELETE FROM score_facts WHERE account_id = new.account_id;
END;
CREATE TRIGGER {table}_facts_ad AFTER DELETE ON {table} BEGIN
    DELETE FROM score_facts WHERE account_id = old.account_id;
END;
CREATE TRIGGER {table}_facts_au AFTER UPDATE ON {table} BEGIN
    DELETE FROM score_facts WHERE account_id IN (old.account_id, new.account_id);
END;""")
    columns = ", ".join(ACCOUNT_INPUT_COLUMNS)
    out.append(f"""
CREATE TRIGGER accounts_facts_ai AFTER INSERT ON accounts BEGIN
    -- also INSERT OR REPLACE, whose implicit delete fires no trigger by default
    DELETE FROM score_facts WHERE account_id = new.id;
END;
CREATE TRIGGER accounts_facts_ad AFTER DELETE ON accounts BEGIN
    DELETE FROM score_facts WHERE account_id = old.id;
END;
CREATE TRIGGER accounts_facts_au AFTER UPDATE OF {columns} ON accounts BEGIN
    DELETE FROM score_facts WHERE account_id IN (old.id, new.id);
END;""")
    return "\n".join(out)


#: The account columns scores and churn features are computed from (not the score columns the
#: engine writes): changing one marks the account for a fresh computation.
ACCOUNT_INPUT_COLUMNS = (
    "id", "segment", "tier", "owner", "industry", "arr", "plan", "stage", "start_date",
    "renewal_date", "status", "seats", "onboarding_pct", "activated_on", "sponsor_engaged",
    "open_escalations", "custom",
)  # fmt: skip

V3 = """
-- Each account's history aggregates as of a date (usage, tickets, touches, survey answers,
-- stakeholders), kept so the daily full rescore reads one row per account instead of every
-- history row. A row is valid from as_of until valid_until (when a ticket leaves a window, a
-- dated row comes into view...); the triggers drop it when the account's data changes.
CREATE TABLE score_facts (
    account_id TEXT PRIMARY KEY,
    as_of TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    numbers BLOB NOT NULL,                  -- float64 values, in measures.CACHED_NUMBERS order
    texts TEXT NOT NULL                     -- unit-separated, in measures.CACHED_TEXTS order
) WITHOUT ROWID;
-- rows dated in the future (they come into view on their date), found without a scan
CREATE INDEX tickets_opened ON tickets(opened_at);
CREATE INDEX events_at ON events(at);
""" + _facts_triggers()

#: The score columns the engine writes (see `scoring.book_frame`).
SCORE_COLUMNS = (
    "health_score", "health_band", "health_delta_7", "health_delta_30", "churn_prob",
    "risk_segment", "risk_top10", "expansion_candidate", "last_touch_at",
)  # fmt: skip

V4 = f"""
-- The whole book's scoring inputs, one blob per column, written by each full rescore so the
-- next reads a few dozen blobs instead of a million rows (scoring/book_frame.py), and the
-- accounts changed since, which it reads again.
CREATE TABLE score_frame (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,                     -- f8, or codes into labels (see book_frame)
    data BLOB NOT NULL,
    labels BLOB
);
CREATE TABLE score_dirty (account_id TEXT PRIMARY KEY) WITHOUT ROWID;
-- every data trigger of v3 drops the account's cached facts: that marks it changed
CREATE TRIGGER score_facts_dirty AFTER DELETE ON score_facts BEGIN
    INSERT OR IGNORE INTO score_dirty (account_id) VALUES (old.account_id);
END;
CREATE TRIGGER score_facts_dirty_au AFTER UPDATE ON score_facts BEGIN
    INSERT OR IGNORE INTO score_dirty (account_id) VALUES (old.account_id), (new.account_id);
END;
-- a renamed account keeps its rowid: read it again under its new id
CREATE TRIGGER accounts_id_dirty AFTER UPDATE OF id ON accounts BEGIN
    INSERT OR IGNORE INTO score_dirty (account_id) VALUES (old.id), (new.id);
END;
-- score columns written by anyone but the full rescore itself (csm edits, imports, other
-- tools): the full rescore lifts this trigger while it writes them (`lifted_trigger`)
CREATE TRIGGER accounts_scores_dirty AFTER UPDATE OF {", ".join(SCORE_COLUMNS)} ON accounts
BEGIN
    INSERT OR IGNORE INTO score_dirty (account_id) VALUES (new.id);
END;
"""

V5 = """
-- The full rescore's daily snapshot of the whole book, column-wise (storage/history.py): a
-- day is blocks of accounts in id order, appended at the table's end, instead of a million
-- rows inserted into an index ordered by account. A `health` row overrides the block snapshot
-- of its account and day (an edit's rescore, an imported snapshot).
CREATE TABLE health_days (
    date TEXT PRIMARY KEY,
    measures TEXT NOT NULL                  -- JSON list: the measures whose points blocks keep
);
CREATE TABLE health_blocks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,   -- never reused: a rewritten day gets higher ids
    date TEXT NOT NULL REFERENCES health_days(date) ON DELETE CASCADE,
    first_id TEXT NOT NULL,                 -- the block's first account id (ids are sorted)
    ids TEXT NOT NULL,                      -- JSON list of account ids
    bands BLOB NOT NULL,                    -- uint8 codes into history.BANDS
    data BLOB NOT NULL,                     -- float32 [ids × (values, points)], NaN = none
    UNIQUE (date, first_id)
);
-- a deleted account's snapshots in the blocks that existed then (ids up to `through_block`)
-- are not the history of an account created later with its id
CREATE TABLE health_erased (
    account_id TEXT PRIMARY KEY,
    through_block INTEGER NOT NULL
) WITHOUT ROWID;
-- when each history query's cached columns expire (facts_cache.GROUPS order, unit-separated):
-- a ticket leaving a window re-runs the tickets query only, not all seven
ALTER TABLE score_facts ADD COLUMN group_until TEXT;
CREATE TRIGGER accounts_history_erased AFTER DELETE ON accounts BEGIN
    INSERT OR REPLACE INTO health_erased (account_id, through_block)
    SELECT old.id, max(id) FROM health_blocks HAVING max(id) IS NOT NULL;
END;
"""

V6 = """
-- One index over the health score instead of two. The full rescore changes ~44 % of a
-- million scores every day (days-since measures move), and each index holding health_score
-- costs a delete and an insert per change. Status first: the portfolio shows active accounts
-- by default, so sorting them by health reads this index in order, with the band in it for
-- band filters (red + yellow by health included) and no table reads to skip other bands.
DROP INDEX accounts_band;
DROP INDEX accounts_score;
CREATE INDEX accounts_health ON accounts(status, health_score, health_band);
-- The live alerts whose condition cleared (a few thousand of ~800k at 1M): the full rescore
-- finds those that fired again without reading every alert's detail.
CREATE INDEX alerts_cleared_live ON alerts(id)
    WHERE status != 'done' AND json_extract(detail, '$.condition_cleared_on') IS NOT NULL;
"""

V7 = """
-- Tickets by account with every column the health and churn queries read: the account's
-- tickets come from the index alone, with no row lookup per ticket (the whole book's tickets
-- query at 1M accounts, 2M tickets: 7.8 s -> 3.3 s; the daily refresh of expiring accounts
-- reads ~1/3 less). Same name and leading columns: every plan that used it still does.
DROP INDEX tickets_account;
CREATE INDEX tickets_account
    ON tickets(account_id, opened_at, severity, status, resolved_at, first_response_at);
"""


_REALIGN_HEALTH = (
    """DELETE FROM account_health WHERE NOT EXISTS
        (SELECT 1 FROM accounts a WHERE a.rowid = account_health.account_rowid)""",
    """INSERT INTO account_health (account_rowid, sort_status, sort_band)
        SELECT rowid, status, health_band FROM accounts a WHERE NOT EXISTS
        (SELECT 1 FROM account_health h WHERE h.account_rowid = a.rowid)""",
    """UPDATE account_health AS h SET sort_status = a.status, sort_band = a.health_band
        FROM accounts a WHERE a.rowid = h.account_rowid
        AND (h.sort_status IS NOT a.status OR h.sort_band IS NOT a.health_band)""",
)


def realign_account_health(conn: sqlite3.Connection) -> int:
    """Give every account exactly one `account_health` row with its status and band, whatever
    wrote the file (rowids renumbered with no trigger, triggers dropped by another tool);
    return how many rows changed. Scores a row kept from another account are corrected by the
    full rescore that follows (it compares every account's new scores with the stored)."""
    before = conn.total_changes
    for statement in _REALIGN_HEALTH:
        conn.execute(statement)
    return conn.total_changes - before


@contextmanager
def lifted_trigger(conn: sqlite3.Connection, name: str) -> Iterator[None]:
    """Inside the caller's write transaction: drop trigger `name`, then create it again from
    its stored definition (atomic with the transaction: a rollback or a crash keeps it).
    For bulk writes that account for the trigger's effect themselves: a trigger's per-row
    program costs more than the row update it follows."""
    row = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (name,)
    ).fetchone()
    if row is None:
        yield
        return
    conn.execute(f'DROP TRIGGER "{name}"')
    yield
    conn.execute(row[0])


#: The current scores that live in `account_health` (v8), not on `accounts`.
HEALTH_COLUMNS = ("health_score", "health_delta_7", "health_delta_30")
#: The current scores still on `accounts` (v8).
ACCOUNT_SCORE_COLUMNS = tuple(c for c in SCORE_COLUMNS if c not in HEALTH_COLUMNS)

V8 = f"""
-- The scores that move every day in their own narrow table. A new day moves ~44 % of a
-- million health scores (days-since measures); on the wide accounts rows (~16 to a page)
-- that rewrote nearly every page of the table, ~300 MB of WAL and ~4 s a day at 1M, where
-- this table's ~80 rows a page take ~85 MB and ~1.5 s. Keyed by the account's rowid (the
-- rowid `accounts_fts` keys on too); status and band are copies, kept by triggers, so the
-- portfolio's health order (active accounts by score, band filters) reads this index alone.
DROP TRIGGER accounts_scores_dirty;
DROP INDEX accounts_health;
CREATE TABLE account_health (
    account_rowid INTEGER PRIMARY KEY,      -- accounts.rowid
    sort_status TEXT NOT NULL,              -- accounts.status (copy)
    sort_band TEXT,                         -- accounts.health_band (copy)
    health_score REAL,
    health_delta_7 REAL,
    health_delta_30 REAL,
    scored_at TEXT
);
INSERT INTO account_health
    SELECT rowid, status, health_band, health_score, health_delta_7, health_delta_30, scored_at
    FROM accounts;
ALTER TABLE accounts DROP COLUMN health_score;
ALTER TABLE accounts DROP COLUMN health_delta_7;
ALTER TABLE accounts DROP COLUMN health_delta_30;
ALTER TABLE accounts DROP COLUMN scored_at;
CREATE INDEX account_health_order ON account_health(sort_status, health_score, sort_band);
CREATE TRIGGER accounts_health_ai AFTER INSERT ON accounts BEGIN
    INSERT OR REPLACE INTO account_health (account_rowid, sort_status, sort_band)
    VALUES (new.rowid, new.status, new.health_band);
END;
CREATE TRIGGER accounts_health_au AFTER UPDATE OF status, health_band ON accounts BEGIN
    UPDATE account_health SET sort_status = new.status, sort_band = new.health_band
    WHERE account_rowid = new.rowid;
END;
CREATE TRIGGER accounts_health_ad AFTER DELETE ON accounts BEGIN
    DELETE FROM account_health WHERE account_rowid = old.rowid;
END;
-- score columns written by anyone but the full rescore itself (see v4): both tables
CREATE TRIGGER accounts_scores_dirty
AFTER UPDATE OF {", ".join(ACCOUNT_SCORE_COLUMNS)} ON accounts BEGIN
    INSERT OR IGNORE INTO score_dirty (account_id) VALUES (new.id);
END;
CREATE TRIGGER account_health_dirty AFTER UPDATE OF {", ".join(HEALTH_COLUMNS)} ON account_health
BEGIN
    INSERT OR IGNORE INTO score_dirty (account_id)
    SELECT id FROM accounts WHERE rowid = new.account_rowid;
END;
-- an account with every current score, for readers (the scoring engine writes the tables)
-- (`sort_*`: what the health order filters and orders on, see `service/portfolio.py`)
CREATE VIEW scored_accounts AS
    SELECT a.rowid AS rowid, a.*, h.health_score, h.health_delta_7, h.health_delta_30,
           h.scored_at, h.sort_status, h.sort_band, h.account_rowid AS sort_rowid
    FROM accounts a LEFT JOIN account_health h ON h.account_rowid = a.rowid;
"""


#: Ordered migrations: MIGRATIONS[i] takes a file from user_version i to i + 1.
MIGRATIONS: list[str] = [V1, V2, V3, V4, V5, V6, V7, V8]
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(book) -> int:
    """Bring the book's schema to SCHEMA_VERSION in one transaction; return the version."""
    version = int(book.scalar("PRAGMA user_version") or 0)
    if version > SCHEMA_VERSION:
        raise DatabaseError(
            f"{book.path}: this book was written by a newer csm (schema v{version}; this csm "
            f"{__version__} knows up to v{SCHEMA_VERSION}). Upgrade csm to open it."
        )
    if version == SCHEMA_VERSION:
        return version
    with book.write(durable=True) as conn:
        for step in range(version, SCHEMA_VERSION):
            for statement in _statements(MIGRATIONS[step]):
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        from csm_tui.storage.playbooks import install_shipped_playbooks

        install_shipped_playbooks(conn)  # new templates of this version; user edits kept
        conn.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_written_by', ?)",
            (__version__,),
        )
    return SCHEMA_VERSION


def _statements(script: str) -> list[str]:
    """Split a DDL script into statements (triggers contain inner semicolons)."""
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        if line.strip().startswith("--") and not buf.strip():
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out
