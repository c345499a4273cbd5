"""Scoring: the explainable health score, alert rules, churn model and portfolio metrics.

No Textual here. The engine (`engine.py`) is the one entry point that writes scores.
"""
