"""Infrastructure every feature uses: settings, database, logs, metrics, HTTP helpers, mail,
events and the options of plug-in types."""
