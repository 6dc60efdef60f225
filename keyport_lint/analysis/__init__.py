"""Shared analyses: computed once per file (FileContext.analysis) and used by several rules."""
