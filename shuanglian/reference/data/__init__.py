"""Reference tables shipped with the package (see PROVENANCE.md beside them).

A regular package so that `importlib.resources` finds the files in a wheel and in an editable
install alike.
"""
