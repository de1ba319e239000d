"""Stream reshape: a flatten between layers. Streams carry elements in row-major order, so
it costs nothing in hardware (the codegen passes the stream through)."""
