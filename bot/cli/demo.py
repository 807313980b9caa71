"""`carebridge demo`: show CareBridge offline on the embedded defaults."""

from __future__ import annotations

from bot.cli.common import catalog, console
from bot.cli.instruments import instruments_table, patient_view
from bot.instruments import score

EXAMPLES = (
    ("phq9", {"q1": 2, "q2": 2, "q3": 1, "q4": 2, "q5": 1, "q6": 1, "q7": 2, "q8": 0, "q9": 1, "difficulty": 1}, None),
    ("gad7", {"q1": 1, "q2": 1, "q3": 0, "q4": 1, "q5": 0, "q6": 1, "q7": 0}, None),
    ("auditc", {"q1": 2, "q2": 1, "q3": 0}, "female"),
)


def demo() -> None:
    """Run an offline tour: the instruments, one as a patient sees it, and scored examples."""
    known = catalog()
    console.print(instruments_table(known))
    console.print("\n[bold]PHQ-2 as a patient sees it[/bold]\n")
    for block in patient_view(known["phq2"], "en"):
        console.print(block, markup=False, highlight=False)
        console.print()
    console.print("[bold]Scored examples[/bold]")
    for instrument_id, answers, sex in EXAMPLES:
        result = score(known[instrument_id], answers, sex)
        console.print(
            f"{known[instrument_id].short_title}: total {result.total}, band {result.band or '—'}, "
            f"positive {'yes' if result.positive else 'no'}, flags {', '.join(result.flags) or '—'}"
        )

