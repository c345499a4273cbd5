"""forms: see docs/ARCHITECTURE.md."""
