"""Domain vocabulary shared by the flows, the services and the adapters: events and effects."""
