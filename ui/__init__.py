"""Small shared widgets for the console pages. Pages import from the modules directly."""
