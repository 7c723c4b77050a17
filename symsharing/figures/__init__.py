"""Presentation: figures and tables (``plots``, ``theory_plots``, ``paramspace_plots``), interactive explorers
(``widgets``) and provenance lines (``provenance``). Outside the code hash: editing these modules
never changes a number. May import any wing.
"""
