"""Adapters: translate between the core and the outside world (chat platforms, files, formats)."""
