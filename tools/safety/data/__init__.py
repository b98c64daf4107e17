"""Name lists for tools.safety.names (a package only so the .txt files ship in the wheel)."""
