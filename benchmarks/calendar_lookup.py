"""What one `calendar()` lookup costs once the calendar is built: a quote asks for one about
27 times (every service of the demo brand), so a few hundred nanoseconds each show.

    python -m benchmarks.calendar_lookup
"""

from __future__ import annotations

import timeit

from shipflow.calendars import calendar

WEEKDAYS = frozenset(range(5))
ASKS = {
    "national (US)": (WEEKDAYS, "US"),
    "a state the package knows (US, NY)": (WEEKDAYS, "US", "NY"),
    "a region it does not (TW, Taipei/Zhongzheng)": (WEEKDAYS, "TW", "Taipei/Zhongzheng"),
}


def main() -> None:
    for label, args in ASKS.items():
        calendar(*args)  # built once, as a server's first quote does
        best = min(timeit.repeat(lambda args=args: calendar(*args), number=200_000, repeat=9))
        print(f"calendar(), {label}: {best / 200_000 * 1e9:.0f} ns a lookup (best of 9)")


if __name__ == "__main__":
    main()
