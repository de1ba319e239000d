"""Brevitas model zoo, data loading and training for bitfab."""
