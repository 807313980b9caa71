"""Conversation and handoff state machines: pure, no I/O."""
