"""Host runtime that ships with every build (numpy only; pynq on a board)."""
