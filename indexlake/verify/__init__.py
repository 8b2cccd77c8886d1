"""Shadow calculation: recompute published strategies with independent engines.

``bt`` and ``vectorbt`` rebuild the levels and drifted weights, ``ffn`` the single-cap rule, and
plain pandas/scipy code the calendar, eligibility, selection, target weights and each day's
price or total return (see run.LEGEND). The peer engines are imported only when a strategy is
verified.
"""
