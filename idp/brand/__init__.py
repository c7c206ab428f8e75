"""The brand: how Gatehouse presents itself (name, logo, favicon, accent colour, footer links,
mail sender and subjects). `settings` validates and caches the values, `colors` keeps the
accent readable in both themes, `files` checks and stores the uploads, `routes` serves them."""
