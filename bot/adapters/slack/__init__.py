"""Slack adapter: block_actions -> ClinicianAction, outbox row -> Web API call, via slack-bolt and slack_sdk."""
