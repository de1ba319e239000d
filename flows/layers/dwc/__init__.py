"""Stream data-width converter between layers whose PE and next SIMD differ."""
