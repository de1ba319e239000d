"""Top-1 label select: the index of the largest of an image's values (FINN's LabelSelect)."""
