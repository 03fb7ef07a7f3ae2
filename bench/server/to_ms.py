#!/usr/bin/env python3
"""Turns a wrk latency ("812.00us", "3.20ms", "1.05s") into milliseconds."""
import sys

v = sys.argv[1] if len(sys.argv) > 1 else ""
for unit, scale in (("us", 1e-3), ("ms", 1.0), ("s", 1e3), ("m", 6e4)):
    if v.endswith(unit):
        try:
            print(f"{float(v[:-len(unit)]) * scale:.2f}")
        except ValueError:
            print(v)
        break
else:
    print(v or "-")
