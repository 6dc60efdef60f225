"""The pipeline, one module per stage:

discover → source (read and decode) → prefilter → parse → (project index) → analyses and rules
→ suppress → report. `run.py` wires the stages together.
"""
