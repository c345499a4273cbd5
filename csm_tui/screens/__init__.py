"""screens: see docs/ARCHITECTURE.md."""
