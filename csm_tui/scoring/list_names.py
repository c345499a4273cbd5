"""The names of the account lists (kept apart from lists.py so screens can title a list
without importing pandas on the UI thread)."""

from __future__ import annotations

#: Lists a user can open by name (palette, dashboard keys, `AccountListScreen.for_list`).
LIST_TITLES = {
    "expansion": "Expansion candidates",
    "advocacy": "Advocacy candidates (case studies)",
    "onboarding": "Onboarding pipeline",
    "renewals90": "Renewals in the next 90 days",
    "nps_segment": "NPS by segment",
    "at_risk": "Red and yellow accounts",
}
