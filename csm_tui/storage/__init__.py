"""The book's SQLite store: schema, migrations, transactions, import/export. No Textual here."""
