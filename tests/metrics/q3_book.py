"""A hand-made book whose 2026-Q3 metrics are worked out by hand in test_metrics.py
(also used by the dashboard's Pilot tests)."""

from __future__ import annotations

from tests.metrics.builder import (
    add_account,
    add_contact,
    add_health,
    add_renewal,
    add_response,
    add_save_plan,
)


def build_q3_book(conn) -> None:
    """Ten accounts with renewals, responses, save plans and health around 2026-Q3."""
    add_account(conn, "A1", "Alpha", segment="Enterprise", tier="Strategic", owner="ana",
                arr=120000, start_date="2024-01-15")  # fmt: skip
    add_renewal(conn, "A1", "2026-07-15", 100000, 120000, "expanded", "2026-07-10")
    add_account(conn, "A2", "Bravo", segment="Mid-Market", tier="Core", owner="ben",
                arr=40000, start_date="2024-08-01")  # fmt: skip
    add_renewal(conn, "A2", "2026-08-01", 50000, 40000, "downgraded", "2026-08-05")
    add_account(conn, "A3", "Charlie", segment="SMB", tier="Scale", owner="ana",
                arr=30000, start_date="2025-09-10", status="churned")  # fmt: skip
    add_renewal(conn, "A3", "2026-09-10", 30000, None, "churned", "2026-09-01")
    add_account(conn, "A4", "Delta", segment="SMB", tier="Scale", owner="ben",
                arr=20000, start_date="2025-09-20", activated_on="2025-10-30")  # fmt: skip
    add_renewal(conn, "A4", "2026-09-20", 20000, 20000, "renewed", "2026-09-20")
    add_account(conn, "A5", "Echo", segment="Mid-Market", owner="ana", arr=10000,
                start_date="2026-08-01", activated_on="2026-08-21")  # fmt: skip
    # Foxtrot churned in 2025 and came back with a new contract (new start date).
    add_account(conn, "A6", "Foxtrot", segment="Enterprise", owner="ben", arr=15000,
                start_date="2025-06-01")  # fmt: skip
    add_renewal(conn, "A6", "2025-03-01", 15000, None, "churned", "2025-03-01")
    # Golf churned in July and came back in September (its start date was reset).
    add_account(conn, "A7", "Golf", segment="SMB", owner="ana", arr=25000,
                start_date="2026-09-01", activated_on="2026-09-15")  # fmt: skip
    add_renewal(conn, "A7", "2025-07-20", 25000, 25000, "renewed", "2025-07-01")
    add_renewal(conn, "A7", "2026-07-20", 25000, None, "churned", "2026-07-20")
    add_account(conn, "A8", "Hotel", segment="SMB", owner="ben", arr=12000,
                start_date="2023-01-01", status="churned")  # fmt: skip
    add_renewal(conn, "A8", "2026-01-15", 12000, None, "churned", "2026-01-10")
    add_account(conn, "A9", "India", segment="Enterprise", owner="ana", arr=40000,
                start_date="2024-02-01")  # fmt: skip
    add_renewal(conn, "A9", "2026-09-28", 40000)  # past due, still undecided
    add_account(conn, "A10", "Juliet", segment="Mid-Market", owner="ben", arr=8000,
                start_date="2024-03-01")  # fmt: skip
    add_renewal(conn, "A10", "2026-10-05", 8000, 8000, "renewed", "2026-10-01")
    _responses(conn)
    _plans_and_health(conn)


def _responses(conn) -> None:
    add_contact(conn, "C1", "A1", "Ada Lee", role="champion")
    add_contact(conn, "C2", "A2", "Bo Chan", role="sponsor")
    add_contact(conn, "C3", "A4", "Cy Diaz")
    add_response(conn, "A1", "2026-07-05", 6, contact_id="C1")
    add_response(conn, "A1", "2026-08-20", 10, contact_id="C1")  # C1's latest: promoter
    add_response(conn, "A2", "2026-09-01", 7, contact_id="C2")  # passive
    add_response(conn, "A2", "2026-10-02", 0, contact_id="C2")  # after Q3: ignored
    add_response(conn, "A3", "2026-07-10", 9)
    add_response(conn, "A3", "2026-09-05", 3)  # A3 without contact, latest: detractor
    add_response(conn, "A4", "2026-08-15", 9)  # A4 without contact: promoter
    add_response(conn, "A4", "2026-08-16", 10, contact_id="C3")  # promoter
    add_response(conn, "A1", "2026-07-02", 5, kind="csat")
    add_response(conn, "A2", "2026-08-02", 3, kind="csat")
    add_response(conn, "A4", "2026-09-02", 4, kind="csat")


def _plans_and_health(conn) -> None:
    add_save_plan(conn, "A2", "saved", "2026-08-10T10:00:00")
    add_save_plan(conn, "A3", "lost", "2026-09-02T10:00:00")
    add_save_plan(conn, "A7", "saved", "2026-10-01T10:00:00")  # after Q3
    add_save_plan(conn, "A9", "open")
    add_health(conn, "A1", "2026-07-01", 80, "green")
    add_health(conn, "A1", "2026-07-20", 82, "green")
    add_health(conn, "A2", "2026-07-25", 55, "yellow")
    add_health(conn, "A3", "2026-09-09", 40, "red")
    add_health(conn, "A7", "2026-07-20", 30, "red")
    add_health(conn, "A9", "2026-09-01", 60, "yellow")
