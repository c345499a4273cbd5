"""Markdown reports written from the book's data: QBR, success plan, portfolio summary.

    from csm_tui.reports.qbr import write_qbr                  # (book, account_id, path)
    from csm_tui.reports.success_plan import write_success_plan
    from csm_tui.reports.portfolio import write_portfolio      # (book, path, period=None)

Every writer returns the path it wrote (mode 0600: it holds customer data). Nothing a report
prints is a placeholder: a missing value is said in words ("not recorded").
"""
