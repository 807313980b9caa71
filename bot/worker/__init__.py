"""The worker: delivers the outbox within the platforms' limits and fires due timers."""
