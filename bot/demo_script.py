"""A scripted day at a clinic: who types what, as data the demo replays."""

from __future__ import annotations

# Social needs (AHC HRSN), nothing to report: steady housing, none of the problems, food never
# short, transport and utilities fine, nobody hurts them.
HRSN_NO_NEEDS = ["1", "8", "3", "3", "2", "2", "1", "1", "1", "1"]

# (what the scene shows, console chat id, clinic, replies typed by the patient in order).
# Numbers are the option numbers the patient sees; words are matched too ("Never", "sí").
DAY: list[tuple[str, str, str, list[str]]] = [
    (
        "negative screen",
        "demo-ana",
        "riverside",
        ["I agree", "1", "2", "1", "1", "Never", "Never", "No", *HRSN_NO_NEEDS],
    ),
    (
        "PHQ-2 positive, PHQ-9 moderate, accepts the offer to talk today",
        "demo-ben",
        "riverside",
        ["yes", "3", "3", "3", "4", "3", "back", "2", "3", "2", "2", "1", "2",
         "2", "2", "2", "1", "1", "1", "2", *HRSN_NO_NEEDS, "Yes, connect me"],
    ),
    (
        "PHQ-9 item 9 answered above zero: crisis protocol first, then the screening goes on",
        "demo-cara",
        "lakeview",
        ["sí", "3", "4", "3", "3", "2", "2", "3", "2", "2", "no", "3",
         "3", "3", "2", "3", "2", "2", "1", "2", "1", "1", "2", *HRSN_NO_NEEDS],
    ),
]
