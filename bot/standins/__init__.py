"""Local stand-ins of the platforms' web APIs (loopback only)."""
