"""The calls the UI and CLI make: queries shaped for screens, and edits (write → rescore →
return what changed). No Textual here; screens never write SQL themselves."""
